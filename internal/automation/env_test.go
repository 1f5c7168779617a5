package automation_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/automation"
	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/messaging"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/outbox"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

// clock is the fake time shared by the tag service, its scheduler, messaging and the outbox.
type clock struct {
	mu sync.Mutex
	t  time.Time
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

// env is one test's world: the real app on its own database, the sandbox's APIs over real
// HTTP, and the tag service with messaging and the outbox on a fake clock.
type env struct {
	t      *testing.T
	clock  *clock
	world  *sandbox.World
	api    *httptest.Server
	app    *testutil.TestApp
	meta   *meta.Client
	lineC  *line.Client
	send   *messaging.Service
	tags   *automation.Tags
	outbox *outbox.Outbox
	team   *models.Team
	admin  *models.User
	lineCh *models.Channel

	mu    sync.Mutex
	calls []string // "METHOD path" of every LINE call
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{t: time.Now().UTC().Truncate(time.Second)}}
	w, err := sandbox.New(sandbox.Options{AppID: config.SandboxAppID, AppSecret: config.SandboxAppSecret, Clock: e.clock.Now, HangLimit: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.world = w
	api := w.APIHandler()
	e.api = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if strings.HasPrefix(r.URL.Path, "/line/") {
			e.mu.Lock()
			e.calls = append(e.calls, r.Method+" "+strings.TrimPrefix(r.URL.Path, "/line"))
			e.mu.Unlock()
		}
		api.ServeHTTP(rw, r)
	}))
	t.Cleanup(e.api.Close)
	e.app = testutil.NewIdleApp(t, func(c *config.Config) {
		c.MetaGraphURL = e.api.URL + "/graph"
		c.LineAPIURL = e.api.URL + "/line"
	})
	e.meta = meta.New(meta.Config{AppID: w.AppID(), AppSecret: w.AppSecret(), GraphURL: e.api.URL + "/graph"})
	e.lineC = line.New(line.Config{APIURL: e.api.URL + "/line"})
	e.outbox = outbox.New(e.app.Store, outbox.Options{Now: e.clock.Now, NoJitter: true, Log: quiet})
	e.send = messaging.New(messaging.Deps{Store: e.app.Store, Credentials: e.app.Channels,
		MetaConfig: meta.Config{AppID: w.AppID(), AppSecret: w.AppSecret(), GraphURL: e.api.URL + "/graph"},
		Line:       e.lineC, Health: e.app.Health, Outbox: e.outbox, Now: e.clock.Now, Log: quiet}, messaging.Options{CallTimeout: 2 * time.Second})
	e.send.Register(e.outbox)
	e.tags = e.newTags()
	e.app.Health.OnRecovered(e.tags.ChannelRecovered)
	e.team = e.app.Team("小熊烘焙坊 Bear Bakery")
	e.admin = e.app.User(e.team.ID, models.RoleMarketer, "mkt@bear.test")
	e.lineCh = e.app.SandboxChannel(e.team.ID, w, e.meta, models.LINE, sandbox.LINEChannelID, "")
	return e
}

// newTags builds a tag service as a (re)started process would.
func (e *env) newTags() *automation.Tags {
	t := automation.NewTags(automation.TagsDeps{Store: e.app.Store, Messaging: e.send, Line: e.lineC, Credentials: e.app.Channels,
		Health: e.app.Health, Outbox: e.outbox, Now: e.clock.Now, Log: quiet})
	t.Register(e.outbox)
	return t
}

// contact records a LINE friend of the sandbox account as the webhook processor would.
func (e *env) contact(ch *models.Channel, userID string) *models.Contact {
	e.t.Helper()
	ctx := context.Background()
	now := e.clock.Now()
	id, _, err := e.app.Store.UpsertContact(ctx, store.ContactActivity{TeamID: e.team.ID, ChannelID: ch.ID, ExternalUserID: userID,
		Name: "客人 " + userID[:5], InboundAt: &now, Friendship: models.FriendshipFriend, FriendshipAt: &now})
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := e.app.Store.TeamContact(ctx, e.team.ID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) tag(name string) *models.Tag {
	e.t.Helper()
	tg, err := e.tags.Create(context.Background(), e.admin, models.TagInput{Name: name})
	if err != nil {
		e.t.Fatal(err)
	}
	return tg
}

// menus are the sandbox account's seeded rich menus, by English name.
func (e *env) menus() map[string]string {
	out := map[string]string{}
	for _, m := range e.world.RichMenus(sandbox.LINEChannelID) {
		out[m.Name[strings.LastIndex(m.Name, " ")+1:]] = m.ID
	}
	return out
}

func (e *env) menuRule(tag *models.Tag, menuID string, priority string) *models.TagRule {
	e.t.Helper()
	r, err := e.tags.SaveRule(context.Background(), e.admin, tag.ID, models.RuleInput{Action: models.RuleRichMenu,
		Menu: idStr(e.lineCh.ID) + ":" + menuID, Priority: priority})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) drain() outbox.Stats {
	e.t.Helper()
	st, err := e.outbox.Drain(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

func (e *env) apply(c *models.Contact, tag *models.Tag) {
	e.t.Helper()
	if err := e.tags.Apply(context.Background(), e.admin, c.ID, tag.ID); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) remove(c *models.Contact, tag *models.Tag) {
	e.t.Helper()
	if err := e.tags.Remove(context.Background(), e.admin, c.ID, tag.ID); err != nil {
		e.t.Fatal(err)
	}
}

// userMenu is the rich menu LINE (the sandbox) shows the user; "" is the default.
func (e *env) userMenu(userID string) string {
	return e.world.UserRichMenu(sandbox.LINEChannelID, userID)
}

func (e *env) lineCalls(prefix string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.app.SQL().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func idStr(id int64) string { return strconv.FormatInt(id, 10) }

type storeContact = store.ContactActivity
