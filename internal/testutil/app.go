package testutil

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/net/html"

	"github.com/omnilink/omnilink/internal/app"
	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// TestApp is the real server, wired as in production, behind an httptest server on a fresh database.
type TestApp struct {
	*app.App
	Server *httptest.Server
	URL    string
	t      testing.TB
}

// Password is the password of every user the helpers create.
const Password = "correct-horse-battery"

// NewApp starts the server in sandbox mode on its own database.
func NewApp(t testing.TB, mutate ...func(*config.Config)) *TestApp {
	t.Helper()
	return newApp(t, true, nil, mutate...)
}

// newApp builds the test app; run starts its background work (App.Run); now, when not nil, is
// the time every service reads.
func newApp(t testing.TB, run bool, now func() time.Time, mutate ...func(*config.Config)) *TestApp {
	t.Helper()
	dbURL := DatabaseURL(t)
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	cfg := config.Config{
		DatabaseURL: dbURL, Addr: srv.Listener.Addr().String(), BaseURL: base,
		SecretKey: base64.StdEncoding.EncodeToString(key), Providers: config.ProvidersSandbox,
		LogLevel: "error", MetaGraphVersion: "v25.0", HealthCheckInterval: 3600e9, OutboxConcurrency: 64,
		MailFrom: "omnilink <noreply@omnilink.test>",
	}
	for _, m := range mutate {
		m(&cfg)
	}
	cfg, err := config.Finish(cfg)
	if err != nil {
		t.Fatalf("test config: %v", err)
	}
	stOwn, err := store.Open(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	a, err := app.Build(cfg, stOwn, log, app.Options{BcryptCost: bcrypt.MinCost, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if run {
		a.Run(ctx)
	}
	srv.Config.Handler = a.Echo
	srv.Start()
	t.Cleanup(func() {
		cancel()
		srv.Close()
		_ = a.Close()
		_ = stOwn.Close()
	})
	return &TestApp{App: a, Server: srv, URL: base, t: t}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Team creates a team.
func (a *TestApp) Team(name string) *models.Team {
	a.t.Helper()
	tm := &models.Team{Name: name, Locale: "zh-TW", PlanStatus: models.PlanActive}
	if err := a.Store.CreateTeam(context.Background(), tm); err != nil {
		a.t.Fatal(err)
	}
	return tm
}

// User creates a user with the shared test Password.
func (a *TestApp) User(teamID int64, role models.Role, email string) *models.User {
	a.t.Helper()
	hash, err := a.Accounts.HashPassword(Password)
	if err != nil {
		a.t.Fatal(err)
	}
	u := &models.User{TeamID: teamID, Email: email, Name: strings.Split(email, "@")[0], PasswordHash: hash, Role: role}
	if err := a.Store.CreateUser(context.Background(), u); err != nil {
		a.t.Fatal(err)
	}
	return u
}

// Client is a browser-like HTTP client: it keeps cookies and does not follow redirects. Every
// HTML page it receives is checked for raw message keys and for phrases of the other language.
type Client struct {
	t    testing.TB
	base string
	HTTP *http.Client
	// csrf is the token read from the last page that had a form.
	csrf string
	// routes tells whether the app has a route for a method and path; forms are checked against it.
	routes func(method, path string) bool
	// reported keeps each page problem to one failure line.
	reported map[string]bool
}

// Response is a finished response with its body read. A Response of an HTML page is also the
// page: Form finds its forms.
type Response struct {
	Status   int
	Body     string
	Header   http.Header
	Location string
	// URL is the address that was fetched; forms resolve their actions against it.
	URL *url.URL
	c   *Client
	doc *html.Node
}

// Doc is the parsed HTML of the response.
func (r *Response) Doc() *html.Node {
	if r.doc == nil {
		doc, err := html.Parse(strings.NewReader(r.Body))
		if err != nil {
			r.c.t.Fatalf("parse %s: %v", r.URL, err)
		}
		r.doc = doc
	}
	return r.doc
}

// Client returns a fresh cookie-keeping client.
func (a *TestApp) Client() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: a.t, base: a.URL, routes: a.HasRoute,
		HTTP: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// HasRoute reports whether the app's router has a handler for method and path (not its
// not-found or method-not-allowed answer).
func (a *TestApp) HasRoute(method, path string) bool {
	ctx := a.Echo.NewContext(nil, nil)
	a.Echo.Router().Find(method, path, ctx)
	for _, r := range a.Echo.Routes() {
		if r.Method == method && r.Path == ctx.Path() {
			return true
		}
	}
	return false
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// Do sends a request and reads the answer; it remembers any CSRF token on the page and checks
// an HTML page's words.
func (c *Client) Do(req *http.Request) *Response {
	c.t.Helper()
	res, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := csrfField.FindSubmatch(b); m != nil {
		c.csrf = html.UnescapeString(string(m[1]))
	}
	r := &Response{Status: res.StatusCode, Body: string(b), Header: res.Header, Location: res.Header.Get("Location"), URL: req.URL, c: c}
	c.checkPage(r)
	return r
}

// Get fetches a path.
func (c *Client) Get(path string) *Response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	return c.Do(req)
}

// Post sends a form exactly as given (no token added). It is for machine endpoints and for
// requests a browser would not make (a missing or forged token); console forms go through
// Get(page).Form(…).Submit().
func (c *Client) Post(path string, form url.Values) *Response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.Do(req)
}

// Submit fetches page, finds the form on it that posts to path, fills in values and submits it
// as a browser would (hidden fields and the CSRF token come from the served form). A page with no
// such form, or a value for a field the form does not have, fails the test. Values a field does
// not offer (an unlisted option) are sent anyway, as a tampered request would send them; use
// Get(page).Form(sel).Set(…) where a test must stay within what the page offers.
func (c *Client) Submit(page, path string, values url.Values) *Response {
	c.t.Helper()
	r := c.Get(page)
	if r.Status != http.StatusOK {
		c.t.Fatalf("GET %s before submit: %d", page, r.Status)
	}
	target, err := r.URL.Parse(path)
	if err != nil {
		c.t.Fatalf("submit to %q: %v", path, err)
	}
	// Pages may hold several forms posting to one place (a compose box and per-message buttons):
	// the first that has every field given is the one a person would fill in.
	var near *Form
	for i := 0; i < r.Forms(); i++ {
		f := r.Form(i)
		if f.Method() != http.MethodPost || f.action.Path != target.Path {
			continue
		}
		fits := true
		for k := range values {
			if len(f.controls[k]) == 0 {
				fits = false
			}
		}
		if !fits {
			if near == nil {
				near = f
			}
			continue
		}
		for k, v := range values {
			f.Forge(k, v...)
		}
		return f.Submit()
	}
	if near != nil {
		c.t.Fatalf("no form posting to %s on %s has every field of %v (one has: %s)", path, page, slices.Collect(maps.Keys(values)), strings.Join(near.fieldNames(), ", "))
	}
	c.t.Fatalf("%s has no form that posts to %s", page, path)
	return nil
}

// CSRF is the last token read from a page.
func (c *Client) CSRF() string { return c.csrf }

// Login signs in through the login form and fails the test if it does not work.
func (c *Client) Login(email, password string) {
	c.t.Helper()
	r := c.Get("/login").Form("form[action=/login]").Set("email", email).Set("password", password).Submit()
	if r.Status != http.StatusSeeOther {
		c.t.Fatalf("login %s: status %d\n%s", email, r.Status, r.Body)
	}
}
