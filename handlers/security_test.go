package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
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

// parallelLogins fires every attempt at once from one browser (one address) and returns how many
// answers each status got. Only 401s reached the password check.
func parallelLogins(t *testing.T, a *testutil.TestApp, attempts []url.Values) map[int]int {
	t.Helper()
	c := a.Client()
	c.Get("/login")
	token := c.CSRF()
	var (
		mu     sync.Mutex
		counts = map[int]int{}
		wg     sync.WaitGroup
		start  = make(chan struct{})
	)
	for _, form := range attempts {
		form.Set("_csrf", token)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest(http.MethodPost, a.URL+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := c.HTTP.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			mu.Lock()
			counts[res.StatusCode]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return counts
}

func TestLoginThrottleHoldsUnderConcurrency(t *testing.T) {
	t.Run("account", func(t *testing.T) {
		a := testutil.NewApp(t)
		team := a.Team("T")
		a.User(team.ID, models.RoleAdmin, "boss@t.test")
		tries := make([]url.Values, 50)
		for i := range tries {
			tries[i] = url.Values{"email": {"boss@t.test"}, "password": {fmt.Sprintf("wrong-guess-%02d", i)}}
		}
		got := parallelLogins(t, a, tries)
		if got[http.StatusUnauthorized] > 5 || got[http.StatusUnauthorized]+got[http.StatusTooManyRequests] != 50 {
			t.Fatalf("50 parallel guesses: %v; want at most 5 checked (401), the rest 429", got)
		}
		// The throttle now holds even for the right password.
		r := a.Client().Submit("/login", "/login", url.Values{"email": {"boss@t.test"}, "password": {testutil.Password}})
		if r.Status != http.StatusTooManyRequests {
			t.Fatalf("right password while throttled: %d, want 429", r.Status)
		}
	})
	t.Run("address", func(t *testing.T) {
		a := testutil.NewApp(t)
		team := a.Team("T")
		a.User(team.ID, models.RoleAdmin, "boss@t.test")
		tries := make([]url.Values, 100)
		for i := range tries {
			tries[i] = url.Values{"email": {fmt.Sprintf("spray%03d@t.test", i)}, "password": {"wrong-guess-xx"}}
		}
		got := parallelLogins(t, a, tries)
		if got[http.StatusUnauthorized] > 30 || got[http.StatusUnauthorized]+got[http.StatusTooManyRequests] != 100 {
			t.Fatalf("100 parallel guesses from one address: %v; want at most 30 checked (401), the rest 429", got)
		}
		r := a.Client().Submit("/login", "/login", url.Values{"email": {"boss@t.test"}, "password": {testutil.Password}})
		if r.Status != http.StatusTooManyRequests {
			t.Fatalf("right password from a throttled address: %d, want 429", r.Status)
		}
	})
}

// postWith sends a form with extra headers through c (its cookies), exactly as given.
func postWith(c *testutil.Client, target string, form url.Values, header map[string]string) *testutil.Response {
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return c.Do(req)
}

func csrfCookieOf(c *testutil.Client, base string) *http.Cookie {
	u, _ := url.Parse(base)
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == "omnilink_csrf" {
			return ck
		}
	}
	return nil
}

func TestCSRFTokenBoundToSession(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	newUser := url.Values{"name": {"New"}, "role": {"agent"}}
	created := func(email string) bool {
		_, err := a.Store.UserByEmailSystem(context.Background(), email)
		return err == nil
	}

	// The attacker's own visit gives them a pre-session cookie and its token.
	attacker := a.Client()
	attacker.Get("/login")
	plantedToken, planted := attacker.CSRF(), csrfCookieOf(attacker, a.URL)

	victim := a.Client()
	victim.Get("/login")
	before := csrfCookieOf(victim, a.URL)
	anonToken := victim.CSRF()
	victim.Login("boss@t.test", testutil.Password)
	if after := csrfCookieOf(victim, a.URL); after == nil || after.Value == before.Value {
		t.Error("the pre-session value was not replaced at login")
	}
	// A token from before login no longer works.
	form := url.Values{"_csrf": {anonToken}, "email": {"pre@t.test"}}
	for k, v := range newUser {
		form[k] = v
	}
	if r := victim.Post("/users/invite", form); r.Status != http.StatusForbidden || created("pre@t.test") {
		t.Errorf("token from before login: %d", r.Status)
	}
	// The attacker plants their cookie (as a sibling host could) and posts their token.
	u, _ := url.Parse(a.URL)
	victim.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: planted.Name, Value: planted.Value, Path: "/"}})
	form.Set("_csrf", plantedToken)
	form.Set("email", "planted@t.test")
	if r := victim.Post("/users/invite", form); r.Status != http.StatusForbidden || created("planted@t.test") {
		t.Errorf("planted cookie with its token: %d", r.Status)
	}
	// The session's own token still works, with or without the planted cookie.
	if r := victim.Submit("/users/invite", "/users/invite", url.Values{"email": {"own@t.test"}, "name": {"Own"}, "role": {"agent"}}); r.Status != http.StatusSeeOther || !created("own@t.test") {
		t.Fatalf("the session's own token: %d", r.Status)
	}
	// Logout: the old session's token is gone with it.
	victim.Get("/")
	old := victim.CSRF()
	victim.Submit("/", "/logout", nil)
	victim.Login("boss@t.test", testutil.Password)
	if r := victim.Post("/settings/language", url.Values{"_csrf": {old}, "locale": {"en"}}); r.Status != http.StatusForbidden {
		t.Fatalf("token of an ended session: %d", r.Status)
	}
}

