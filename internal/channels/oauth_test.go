package channels_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer collects log output written from any goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// env is the channels service on a real database, talking over HTTP to a sandbox of its own,
// on a fake clock shared with the sandbox, logging JSON lines into a buffer.
type env struct {
	t     *testing.T
	clock *clock
	world *sandbox.World
	app   *testutil.TestApp
	svc   *channels.Service
	log   *syncBuffer
	actor *models.User
}

const redirect = "https://omnilink.test/oauth/meta/callback"

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{t: time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)}, log: &syncBuffer{}}
	w, err := sandbox.New(sandbox.Options{AppID: config.SandboxAppID, AppSecret: config.SandboxAppSecret, Clock: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.world = w
	api := httptest.NewServer(w.APIHandler())
	t.Cleanup(api.Close)
	e.app = testutil.NewIdleApp(t)
	e.svc = channels.New(channels.Deps{
		Store: e.app.Store, Box: e.app.Box, Now: e.clock.Now,
		Meta:  meta.New(meta.Config{AppID: w.AppID(), AppSecret: w.AppSecret(), GraphURL: api.URL + "/graph", DialogURL: api.URL + "/dialog"}),
		Line:  line.New(line.Config{APIURL: api.URL + "/line"}),
		OAuth: channels.OAuthConfig{RedirectURI: redirect},
		Log:   slog.New(slog.NewJSONHandler(e.log, nil)),
	})
	team := e.app.Team("小熊烘焙坊")
	e.actor = e.app.User(team.ID, models.RoleAdmin, "boss@bear.test")
	return e
}

// login runs Facebook Login as fbUser for purpose and returns the finished state.
func (e *env) login(purpose models.Platform, fbUser string) *models.OAuthState {
	e.t.Helper()
	ctx := context.Background()
	start, err := e.svc.StartOAuth(ctx, e.actor, "session", purpose, nil, false)
	if err != nil {
		e.t.Fatal(err)
	}
	u, _ := url.Parse(start.URL)
	q := u.Query()
	back, err := e.world.Authorize(fbUser, e.world.DefaultGrant(fbUser, strings.Split(q.Get("scope"), ",")), redirect, q.Get("state"))
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := url.Parse(back)
	st, err := e.svc.CompleteOAuth(ctx, e.actor, "session", channels.Callback{State: q.Get("state"), Code: b.Query().Get("code")})
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

// The long-lived Facebook user token is kept sealed: the raw column never holds it.
func TestFacebookUserTokenIsStoredSealed(t *testing.T) {
	e := newEnv(t)
	st := e.login(models.Instagram, sandbox.MeiUserID)
	if st.Outcome != "authorized" || st.AuthorizationID == nil {
		t.Fatalf("login: %s %s", st.Outcome, st.OutcomeCode)
	}
	auth, err := e.app.Store.MetaAuthorization(context.Background(), e.actor.TeamID, *st.AuthorizationID)
	if err != nil {
		t.Fatal(err)
	}
	token, err := e.svc.UserToken(auth)
	if err != nil || !strings.HasPrefix(token, "EA") {
		t.Fatalf("the stored token does not open: %q %v", token, err)
	}
	var raw string
	if err := e.app.SQL().QueryRow(context.Background(), "SELECT access_token FROM meta_authorizations WHERE id = $1", *st.AuthorizationID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if raw == "" || strings.Contains(raw, token) || strings.Contains(raw, token[:24]) {
		t.Fatalf("the Facebook user token is stored in the clear: %q", raw)
	}
}

// A Facebook Login attempt is good for ten minutes by the service's clock: moving the clock, not
// sleeping, shows the state refused after that, and single-use before.
func TestOAuthStateExpiresByTheClock(t *testing.T) {
	for _, tc := range []struct {
		after time.Duration
		ok    bool
	}{{9*time.Minute + 59*time.Second, true}, {channels.StateTTL, false}, {time.Hour, false}} {
		e := newEnv(t)
		ctx := context.Background()
		start, err := e.svc.StartOAuth(ctx, e.actor, "session", models.Facebook, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(start.URL)
		state := u.Query().Get("state")
		back, _ := e.world.Authorize(sandbox.MeiUserID, e.world.DefaultGrant(sandbox.MeiUserID, channels.FacebookScopes), redirect, state)
		b, _ := url.Parse(back)
		e.clock.Advance(tc.after)
		st, err := e.svc.CompleteOAuth(ctx, e.actor, "session", channels.Callback{State: state, Code: b.Query().Get("code")})
		if tc.ok {
			if err != nil || st.Outcome != "authorized" {
				t.Fatalf("after %s: %v %+v", tc.after, err, st)
			}
			if _, err := e.svc.CompleteOAuth(ctx, e.actor, "session", channels.Callback{State: state, Code: "x"}); !errors.Is(err, channels.ErrStateInvalid) {
				t.Fatalf("a used state was accepted again: %v", err)
			}
		} else if !errors.Is(err, channels.ErrStateInvalid) {
			t.Fatalf("after %s the state was not refused: %v", tc.after, err)
		}
	}
}

// A permanent refusal while connecting says what failed and Facebook's reason, never "try again
// later", and is logged as one JSON line with the Graph code, subcode and fbtrace_id and no token.
func TestConnectFailureIsExplainedAndLogged(t *testing.T) {
	e := newEnv(t)
	st := e.login(models.Facebook, sandbox.MeiUserID)
	// The permission is taken away between the login and pressing "connect".
	if err := e.world.RevokePermission(sandbox.Target{Kind: sandbox.TargetPage, ID: sandbox.BearBakeryPageID}, "pages_manage_metadata"); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.Connect(context.Background(), e.actor, st.ID, []string{sandbox.BearBakeryPageID})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 1 || len(res.Connected) != 0 {
		t.Fatalf("result: %+v", res)
	}
	f := res.Failed[0]
	if f.Problem != channels.FailedPermission || f.ProblemArgs["Step"] != channels.StepSubscribe ||
		!strings.Contains(f.ProblemArgs["Reason"], "pages_manage_metadata") || f.ProblemArgs["Code"] != "200" {
		t.Fatalf("failure: %s %v", f.Problem, f.ProblemArgs)
	}
	line := e.lastLog(t, "facebook call failed")
	if line["graph_code"] != float64(200) || line["fbtrace_id"] == "" || line["fbtrace_id"] == nil || line["step"] != "subscribe" || line["level"] != "WARN" {
		t.Fatalf("log line: %v", line)
	}
	if _, ok := line["graph_subcode"]; !ok {
		t.Fatalf("log line has no subcode: %v", line)
	}
	if strings.Contains(e.log.String(), "EAAM") {
		t.Fatalf("a token reached the log:\n%s", e.log.String())
	}

	// Trouble on Facebook's side is the one case that says to try again later.
	if err := e.world.Repair(sandbox.Target{Kind: sandbox.TargetPage, ID: sandbox.BearBakeryPageID}); err != nil {
		t.Fatal(err)
	}
	st = e.login(models.Facebook, sandbox.MeiUserID)
	if err := e.world.SetTransientFailure(sandbox.Target{Kind: sandbox.TargetPage, ID: sandbox.BearBakeryPageID}, 100, sandbox.FailUnexpected); err != nil {
		t.Fatal(err)
	}
	res, err = e.svc.Connect(context.Background(), e.actor, st.ID, []string{sandbox.BearBakeryPageID})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 1 || res.Failed[0].Problem != channels.FailedTransient || res.Failed[0].ProblemArgs["Code"] != "2" {
		t.Fatalf("transient failure: %+v", res.Failed)
	}
}

// lastLog returns the last JSON log line with msg.
func (e *env) lastLog(t *testing.T, msg string) map[string]any {
	t.Helper()
	var found map[string]any
	for _, l := range strings.Split(strings.TrimSpace(e.log.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if m["msg"] == msg {
			found = m
		}
	}
	if found == nil {
		t.Fatalf("no %q in the log:\n%s", msg, e.log.String())
	}
	return found
}
