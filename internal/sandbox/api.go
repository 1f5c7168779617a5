package sandbox

import (
	"fmt"
	"hash/fnv"
	"html"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// APIHandler serves the platform APIs, relative to wherever it is mounted:
//
//	{mount}/graph/…     Graph API + WhatsApp Cloud API   (META_GRAPH_URL = {origin}{mount}/graph)
//	{mount}/line/…      LINE Messaging API + LINE Login  (LINE_API_URL   = {origin}{mount}/line)
//	{mount}/pictures/…  SVG avatars the APIs link to
//
// Mount it with http.StripPrefix; absolute URLs it returns (paging.next, pictures) are built
// from the request's Host and original RequestURI, so they point back through the mount.
func (w *World) APIHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/graph/", http.StripPrefix("/graph", http.HandlerFunc(w.serveGraph)))
	mux.Handle("/line/", http.StripPrefix("/line", http.HandlerFunc(w.serveLINE)))
	mux.HandleFunc("GET /pictures/{file}", w.servePicture)
	return mux
}

// pause applies Options.Latency; false means the client went away meanwhile.
func (w *World) pause(r *http.Request) bool {
	if w.latency <= 0 {
		return true
	}
	n := w.inFlight.Add(1)
	defer w.inFlight.Add(-1)
	for p := w.peakInFlight.Load(); n > p && !w.peakInFlight.CompareAndSwap(p, n); p = w.peakInFlight.Load() {
	}
	t := time.NewTimer(w.latency)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// hang simulates a platform that does not answer: it waits until the client gives up or
// HangLimit passes. It reports whether the request is still there to be answered.
func (w *World) hang(r *http.Request) bool {
	t := time.NewTimer(w.hangLimit)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// mountRoot returns the path prefix in front of /graph or /line for this request.
func mountRoot(r *http.Request) string {
	orig := r.URL.Path
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		orig = u.Path
	}
	root := strings.TrimSuffix(orig, r.URL.Path)
	for _, s := range []string{"/graph", "/line"} {
		root = strings.TrimSuffix(root, s)
	}
	return root
}

func pictureURL(r *http.Request, id, name string) string {
	return requestOrigin(r) + mountRoot(r) + "/pictures/" + url.PathEscape(id) + ".svg?" + url.Values{"name": {name}}.Encode()
}

// pictureObject is Graph's picture field: {"data":{url,width,height,is_silhouette}}.
func pictureObject(r *http.Request, id, name string) map[string]any {
	return map[string]any{"data": map[string]any{"url": pictureURL(r, id, name), "width": 50, "height": 50, "is_silhouette": false}}
}

// servePicture draws an avatar: the first letter of the name on a colour derived from the id,
// so pictures work offline and tell accounts apart.
func (w *World) servePicture(rw http.ResponseWriter, r *http.Request) {
	id := strings.TrimSuffix(r.PathValue("file"), ".svg")
	name := r.URL.Query().Get("name")
	initial, _ := utf8.DecodeRuneInString(name)
	if initial == utf8.RuneError {
		initial = '?'
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	hue := h.Sum32() % 360
	rw.Header().Set("Content-Type", "image/svg+xml")
	rw.Header().Set("Cache-Control", "public, max-age=86400")
	fmt.Fprintf(rw, `<svg xmlns="http://www.w3.org/2000/svg" width="160" height="160" viewBox="0 0 160 160">`+
		`<rect width="160" height="160" fill="hsl(%d,55%%,55%%)"/>`+
		`<text x="80" y="104" font-size="72" text-anchor="middle" fill="#fff" font-family="sans-serif">%s</text></svg>`,
		hue, html.EscapeString(string(initial)))
}
