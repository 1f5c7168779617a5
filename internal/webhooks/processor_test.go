package webhooks_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/omnilink/omnilink/internal/webhooks"
	"github.com/omnilink/omnilink/models"
)

func (e *env) processor(opt webhooks.ProcessorOptions) *webhooks.Processor {
	return webhooks.NewProcessor(e.a.Store, webhooks.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler), nil, opt)
}

func (e *env) exec(sql string) {
	e.t.Helper()
	if _, err := e.db.Exec(context.Background(), sql); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

func TestDeliveriesAcknowledgedBeforeACrashAreProcessedOnRestart(t *testing.T) {
	e := newIdleEnv(t) // the receiver answers, but no processor runs: as if it crashed after the 200
	team := e.a.Team("A")
	fb := e.a.Channel(team.ID, models.Facebook, pageID, models.Credentials{})
	ln := e.a.Channel(team.ID, models.LINE, lineBot, models.Credentials{ChannelSecret: lineSec})
	e.postMeta(fixture(t, "meta/messenger-text.json"))
	e.postMeta(fixture(t, "meta/whatsapp-text.json"))
	e.postLINE(ln, lineSec, fixture(t, "line/message-text.json"))
	time.Sleep(100 * time.Millisecond)
	if n := e.count(`SELECT count(*) FROM webhook_events WHERE processed_at IS NULL`); n != 3 {
		t.Fatalf("pending deliveries = %d, want 3", n)
	}
	if n := e.count(`SELECT count(*) FROM contacts`); n != 0 {
		t.Fatalf("contacts before any processor ran: %d", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.a.WebhookProcessor.Run(ctx) // the restart
	e.settled()
	e.noErrors()
	if n := e.count(`SELECT count(*) FROM messages WHERE channel_id IN ($1, $2)`, fb.ID, ln.ID); n != 2 {
		t.Errorf("messages after restart = %d, want 2", n)
	}
	if n := e.count(`SELECT count(*) FROM unrouted_events WHERE platform = 'whatsapp'`); n != 1 {
		t.Errorf("unrouted WhatsApp events = %d, want 1", n)
	}
}

func TestTwoProcessorsApplyEachDeliveryOnce(t *testing.T) {
	e := newIdleEnv(t)
	team := e.a.Team("A")
	ch := e.a.Channel(team.ID, models.Facebook, pageID, models.Credentials{})
	base := fixture(t, "meta/messenger-text.json")
	const distinct, replays, senders = 40, 20, 10
	bodies := make([][]byte, 0, distinct+replays)
	for i := range distinct {
		bodies = append(bodies, replace(t, base,
			"41d102a3e1ae206a38", fmt.Sprintf("msg%03d", i),
			psid, fmt.Sprintf("70000000000%02d", i%senders)))
	}
	bodies = append(bodies, bodies[:replays]...)
	for _, b := range bodies {
		e.postMeta(b)
	}

	var wg sync.WaitGroup
	start := make(chan struct{})
	counts := make([]int, 2)
	errs := make([]error, 2)
	for i := range 2 {
		p := e.processor(webhooks.ProcessorOptions{Batch: 3})
		wg.Go(func() {
			<-start
			counts[i], errs[i] = p.Drain(context.Background())
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("processor %d: %v", i, err)
		}
	}
	t.Logf("processor deliveries: %v", counts)
	if counts[0]+counts[1] != len(bodies) {
		t.Errorf("processed %d deliveries in total, want %d", counts[0]+counts[1], len(bodies))
	}
	if n := e.count(`SELECT count(*) FROM webhook_events WHERE processed_at IS NULL OR attempts <> 1 OR error <> ''`); n != 0 {
		t.Errorf("%d deliveries not applied exactly once", n)
	}
	if n := e.count(`SELECT count(*) FROM messages WHERE channel_id = $1`, ch.ID); n != distinct {
		t.Errorf("messages = %d, want %d", n, distinct)
	}
	if n := e.count(`SELECT count(*) FROM contacts WHERE channel_id = $1`, ch.ID); n != senders {
		t.Errorf("contacts = %d, want %d", n, senders)
	}
	if n := e.count(`SELECT count(*) FROM customers WHERE team_id = $1`, team.ID); n != senders {
		t.Errorf("customers = %d, want one per contact (%d)", n, senders)
	}
}

func TestFailedDeliveryRetriesAfterBackoffWithoutUndoingOthers(t *testing.T) {
	e := newIdleEnv(t)
	team := e.a.Team("A")
	fb := e.a.Channel(team.ID, models.Facebook, pageID, models.Credentials{})
	ln := e.a.Channel(team.ID, models.LINE, lineBot, models.Credentials{ChannelSecret: lineSec})
	e.postMeta(fixture(t, "meta/messenger-text.json"))
	e.postLINE(ln, lineSec, fixture(t, "line/unfollow.json"))

	now := time.Now()
	p := e.processor(webhooks.ProcessorOptions{MaxAttempts: 5, Backoff: func(int) time.Duration { return time.Minute }, Now: func() time.Time { return now }})
	e.exec(`ALTER TABLE messages RENAME TO messages_away`) // recording the Messenger message now fails
	if n, err := p.RunOnce(context.Background()); err != nil || n != 2 {
		t.Fatalf("first pass: %d, %v", n, err)
	}
	var attempts int
	var msg string
	var pending bool
	e.scan(`SELECT attempts, error, processed_at IS NULL FROM webhook_events WHERE platform = 'meta'`, nil, &attempts, &msg, &pending)
	if attempts != 1 || !strings.Contains(msg, "messages") || !pending {
		t.Errorf("failed delivery: attempts %d, error %q, pending %v", attempts, msg, pending)
	}
	if n := e.count(`SELECT count(*) FROM contacts WHERE channel_id = $1`, fb.ID); n != 0 {
		t.Errorf("the failed delivery left %d contacts behind", n)
	}
	if n := e.count(`SELECT count(*) FROM contacts WHERE channel_id = $1 AND line_friendship = 'blocked'`, ln.ID); n != 1 {
		t.Errorf("the other delivery in the batch was not applied")
	}
	if n, _ := p.RunOnce(context.Background()); n != 0 {
		t.Errorf("retried %d deliveries before the backoff passed", n)
	}
	e.exec(`ALTER TABLE messages_away RENAME TO messages`)
	now = now.Add(2 * time.Minute)
	if n, err := p.RunOnce(context.Background()); err != nil || n != 1 {
		t.Fatalf("retry pass: %d, %v", n, err)
	}
	e.scan(`SELECT attempts, error, processed_at IS NULL FROM webhook_events WHERE platform = 'meta'`, nil, &attempts, &msg, &pending)
	if attempts != 2 || msg != "" || pending {
		t.Errorf("after retry: attempts %d, error %q, pending %v", attempts, msg, pending)
	}
	if n := e.count(`SELECT count(*) FROM messages WHERE channel_id = $1`, fb.ID); n != 1 {
		t.Errorf("messages after retry = %d, want 1", n)
	}
}

func TestDeliveryIsGivenUpAfterMaxAttempts(t *testing.T) {
	e := newIdleEnv(t)
	team := e.a.Team("A")
	e.a.Channel(team.ID, models.Facebook, pageID, models.Credentials{})
	e.postMeta(fixture(t, "meta/messenger-text.json"))
	p := e.processor(webhooks.ProcessorOptions{MaxAttempts: 2, Backoff: func(int) time.Duration { return 0 }})
	e.exec(`ALTER TABLE messages RENAME TO messages_away`)
	// Without a backoff the delivery is retried at once, until it runs out of attempts.
	if n, err := p.Drain(context.Background()); err != nil || n != 2 {
		t.Fatalf("drain: %d tries, %v; want 2", n, err)
	}
	e.exec(`ALTER TABLE messages_away RENAME TO messages`)
	if n, _ := p.Drain(context.Background()); n != 0 {
		t.Errorf("a given-up delivery was claimed again (%d)", n)
	}
	var attempts int
	var msg string
	var done bool
	e.scan(`SELECT attempts, error, processed_at IS NOT NULL FROM webhook_events`, nil, &attempts, &msg, &done)
	if attempts != 2 || msg == "" || !done {
		t.Errorf("given-up delivery: attempts %d, error %q, done %v (the error must stay visible)", attempts, msg, done)
	}
}
