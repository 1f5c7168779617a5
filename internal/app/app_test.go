package app_test

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

// workerFrames are functions only the background workers run.
var workerFrames = []string{"webhooks.(*Processor).loop", "outbox.(*Outbox).Run", "health.(*Monitor).Run", "app.(*App).housekeeping"}

func runningWorkers() []string {
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	var out []string
	for _, f := range workerFrames {
		if strings.Contains(stacks, f) {
			out = append(out, f)
		}
	}
	return out
}

// Close returns only once every background worker has stopped, so the store can be closed
// after it without pulling the database from under a worker in the middle of a transaction.
func TestCloseWaitsForTheWorkersBeforeTheStoreCloses(t *testing.T) {
	a := testutil.NewIdleApp(t)
	ctx := context.Background()
	// Hold a lock the processor's claim waits for, so it is inside a query when shutdown begins.
	blocker, err := a.SQL().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Rollback(ctx)
	if _, err := blocker.Exec(ctx, `LOCK TABLE webhook_events IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	a.Run(runCtx)
	deadline := time.Now().Add(5 * time.Second)
	for len(runningWorkers()) < len(workerFrames) {
		if time.Now().After(deadline) {
			t.Fatalf("workers did not start: %v", runningWorkers())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the processor is now waiting for the lock

	cancel() // what a signal does in serve, before the deferred Close
	closed := make(chan error, 1)
	go func() { closed <- a.Close() }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	if left := runningWorkers(); len(left) > 0 {
		t.Fatalf("Close returned while workers still run: %v", left)
	}
}

// The running server prunes processed webhook deliveries older than WEBHOOK_RETENTION (at
// start-up, then hourly) and keeps newer ones.
func TestRunPrunesWebhookDeliveriesPastTheRetention(t *testing.T) {
	a := testutil.NewIdleApp(t, func(c *config.Config) { c.WebhookRetention = 72 * time.Hour })
	db := a.SQL()
	ctx := context.Background()
	if _, err := db.Exec(ctx, `INSERT INTO webhook_events (platform, body, received_at, processed_at) VALUES
		('meta', '{}', now() - interval '4 days', now() - interval '4 days'),
		('meta', '{}', now() - interval '2 days', now() - interval '2 days')`); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.Run(runCtx)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var old, recent int
		if err := db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE processed_at < now() - interval '3 days'),
			count(*) FILTER (WHERE processed_at >= now() - interval '3 days') FROM webhook_events`).Scan(&old, &recent); err != nil {
			t.Fatal(err)
		}
		if recent != 1 {
			t.Fatalf("a delivery within the retention was pruned")
		}
		if old == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the delivery past the retention was not pruned")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
