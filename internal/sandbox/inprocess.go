package sandbox

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
)

// InProcessTransport serves requests with APIHandler directly, without a network. It is for
// code that must reach the emulator before the HTTP server listens (seeding at start-up);
// everything else talks to it over real HTTP. mount is the path the API is served under
// ("/sandbox/api"); requests outside it fail, so a misconfigured base URL is not hidden.
func (w *World) InProcessTransport(mount string) http.RoundTripper {
	mount = "/" + strings.Trim(mount, "/")
	return &inProcess{mount: mount, h: http.StripPrefix(mount, w.APIHandler())}
}

type inProcess struct {
	mount string
	h     http.Handler
}

// RoundTrip hands a server-side copy of the request to the handler and returns what it wrote.
func (t *inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		defer r.Body.Close()
	}
	if !strings.HasPrefix(r.URL.Path, t.mount+"/") {
		return nil, fmt.Errorf("sandbox: %s is outside the in-process mount %s", r.URL.Path, t.mount)
	}
	in := r.Clone(r.Context())
	// The handler rebuilds absolute URLs (paging, pictures) from these, as on a real server.
	in.RequestURI = r.URL.RequestURI()
	in.Host = r.URL.Host
	in.RemoteAddr = "127.0.0.1:0"
	if r.URL.Scheme == "https" {
		in.Header.Set("X-Forwarded-Proto", "https")
	}
	if in.Body == nil {
		in.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, in)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}
