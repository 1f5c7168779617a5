package testutil

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// recorder stands in for a test so the helpers' own failures can be asserted.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	failures []string
}

var errStopped = errors.New("test stopped")

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(errStopped)
}

// run calls f and reports the failures it caused.
func (r *recorder) run(f func()) (failures []string) {
	r.mu.Lock()
	r.failures = nil
	r.mu.Unlock()
	func() {
		defer func() {
			if p := recover(); p != nil && p != errStopped {
				panic(p)
			}
		}()
		f()
	}()
	return r.failures
}

// site serves fixed pages and records what forms post to it.
type site struct {
	pages map[string]string
	mu    sync.Mutex
	posts []*http.Request
	forms []url.Values
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		_ = r.ParseForm()
		s.mu.Lock()
		s.posts, s.forms = append(s.posts, r), append(s.forms, r.PostForm)
		s.mu.Unlock()
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	page, ok := s.pages[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, page)
}

func newSiteClient(t *testing.T, pages map[string]string, posts ...string) (*Client, *recorder, *site) {
	s := &site{pages: pages}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	rec := &recorder{TB: t}
	jar, _ := cookiejar.New(nil)
	c := &Client{t: rec, base: srv.URL, HTTP: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		routes: func(method, path string) bool {
			if method == http.MethodGet {
				_, ok := pages[path]
				return ok
			}
			for _, p := range posts {
				if p == path {
					return true
				}
			}
			return false
		}}
	return c, rec, s
}

const formPage = `<!DOCTYPE html><html lang="zh-TW"><body>
<form method="post" id="everything" action="../save">
  <input type="hidden" name="_csrf" value="tok&amp;en">
  <input name="name" value="小熊">
  <input type="password" name="secret">
  <input type="checkbox" name="pick" value="a" checked>
  <input type="checkbox" name="pick" value="b">
  <input type="checkbox" name="pick" value="c" checked disabled>
  <input type="radio" name="size" value="s">
  <input type="radio" name="size" value="m" checked>
  <select name="role"><option value="agent">Agent</option><option value="admin" selected>Admin</option></select>
  <select name="first"><option>one</option><option>two</option></select>
  <textarea name="note">
line</textarea>
  <fieldset disabled><input name="off" value="x"></fieldset>
  <input type="file" name="upload">
  <button type="submit" name="go" value="save" id="save">Save</button>
  <button type="submit" name="go" value="draft" id="draft" formaction="/draft">Draft</button>
</form>
<form method="post" id="nowhere"><input type="hidden" name="_csrf" value="t"><button id="lost">Go</button></form>
<input form="everything" name="outside" value="o">
</body></html>`

func TestFormReadsWhatABrowserSends(t *testing.T) {
	c, rec, s := newSiteClient(t, map[string]string{"/app/edit": formPage}, "/save", "/draft")
	var page *Response
	if f := rec.run(func() { page = c.Get("/app/edit") }); len(f) > 0 {
		t.Fatalf("fetching the page failed the test: %v", f)
	}
	form := page.Form("#everything")
	if form.Method() != http.MethodPost || !strings.HasSuffix(form.Action(), "/save") {
		t.Fatalf("method %s action %s, want POST …/save (resolved against /app/edit)", form.Method(), form.Action())
	}
	want := url.Values{"_csrf": {"tok&en"}, "name": {"小熊"}, "secret": {""}, "pick": {"a"}, "size": {"m"}, "role": {"admin"},
		"first": {"one"}, "note": {"line"}, "outside": {"o"}}
	if got := form.Values(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("values:\n got %v\nwant %v", got, want)
	}
	// The pressed button is sent and its formaction wins.
	if f := rec.run(func() { page.Form("#draft").Set("name", "熊").Check("pick", "b").Submit() }); len(f) > 0 {
		t.Fatalf("submit: %v", f)
	}
	last := s.forms[len(s.forms)-1]
	if s.posts[len(s.posts)-1].URL.Path != "/draft" || last.Get("go") != "draft" || last.Get("name") != "熊" || fmt.Sprint(last["pick"]) != "[a b]" {
		t.Fatalf("posted %s %v", s.posts[len(s.posts)-1].URL.Path, last)
	}
}

func TestFormFailsTheTestWhenABrowserCouldNotDoIt(t *testing.T) {
	c, rec, _ := newSiteClient(t, map[string]string{"/app/edit": formPage}, "/save", "/draft")
	page := c.Get("/app/edit")
	cases := []struct {
		name string
		do   func()
		want string
	}{
		{"no action posts to the page's own URL, which has no POST route", func() { page.Form("#lost").Submit() }, "POST /app/edit, which has no route"},
		{"field the form lacks", func() { page.Form("#everything").Set("nickname", "x") }, `no field "nickname"`},
		{"value a select does not offer", func() { page.Form("#everything").Set("role", "root") }, `does not offer "root"`},
		{"disabled checkbox", func() { page.Form("#everything").Check("pick", "c") }, "disabled"},
		{"hidden field", func() { page.Form("#everything").Set("_csrf", "mine") }, "hidden"},
		{"no such form", func() { page.Form("#missing") }, "no element matching"},
	}
	for _, tc := range cases {
		f := rec.run(tc.do)
		if len(f) == 0 || !strings.Contains(strings.Join(f, "\n"), tc.want) {
			t.Errorf("%s: failures %v, want one containing %q", tc.name, f, tc.want)
		}
	}
	// Forge is the deliberate way to send what a browser would not.
	if f := rec.run(func() { page.Form("#everything").Forge("role", "root").Submit() }); len(f) > 0 {
		t.Errorf("forged submit failed the test: %v", f)
	}
}

func TestEveryPageIsCheckedForRawKeysAndTheOtherLanguage(t *testing.T) {
	pages := map[string]string{
		"/raw":     `<html lang="zh-TW"><body><p>nav.sandbox_note</p></body></html>`,
		"/attr":    `<html lang="zh-TW"><body><form data-confirm="channels.disconnect_confirm"></form></body></html>`,
		"/fine":    `<html lang="zh-TW"><body><p>boss@users.test 寄到 https://x.test/channels.json 與 health.example.com/x <code>nav.sandbox</code></p></body></html>`,
		"/english": `<html lang="en"><body><p>Connected channels</p><p>串接社群通訊渠道</p></body></html>`,
		"/chinese": `<html lang="zh-TW"><body><p>Facebook Login opens in a new tab; when you are done, come back to this tab to choose the accounts.</p></body></html>`,
	}
	c, rec, _ := newSiteClient(t, pages)
	for path, want := range map[string]string{"/raw": `"nav.sandbox_note"`, "/attr": `"channels.disconnect_confirm"`, "/english": "zh-TW phrase", "/chinese": "English phrase"} {
		f := rec.run(func() { c.Get(path) })
		if len(f) == 0 || !strings.Contains(strings.Join(f, "\n"), want) {
			t.Errorf("GET %s: failures %v, want one containing %s", path, f, want)
		}
	}
	if f := rec.run(func() { c.Get("/fine") }); len(f) > 0 {
		t.Errorf("an e-mail address, a URL, a host name or code was taken for a raw key: %v", f)
	}
}
