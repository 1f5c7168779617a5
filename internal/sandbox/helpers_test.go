package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const testRedirect = "https://omnilink.test/oauth/meta/callback"

// memStore is a StateStore kept in memory, counting saves.
type memStore struct {
	mu    sync.Mutex
	data  []byte
	saves int
}

func (m *memStore) Load(context.Context) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.data), nil
}

func (m *memStore) Save(_ context.Context, b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data = bytes.Clone(b)
	m.saves++
	return nil
}

func (m *memStore) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.saves
}

// fakeClock lets tests move time forward.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a World served over real HTTP.
type env struct {
	t     *testing.T
	w     *World
	srv   *httptest.Server
	clock *fakeClock
	store *memStore
}

func newEnv(t *testing.T, opts ...func(*Options)) *env {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	store := &memStore{}
	o := Options{AppID: "1234567890", AppSecret: "test-app-secret", Clock: clock.Now, Persist: store}
	for _, f := range opts {
		f(&o)
	}
	w, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(w.APIHandler())
	t.Cleanup(srv.Close)
	// The app is subscribed everywhere, as after connecting, so simulated customers are delivered.
	w.mu.Lock()
	for _, p := range w.st.Pages {
		w.st.Subscriptions[p.ID] = []string{"messages", "messaging_postbacks"}
	}
	for _, n := range w.st.WhatsApp {
		w.st.Subscriptions[n.WABAID] = []string{"messages"}
	}
	w.mu.Unlock()
	return &env{t: t, w: w, srv: srv, clock: clock, store: store}
}

// resp is a decoded API answer.
type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (e *env) do(method, path string, params url.Values, body []byte, header http.Header) resp {
	e.t.Helper()
	u := e.srv.URL + path
	if params != nil && (method == http.MethodGet || method == http.MethodDelete || body != nil) {
		u += "?" + params.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	} else if params != nil && method == http.MethodPost {
		rd = strings.NewReader(params.Encode())
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	} else if params != nil && method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer r.Body.Close()
	raw, _ := io.ReadAll(r.Body)
	out := resp{status: r.StatusCode, header: r.Header, raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			e.t.Fatalf("%s %s: bad JSON %q: %v", method, path, raw, err)
		}
	}
	return out
}

func (e *env) graph(method, path string, params url.Values) resp {
	e.t.Helper()
	return e.do(method, "/graph/v25.0"+path, params, nil, nil)
}

func (e *env) graphJSON(path, token string, body any) resp {
	e.t.Helper()
	b, _ := json.Marshal(body)
	return e.do(http.MethodPost, "/graph/v25.0"+path, url.Values{"access_token": {token}}, b, nil)
}

func (e *env) lineCall(method, path, token string, body any, header http.Header) resp {
	e.t.Helper()
	h := http.Header{}
	for k, v := range header {
		h[k] = v
	}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	return e.do(method, "/line"+path, nil, b, h)
}

// graphCode returns the code and subcode of a Graph error answer.
func graphCode(r resp) (int, int) {
	e, _ := r.body["error"].(map[string]any)
	code, _ := e["code"].(float64)
	sub, _ := e["error_subcode"].(float64)
	return int(code), int(sub)
}

func (e *env) wantGraphError(r resp, status, code, subcode int) {
	e.t.Helper()
	gotCode, gotSub := graphCode(r)
	if r.status != status || gotCode != code || gotSub != subcode {
		e.t.Fatalf("want HTTP %d error %d/%d, got HTTP %d %s", status, code, subcode, r.status, r.raw)
	}
	errObj := r.body["error"].(map[string]any)
	for _, k := range []string{"message", "type", "fbtrace_id"} {
		if s, _ := errObj[k].(string); s == "" {
			e.t.Fatalf("error object lacks %s: %s", k, r.raw)
		}
	}
}

func (e *env) wantOK(r resp) {
	e.t.Helper()
	if r.status != http.StatusOK {
		e.t.Fatalf("want 200, got %d %s", r.status, r.raw)
	}
}

// authorize runs the dialog for a user with their default grant and returns the code.
func (e *env) authorize(user string) string {
	e.t.Helper()
	loc, err := e.w.Authorize(user, e.w.DefaultGrant(user, AppScopes()), testRedirect, "st4te")
	if err != nil {
		e.t.Fatal(err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.Query().Get("code")
}

func (e *env) exchange(code string) resp {
	e.t.Helper()
	return e.graph(http.MethodGet, "/oauth/access_token", url.Values{
		"client_id": {"1234567890"}, "client_secret": {"test-app-secret"}, "redirect_uri": {testRedirect}, "code": {code},
	})
}

// login returns a long-lived user token for a fake Facebook user.
func (e *env) login(user string) string {
	e.t.Helper()
	r := e.exchange(e.authorize(user))
	e.wantOK(r)
	r = e.graph(http.MethodGet, "/oauth/access_token", url.Values{
		"grant_type": {"fb_exchange_token"}, "client_id": {"1234567890"}, "client_secret": {"test-app-secret"},
		"fb_exchange_token": {r.body["access_token"].(string)},
	})
	e.wantOK(r)
	return r.body["access_token"].(string)
}

// pageToken reads a Page token with a user token.
func (e *env) pageToken(userToken, pageID string) string {
	e.t.Helper()
	r := e.graph(http.MethodGet, "/"+pageID, url.Values{"fields": {"access_token"}, "access_token": {userToken}})
	e.wantOK(r)
	return r.body["access_token"].(string)
}

func (e *env) debug(input string) map[string]any {
	e.t.Helper()
	r := e.graph(http.MethodGet, "/debug_token", url.Values{"input_token": {input}, "access_token": {"1234567890|test-app-secret"}})
	e.wantOK(r)
	return r.body["data"].(map[string]any)
}

func (e *env) line() LINEAccount {
	a, ok := e.w.LINEAccount(LINEChannelID)
	if !ok {
		e.t.Fatal("no seeded LINE account")
	}
	return a
}

func (e *env) wa() WhatsAppNumber { return e.w.WhatsAppNumbers()[0] }

func (e *env) customer(key string, p Platform, account string) string {
	e.t.Helper()
	id, ok := e.w.CustomerID(key, p, account)
	if !ok {
		e.t.Fatalf("no %s id for %s on %s", p, key, account)
	}
	return id
}

func (e *env) inbound(p Platform, account, customer, text string) []byte {
	e.t.Helper()
	body, _, err := e.w.SimulateInbound(p, account, customer, text)
	if err != nil {
		e.t.Fatal(err)
	}
	return body
}
