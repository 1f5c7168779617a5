package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// tryLogin submits the login form as a browser does and returns the answer, whatever it is.
func tryLogin(c *testutil.Client, email, password string) *testutil.Response {
	return c.Get("/login").Form("form[action=/login]").Set("email", email).Set("password", password).Submit()
}

func sessionCookie(t *testing.T, c *testutil.Client, base string) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(base)
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == "omnilink_session" {
			return ck
		}
	}
	return nil
}

func TestLoginFailuresLookAlike(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	c := a.Client()
	wrong := tryLogin(c, "boss@t.test", "nope-nope-nope")
	unknown := tryLogin(c, "ghost@t.test", "nope-nope-nope")
	for name, r := range map[string]*testutil.Response{"wrong password": wrong, "unknown email": unknown} {
		if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, "電子郵件或密碼不正確") {
			t.Errorf("%s: %d, body lacks the generic message", name, r.Status)
		}
	}
	if normalize(wrong.Body, "boss@t.test") != normalize(unknown.Body, "ghost@t.test") {
		t.Error("the answers for a wrong password and an unknown email differ")
	}
	if r := c.Get("/"); r.Status != http.StatusSeeOther {
		t.Fatalf("failed login must not sign in: GET / = %d", r.Status)
	}
}

var nonceAttr = regexp.MustCompile(`nonce="[^"]*"`)

// normalize removes what differs between any two answers: the typed email and the CSP nonce.
func normalize(body, email string) string {
	return nonceAttr.ReplaceAllString(strings.ReplaceAll(body, email, "X"), "")
}

func TestLoginThrottlePerAccount(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	c := a.Client()
	for i := range 5 {
		if r := tryLogin(c, "boss@t.test", "wrong-password-x"); r.Status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, r.Status)
		}
	}
	r := tryLogin(c, "boss@t.test", testutil.Password)
	if r.Status != http.StatusTooManyRequests || !strings.Contains(r.Body, "嘗試次數過多") {
		t.Fatalf("6th attempt with the right password: %d, want 429 with a clear message", r.Status)
	}
	// Throttling an unknown email looks the same, so it reveals nothing either.
	for range 5 {
		tryLogin(c, "ghost@t.test", "wrong-password-x")
	}
	if r := tryLogin(c, "ghost@t.test", "x"); r.Status != http.StatusTooManyRequests {
		t.Fatalf("unknown email throttled differently: %d", r.Status)
	}
}

func TestLoginThrottlePerAddress(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	c := a.Client()
	for i := range 30 {
		tryLogin(c, "spray"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@t.test", "wrong-password-x")
	}
	if r := tryLogin(c, "boss@t.test", testutil.Password); r.Status != http.StatusTooManyRequests {
		t.Fatalf("address throttle: %d, want 429", r.Status)
	}
}

func TestSessionRotatesAtLoginAndEndsAtLogout(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAgent, "a@t.test")
	c := a.Client()
	c.Get("/login").Form("button[value=en]").Submit()
	before := sessionCookie(t, c, a.URL)
	c.Login("a@t.test", testutil.Password)
	after := sessionCookie(t, c, a.URL)
	if after == nil || (before != nil && before.Value == after.Value) {
		t.Fatal("session cookie was not replaced at login")
	}
	if r := c.Get("/"); r.Status != http.StatusOK {
		t.Fatalf("signed in GET / = %d", r.Status)
	}
	r := c.Get("/").Form("form[action=/logout]").Submit()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("logout = %d", r.Status)
	}
	// Replaying the old cookie must not work: the session is gone on the server.
	replay := a.Client()
	u, _ := url.Parse(a.URL)
	replay.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: "omnilink_session", Value: after.Value, Path: "/"}})
	if r := replay.Get("/"); r.Status != http.StatusSeeOther {
		t.Fatalf("old session cookie still works after logout: %d", r.Status)
	}
}

func TestSessionCookieFlags(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAgent, "a@t.test")
	c := a.Client()
	r := tryLogin(c, "a@t.test", testutil.Password)
	var set string
	for _, h := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, "omnilink_session=") {
			set = h
		}
	}
	if !strings.Contains(set, "HttpOnly") || !strings.Contains(set, "SameSite=Lax") {
		t.Fatalf("session cookie flags: %q", set)
	}
}

