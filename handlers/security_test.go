package handlers_test

import (
	"net/http"
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
