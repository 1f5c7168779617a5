package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

func TestConsolePagesAreNotCached(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	c := a.Client()
	if r := c.Get("/login"); r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("login page (it carries a CSRF token): Cache-Control %q", r.Header.Get("Cache-Control"))
	}
	c.Login("boss@t.test", testutil.Password)
	for _, p := range []string{"/", "/users", "/channels", "/no/such/page"} {
		r := c.Get(p)
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("signed-in %s (%d): Cache-Control %q, want no-store", p, r.Status, got)
		}
	}
	// Static files stay cacheable.
	if r := c.Get("/static/app.css"); r.Status != http.StatusOK || r.Header.Get("Cache-Control") == "no-store" {
		t.Errorf("static file: %d %q", r.Status, r.Header.Get("Cache-Control"))
	}
}

// TestOpenRedirectBypasses tries the known ways to smuggle another origin past a "same-site
// path" check, on both forms that take a next address.
func TestOpenRedirectBypasses(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAgent, "a@t.test")
	bad := []string{
		"https://evil.example/", "http:evil.example", "https:/evil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
		"data:text/html,x", "//evil.example", "///evil.example", "////evil.example", "/\\evil.example", "\\/evil.example",
		"\\\\evil.example", "/\\/evil.example", "/%2F/evil.example", "/%2f/evil.example", "/%5C/evil.example", "/%5cevil.example",
		"/\t/evil.example/", "/%09/evil.example/", "\t//evil.example", "/\n/evil.example", "/\r/evil.example", "/\r\n/evil.example",
		"/\t\t/evil.example", "/%0a/evil.example", "/%0d/evil.example", " //evil.example", "\x00//evil.example", "\x1f//evil.example",
		"//evil.example\x00", "//user:pass@evil.example", "//@evil.example", "/ /evil.example\x7f", "evil.example", "",
		"@evil.example", ".//evil.example", "/\x0b/evil.example",
	}
	for _, next := range bad {
		c := a.Client()
		r := c.Submit("/login", "/login", url.Values{"email": {"a@t.test"}, "password": {testutil.Password}, "next": {next}})
		if r.Status != http.StatusSeeOther || r.Location != "/" {
			t.Errorf("login next=%q: %d → %q, want /", next, r.Status, r.Location)
		}
		if r := c.Submit("/", "/settings/language", url.Values{"locale": {"en"}, "next": {next}}); r.Location != "/" {
			t.Errorf("language next=%q → %q, want /", next, r.Location)
		}
		// The login page carries the cleaned value in its form, never the raw one.
		if page := a.Client().Get("/login?next=" + url.QueryEscape(next)); !strings.Contains(page.Body, `name="next" value="/"`) {
			t.Errorf("login page keeps next=%q", next)
		}
	}
	for _, next := range []string{"/users", "/channels?platform=line#top", "/a/b%2Fc", "/@me"} {
		c := a.Client()
		if r := c.Submit("/login", "/login", url.Values{"email": {"a@t.test"}, "password": {testutil.Password}, "next": {next}}); r.Location != next {
			t.Errorf("same-site next=%q → %q", next, r.Location)
		}
	}
}