func TestTamperedSessionCookie(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "a@t.test")
	c := a.Client()
	c.Login("a@t.test", testutil.Password)
	ck := sessionCookie(t, c, a.URL)
	b := []byte(ck.Value)
	b[len(b)/2] ^= 1
	evil := a.Client()
	u, _ := url.Parse(a.URL)
	evil.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: "omnilink_session", Value: string(b), Path: "/"}})
	if r := evil.Get("/users"); r.Status != http.StatusSeeOther {
		t.Fatalf("tampered cookie: %d, want redirect to login", r.Status)
	}
}

func TestDisabledUserIsSignedOutAtOnce(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	agent := a.User(team.ID, models.RoleAgent, "agent@t.test")
	ac := a.Client()
	ac.Login("agent@t.test", testutil.Password)
	if r := ac.Get("/"); r.Status != http.StatusOK {
		t.Fatal(r.Status)
	}
	boss := a.Client()
	boss.Login("boss@t.test", testutil.Password)
	if r := boss.Get("/users").Form("form[action=/users/" + itoa(agent.ID) + "/disable]").Submit(); r.Status != http.StatusSeeOther {
		t.Fatalf("disable: %d", r.Status)
	}
	if r := ac.Get("/"); r.Status != http.StatusSeeOther {
		t.Fatalf("disabled user's session still works: %d", r.Status)
	}
	r := tryLogin(ac, "agent@t.test", testutil.Password)
	if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, "電子郵件或密碼不正確") {
		t.Fatalf("disabled login: %d", r.Status)
	}
	// Enabling lets them back in.
	if r := boss.Get("/users").Form("form[action=/users/" + itoa(agent.ID) + "/enable]").Submit(); r.Status != http.StatusSeeOther {
		t.Fatalf("enable: %d", r.Status)
	}
	ac.Login("agent@t.test", testutil.Password)
}

func TestCSRFRequired(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	c := a.Client()
	c.Login("boss@t.test", testutil.Password)
	form := url.Values{"email": {"new@t.test"}, "name": {"New"}, "role": {"agent"}, "locale": {"zh-TW"}}
	if r := c.Post("/users/invite", form); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "表單已過期") {
		t.Fatalf("missing token: %d", r.Status)
	}
	forged := url.Values{"_csrf": {"forged-token-value-that-is-long-enough"}}
	for k, v := range form {
		forged[k] = v
	}
	if r := c.Post("/users/invite", forged); r.Status != http.StatusForbidden {
		t.Fatalf("forged token: %d", r.Status)
	}
	// A valid token from a page, but sent from another origin.
	c.Get("/users/invite")
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/users/invite", strings.NewReader(url.Values{"_csrf": {c.CSRF()}, "email": {"new@t.test"}, "name": {"N"}, "role": {"agent"}, "locale": {"zh-TW"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if r := c.Do(req); r.Status != http.StatusForbidden {
		t.Fatalf("cross-origin post: %d", r.Status)
	}
	if _, err := a.Store.UserByEmailSystem(context.Background(), "new@t.test"); err == nil {
		t.Fatal("a user was created by a request without a valid CSRF token")
	}
	// Login itself is protected too.
	if r := a.Client().Post("/login", url.Values{"email": {"boss@t.test"}, "password": {testutil.Password}}); r.Status != http.StatusForbidden {
		t.Fatalf("login without token: %d", r.Status)
	}
}

func TestSecurityHeaders(t *testing.T) {
	a := testutil.NewApp(t)
	r := a.Client().Get("/login")
	csp := r.Header.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors 'none'", "script-src 'self' 'nonce-", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP lacks %q: %s", want, csp)
		}
	}
	if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Referrer-Policy") == "" {
		t.Error("missing nosniff or Referrer-Policy")
	}
	nonce := csp[strings.Index(csp, "'nonce-")+7:]
	nonce = nonce[:strings.Index(nonce, "'")]
	if !strings.Contains(r.Body, `nonce="`+nonce+`"`) {
		t.Error("scripts do not carry the CSP nonce")
	}
	if strings.Contains(r.Body, "<script>") {
		t.Error("inline script without nonce")
	}
	if r2 := a.Client().Get("/login"); strings.Contains(r2.Header.Get("Content-Security-Policy"), nonce) {
		t.Error("nonce reused across requests")
	}
}

