package health_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/health"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/mail"
	"github.com/omnilink/omnilink/internal/mail/capture"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/outbox"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
	emailviews "github.com/omnilink/omnilink/views/email"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

// clock is the fake time shared by the sandbox and the monitor; Sleep moves it instead of
// waiting, so backoff, pacing and expiry are tested without real sleeps.
type clock struct {
	mu     sync.Mutex
	t      time.Time
	slept  time.Duration
	sleeps int
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.slept += d
	c.sleeps++
	return nil
}

func (c *clock) Slept() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slept
}

// env is one test's world: a real Postgres database behind the real app (without its background
// work), the sandbox's APIs over HTTP, a real SMTP server, and a monitor and outbox on a fake clock.
type env struct {
	t      *testing.T
	clock  *clock
	world  *sandbox.World
	api    *httptest.Server
	app    *testutil.TestApp
	smtp   *capture.Server
	meta   *meta.Client // for minting tokens and sending, like the rest of the product
	outbox *outbox.Outbox
	mon    *health.Monitor
	team   *models.Team
	admin  *models.User
	// gate, when set, runs before every sandbox API request (to hold a sweep mid-flight).
	gateMu sync.Mutex
	gate   func(*http.Request)
	// answer, when set and returning true, has answered the request in the sandbox's place (a
	// platform answering something unexpected).
	answer func(http.ResponseWriter, *http.Request) bool
}

type envOption func(*health.Options)

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{t: time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)}}
	w, err := sandbox.New(sandbox.Options{AppID: config.SandboxAppID, AppSecret: config.SandboxAppSecret, Clock: e.clock.Now, HangLimit: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.world = w
	api := w.APIHandler()
	e.api = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		e.gateMu.Lock()
		g, ans := e.gate, e.answer
		e.gateMu.Unlock()
		if g != nil {
			g(r)
		}
		if ans != nil && ans(rw, r) {
			return
		}
		api.ServeHTTP(rw, r)
	}))
	t.Cleanup(e.api.Close)
	e.smtp, err = capture.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.smtp.Close() })
	e.app = testutil.NewIdleApp(t, func(c *config.Config) {
		c.MetaGraphURL = e.api.URL + "/graph"
		c.LineAPIURL = e.api.URL + "/line"
		c.SMTPURL = e.smtp.URL()
	})
	e.meta = meta.New(meta.Config{AppID: w.AppID(), AppSecret: w.AppSecret(), GraphURL: e.api.URL + "/graph"})
	mailer, err := mail.NewSMTP(e.smtp.URL(), "omnilink <alerts@omnilink.test>")
	if err != nil {
		t.Fatal(err)
	}
	e.outbox = outbox.New(e.app.Store, outbox.Options{Now: e.clock.Now, NoJitter: true})
	e.outbox.Handle(outbox.KindEmail, outbox.EmailHandler(mailer))
	e.mon = e.monitor(e.app.Store, opts...)
	e.outbox.OnSettled(outbox.KindEmail, e.mon.AlertSettled) // as the app wires them
	e.team = e.app.Team("小熊烘焙坊 Bear Bakery")
	e.admin = e.app.User(e.team.ID, models.RoleAdmin, "owner@bear.test")
	return e
}

// monitor builds a monitor on st, as another process or replica would.
func (e *env) monitor(st *store.Store, opts ...envOption) *health.Monitor {
	o := health.Options{Interval: time.Hour, CallTimeout: 3 * time.Second, RetryBackoff: time.Second, Concurrency: 4}
	for _, f := range opts {
		f(&o)
	}
	return health.New(health.Deps{
		Store:       st,
		Credentials: e.app.Channels,
		MetaConfig:  meta.Config{AppID: e.world.AppID(), AppSecret: e.world.AppSecret(), GraphURL: e.api.URL + "/graph"},
		Line:        line.New(line.Config{APIURL: e.api.URL + "/line"}),
		Compose:     health.NewComposer(e.app.I18n, emailviews.HealthAlert),
		BaseURL:     e.app.URL,
		Now:         e.clock.Now,
		Sleep:       e.clock.Sleep,
	}, o)
}

func (e *env) setGate(g func(*http.Request)) {
	e.gateMu.Lock()
	defer e.gateMu.Unlock()
	e.gate = g
}

// channel connects a sandbox account to the test team.
func (e *env) channel(p models.Platform, account, userKey string) *models.Channel {
	e.t.Helper()
	return e.app.SandboxChannel(e.team.ID, e.world, e.meta, p, account, userKey)
}

func (e *env) instagram() *models.Channel {
	return e.channel(models.Instagram, sandbox.BearBakeryIGID, "mei")
}

func (e *env) breakToken(target string, cause sandbox.Cause) {
	e.t.Helper()
	tg, err := sandbox.ParseTarget(target)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.world.BreakToken(tg, cause); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) repair(target string) {
	e.t.Helper()
	tg, err := sandbox.ParseTarget(target)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.world.Repair(tg); err != nil {
		e.t.Fatal(err)
	}
}

// sweep runs a forced sweep with m (the env's monitor when nil) and fails the test on error.
func (e *env) sweep(m *health.Monitor) health.SweepReport {
	e.t.Helper()
	if m == nil {
		m = e.mon
	}
	rep, err := m.Sweep(context.Background(), health.SweepOptions{Force: true, Collect: true})
	if err != nil {
		e.t.Fatalf("sweep: %v", err)
	}
	return rep
}

// deliver runs the outbox until nothing is due and returns what it did.
func (e *env) deliver() outbox.Stats {
	e.t.Helper()
	st, err := e.outbox.Drain(context.Background())
	if err != nil {
		e.t.Fatalf("outbox: %v", err)
	}
	return st
}

// mails delivers what is due and returns every message the SMTP server has received.
func (e *env) mails() []capture.Captured {
	e.t.Helper()
	e.deliver()
	return e.smtp.Messages()
}

func (e *env) reload(ch *models.Channel) *models.Channel {
	e.t.Helper()
	got, err := e.app.Store.Channel(context.Background(), ch.TeamID, ch.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

func (e *env) episodes(ch *models.Channel) []models.HealthEpisode {
	e.t.Helper()
	eps, err := e.app.Store.ChannelEpisodes(context.Background(), ch.TeamID, ch.ID, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return eps
}

func (e *env) emails() []models.OutboxItem {
	e.t.Helper()
	items, err := e.app.Store.OutboxItems(context.Background(), outbox.KindEmail)
	if err != nil {
		e.t.Fatal(err)
	}
	return items
}

func resultFor(t *testing.T, rep health.SweepReport, ch *models.Channel) health.Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.Channel.ID == ch.ID {
			return r
		}
	}
	t.Fatalf("channel %d was not checked; report: %+v", ch.ID, rep)
	return health.Result{}
}