func TestCSRFOriginAndTokenPlace(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	c := a.Client()
	c.Login("boss@t.test", testutil.Password)
	c.Get("/")
	token := c.CSRF()
	self, _ := url.Parse(a.URL)
	port := self.Port()
	cases := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"same origin", map[string]string{"Origin": a.URL}, http.StatusSeeOther},
		{"no origin, no referer", nil, http.StatusSeeOther},
		{"no origin, same-origin referer", map[string]string{"Referer": a.URL + "/users?x=1"}, http.StatusSeeOther},
		{"null origin", map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"other scheme", map[string]string{"Origin": "https://" + self.Host}, http.StatusForbidden},
		{"other port", map[string]string{"Origin": "http://" + self.Hostname() + ":1" + port}, http.StatusForbidden},
		{"other host", map[string]string{"Origin": "http://evil.example:" + port}, http.StatusForbidden},
		{"origin with a path", map[string]string{"Origin": a.URL + "/x"}, http.StatusForbidden},
		{"no origin, cross-origin referer", map[string]string{"Referer": "https://evil.example/page"}, http.StatusForbidden},
		{"no origin, referer other scheme", map[string]string{"Referer": "https://" + self.Host + "/"}, http.StatusForbidden},
		{"no origin, unparsable referer", map[string]string{"Referer": "::nonsense"}, http.StatusForbidden},
	}
	for _, tc := range cases {
		r := postWith(c, a.URL+"/settings/language", url.Values{"_csrf": {token}, "locale": {"en"}, "next": {"/"}}, tc.header)
		if r.Status != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, r.Status, tc.want)
		}
	}
	// The token only counts in the header or the posted body, never in the query string.
	if r := postWith(c, a.URL+"/settings/language?_csrf="+url.QueryEscape(token), url.Values{"locale": {"en"}}, nil); r.Status != http.StatusForbidden {
		t.Errorf("token in the query string: %d, want 403", r.Status)
	}
	if r := postWith(c, a.URL+"/settings/language", url.Values{"locale": {"en"}, "next": {"/"}}, map[string]string{"X-CSRF-Token": token}); r.Status != http.StatusSeeOther {
		t.Errorf("token in the header: %d", r.Status)
	}
}