func TestOpenRedirectRefused(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAgent, "a@t.test")
	for _, next := range []string{"https://evil.example/", "//evil.example", "/\\evil.example"} {
		c := a.Client()
		r := c.Get("/login?next="+url.QueryEscape(next)).Form("form[action=/login]").Set("email", "a@t.test").Set("password", testutil.Password).Submit()
		if r.Location != "/" {
			t.Errorf("next=%q redirected to %q", next, r.Location)
		}
	}
}

func TestLanguagePersists(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "a@t.test")
	c := a.Client()
	c.Login("a@t.test", testutil.Password)
	if r := c.Get("/"); !strings.Contains(r.Body, "總覽") || !strings.Contains(r.Body, `lang="zh-TW"`) {
		t.Fatal("default console is not zh-TW")
	}
	if r := c.Get("/users").Form("button[value=en]").Submit(); r.Status != http.StatusSeeOther || r.Location != "/users" {
		t.Fatalf("switch: %d %q", r.Status, r.Location)
	}
	// A brand-new session (another browser) sees the stored choice.
	c2 := a.Client()
	c2.Login("a@t.test", testutil.Password)
	if r := c2.Get("/"); !strings.Contains(r.Body, "Overview") || !strings.Contains(r.Body, `lang="en"`) {
		t.Fatal("language choice did not persist on the account")
	}
	if r := c2.Get("/").Form("form.lang-switch").Forge("locale", "klingon").Submit(); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("unsupported locale: %d", r.Status)
	}
}

func TestOperationsEndpoints(t *testing.T) {
	a := testutil.NewApp(t)
	c := a.Client()
	if r := c.Get("/healthz"); r.Status != 200 {
		t.Fatal(r.Status)
	}
	if r := c.Get("/readyz"); r.Status != 200 {
		t.Fatal(r.Status)
	}
	c.Get("/login")
	r := c.Get("/metrics")
	if !strings.Contains(r.Body, `omnilink_http_requests_total{method="GET",route="/login",status="200"}`) || !strings.Contains(r.Body, "go_goroutines") {
		t.Fatalf("metrics lack route counters or runtime metrics")
	}
	// Unknown paths ask anonymous visitors to log in, so they do not reveal which paths exist.
	if r := c.Get("/no/such/page"); r.Status != http.StatusSeeOther {
		t.Fatalf("anonymous unknown path: %d", r.Status)
	}
	team := a.Team("T")
	a.User(team.ID, models.RoleAgent, "a@t.test")
	c.Login("a@t.test", testutil.Password)
	if r := c.Get("/no/such/page"); r.Status != 404 || !strings.Contains(r.Body, "找不到") {
		t.Fatalf("404 page: %d", r.Status)
	}
	req, _ := http.NewRequest("GET", a.URL+"/no/such", nil)
	req.Header.Set("HX-Request", "true")
	if r := c.Do(req); r.Status != 404 || strings.Contains(r.Body, "<html") || !strings.Contains(r.Body, "flash-error") {
		t.Fatalf("htmx 404 should be a fragment: %d %s", r.Status, r.Body)
	}
	if r := c.Get("/favicon.ico"); r.Status != 200 || r.Header.Get("Content-Type") != "image/x-icon" {
		t.Fatalf("favicon: %d %q", r.Status, r.Header.Get("Content-Type"))
	}
	// The pages address static files by version: those are kept for good. A new release changes
	// the address; an old or bare address is revalidated, so no browser keeps a stale script.
	page := a.Client().Get("/login")
	m := regexp.MustCompile(`src="(/static/vendor/htmx/htmx\.min\.js\?v=[0-9a-f]+)"`).FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatal("the page does not address htmx by version")
	}
	if r := c.Get(m[1]); r.Status != 200 || r.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("versioned static: %d %q", r.Status, r.Header.Get("Cache-Control"))
	}
	for _, bare := range []string{"/static/vendor/htmx/htmx.min.js", "/static/vendor/htmx/htmx.min.js?v=0ld"} {
		r := c.Get(bare)
		if r.Status != 200 || r.Header.Get("Cache-Control") != "no-cache" || r.Header.Get("ETag") == "" {
			t.Fatalf("%s: %d %q %q", bare, r.Status, r.Header.Get("Cache-Control"), r.Header.Get("ETag"))
		}
		req, _ := http.NewRequest(http.MethodGet, a.URL+bare, nil)
		req.Header.Set("If-None-Match", r.Header.Get("ETag"))
		if again := c.Do(req); again.Status != http.StatusNotModified {
			t.Fatalf("%s revalidated: %d", bare, again.Status)
		}
	}
}
