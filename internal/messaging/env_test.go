package messaging_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

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

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

// clock is the fake time shared by the sandbox, the service and the outbox, so the 24-hour
// window and retry backoff are tested without waiting.
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

// call is one request the sandbox received.
type call struct {
	Method, Path, RetryKey string
	Body                   string
}

// env is one test's world: the real app on its own database, the sandbox's APIs over real
// HTTP, and a messaging service with its outbox on a fake clock.
type env struct {
	t      *testing.T
	clock  *clock
	world  *sandbox.World
	api    *httptest.Server
	app    *testutil.TestApp
	meta   *meta.Client
	svc    *messaging.Service
	outbox *outbox.Outbox
	team   *models.Team

	mu    sync.Mutex
	calls []call
}

func newEnv(t *testing.T, opts ...func(*messaging.Deps, *messaging.Options)) *env {
	t.Helper()
	return newEnvWorld(t, nil, opts...)
}

// newEnvWorld is newEnv with the sandbox's options changed by world (when not nil).
func newEnvWorld(t *testing.T, world func(*sandbox.Options), opts ...func(*messaging.Deps, *messaging.Options)) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{t: time.Now().UTC().Truncate(time.Second)}}
	wo := sandbox.Options{AppID: config.SandboxAppID, AppSecret: config.SandboxAppSecret, Clock: e.clock.Now, HangLimit: 5 * time.Second}
	if world != nil {
		world(&wo)
	}
	w, err := sandbox.New(wo)
	if err != nil {
		t.Fatal(err)
	}
	e.world = w
	api := w.APIHandler()
	e.api = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		e.mu.Lock()
		e.calls = append(e.calls, call{Method: r.Method, Path: r.URL.Path, RetryKey: r.Header.Get("X-Line-Retry-Key"), Body: string(body)})
		e.mu.Unlock()
		api.ServeHTTP(rw, r)
	}))
	t.Cleanup(e.api.Close)
	e.app = testutil.NewIdleApp(t, func(c *config.Config) {
		c.MetaGraphURL = e.api.URL + "/graph"
		c.LineAPIURL = e.api.URL + "/line"
	})
	e.meta = meta.New(meta.Config{AppID: w.AppID(), AppSecret: w.AppSecret(), GraphURL: e.api.URL + "/graph"})
	e.outbox = outbox.New(e.app.Store, outbox.Options{Now: e.clock.Now, NoJitter: true, BaseBackoff: 30 * time.Second})
	deps := messaging.Deps{
		Store:       e.app.Store,
		Credentials: e.app.Channels,
		MetaConfig:  meta.Config{AppID: w.AppID(), AppSecret: w.AppSecret(), GraphURL: e.api.URL + "/graph"},
		Line:        line.New(line.Config{APIURL: e.api.URL + "/line"}),
		Health:      e.app.Health,
		Outbox:      e.outbox,
		Now:         e.clock.Now,
	}
	opt := messaging.Options{CallTimeout: 700 * time.Millisecond}
	for _, f := range opts {
		f(&deps, &opt)
	}
	e.svc = messaging.New(deps, opt)
	e.svc.Register(e.outbox)
	e.team = e.app.Team("小熊烘焙坊 Bear Bakery")
	return e
}

// sendCalls returns the platform send requests made since the test began.
func (e *env) sendCalls() []call {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []call
	for _, c := range e.calls {
		if c.Method == http.MethodPost && (strings.HasSuffix(c.Path, "/messages") || strings.HasSuffix(c.Path, "/message/push")) {
			out = append(out, c)
		}
	}
	return out
}

func (e *env) channel(p models.Platform, account, userKey string) *models.Channel {
	e.t.Helper()
	return e.app.SandboxChannel(e.team.ID, e.world, e.meta, p, account, userKey)
}

// contact makes a customer write to the channel in the sandbox (opening the platform's window)
// and records the contact as the webhook processor would.
func (e *env) contact(ch *models.Channel, sp sandbox.Platform, account, externalID string, friendship models.Friendship) *models.Contact {
	e.t.Helper()
	if _, _, err := e.world.SimulateInbound(sp, account, externalID, "哈囉"); err != nil {
		e.t.Fatal(err)
	}
	return e.recordContact(ch, externalID, e.clock.Now(), friendship)
}

func (e *env) recordContact(ch *models.Channel, externalID string, inbound time.Time, friendship models.Friendship) *models.Contact {
	e.t.Helper()
	ctx := context.Background()
	a := store.ContactActivity{TeamID: e.team.ID, ChannelID: ch.ID, ExternalUserID: externalID, Name: "客人", InboundAt: &inbound}
	if friendship != "" {
		a.Friendship, a.FriendshipAt = friendship, &inbound
	}
	id, _, err := e.app.Store.UpsertContact(ctx, a)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := e.app.Store.TeamContact(ctx, e.team.ID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// send requests a send in its own transaction, as a caller making a change would.
func (e *env) send(req messaging.SendRequest) (messaging.Result, error) {
	e.t.Helper()
	if req.TeamID == 0 {
		req.TeamID = e.team.ID
	}
	var res messaging.Result
	err := e.app.Store.WithTx(context.Background(), func(tx *store.Store) error {
		var err error
		res, err = e.svc.Send(context.Background(), tx, req)
		return err
	})
	return res, err
}

func (e *env) mustSend(req messaging.SendRequest) messaging.Result {
	e.t.Helper()
	res, err := e.send(req)
	if err != nil {
		e.t.Fatalf("send: %v", err)
	}
	return res
}

func (e *env) drain() outbox.Stats {
	e.t.Helper()
	st, err := e.outbox.Drain(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

func (e *env) record(id int64) *models.MessageSend {
	e.t.Helper()
	m, err := e.app.Store.MessageSendSystem(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *env) outboxItems() []models.OutboxItem {
	e.t.Helper()
	items, err := e.app.Store.OutboxItems(context.Background(), messaging.KindSend)
	if err != nil {
		e.t.Fatal(err)
	}
	return items
}

func (e *env) sent(contactID int64) []models.Message {
	e.t.Helper()
	ms, err := e.app.Store.TeamOutboundMessages(context.Background(), e.team.ID, contactID)
	if err != nil {
		e.t.Fatal(err)
	}
	return ms
}

// outbound lists what the business sent in the sandbox's conversation log.
func (e *env) outbound(p sandbox.Platform, account, customer string) []sandbox.Message {
	var out []sandbox.Message
	for _, m := range e.world.Conversation(p, account, customer) {
		if m.Direction == sandbox.Outbound {
			out = append(out, m)
		}
	}
	return out
}

func text(s string) models.Content { return models.TextContent(s) }
