package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/outbox"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func enqueue(t *testing.T, st *store.Store, now time.Time, key string) bool {
	t.Helper()
	created, err := outbox.Enqueue(context.Background(), st, now, outbox.Entry{Kind: "test", Key: key, Payload: map[string]string{"key": key}})
	if err != nil {
		t.Fatal(err)
	}
	return created
}

// Several workers (replicas) draining at once deliver every item exactly once.
func TestConcurrentWorkersDeliverEachItemOnce(t *testing.T) {
	st := testutil.Store(t)
	clk := &fakeClock{t: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}
	const n = 60
	for i := range n {
		enqueue(t, st, clk.Now(), fmt.Sprintf("k%d", i))
	}
	if enqueue(t, st, clk.Now(), "k0") {
		t.Fatal("a second item with the same key was queued")
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 4 {
		ob := outbox.New(st, outbox.Options{Now: clk.Now, Batch: 5, NoJitter: true})
		ob.Handle("test", func(_ context.Context, it models.OutboxItem) error {
			mu.Lock()
			seen[it.IdempotencyKey]++
			mu.Unlock()
			runtime.Gosched() // let the workers interleave
			return nil
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := ob.Drain(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("%d distinct items delivered, want %d", len(seen), n)
	}
	for k, c := range seen {
		if c != 1 {
			t.Fatalf("%s delivered %d times", k, c)
		}
	}
}

// A worker that dies mid-delivery hands the item back when its lease runs out; failures are
// retried with doubling delays; a permanent failure stops.
func TestLeaseBackoffAndPermanentFailure(t *testing.T) {
	st := testutil.Store(t)
	ctx := context.Background()
	clk := &fakeClock{t: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}
	enqueue(t, st, clk.Now(), "crash")

	// A claim without an outcome is what a crash leaves behind.
	claimed, err := st.ClaimOutbox(ctx, []string{"test"}, clk.Now(), clk.Now().Add(5*time.Minute), 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	calls := 0
	fail := errors.New("server busy")
	ob := outbox.New(st, outbox.Options{Now: clk.Now, NoJitter: true, BaseBackoff: 30 * time.Second})
	ob.Handle("test", func(context.Context, models.OutboxItem) error {
		calls++
		if calls <= 2 {
			return fail
		}
		return nil
	})
	if s, _ := ob.Drain(ctx); s.Delivered+s.Retrying != 0 {
		t.Fatalf("a leased item was delivered again before its lease ran out: %+v", s)
	}
	clk.Advance(5 * time.Minute)
	if s, _ := ob.Drain(ctx); s.Retrying != 1 {
		t.Fatalf("after the lease: %+v", s)
	}
	items, _ := st.OutboxItems(ctx, "test")
	if got := items[0].NextAttemptAt.Sub(clk.Now()); got != 60*time.Second || items[0].LastError != "server busy" {
		t.Fatalf("retry in %s (%q), want 60s after the second attempt", got, items[0].LastError)
	}
	clk.Advance(time.Minute)
	if s, _ := ob.Drain(ctx); s.Retrying != 1 {
		t.Fatalf("third attempt: %+v", s)
	}
	clk.Advance(2 * time.Minute)
	if s, _ := ob.Drain(ctx); s.Delivered != 1 {
		t.Fatalf("fourth attempt: %+v", s)
	}

	enqueue(t, st, clk.Now(), "bad")
	ob.Handle("test", func(context.Context, models.OutboxItem) error {
		return outbox.Permanent(errors.New("550 no such user"))
	})
	if s, _ := ob.Drain(ctx); s.Failed != 1 {
		t.Fatalf("permanent failure: %+v", s)
	}
	clk.Advance(24 * time.Hour)
	if s, _ := ob.Drain(ctx); s != (outbox.Stats{}) {
		t.Fatalf("a failed item was tried again: %+v", s)
	}
	items, _ = st.OutboxItems(ctx, "test")
	if items[1].State() != models.OutboxFailed || items[1].LastError != "550 no such user" {
		t.Fatalf("failed item: %+v", items[1])
	}
}

// A handler that panics does not take the worker down; the item is retried.
func TestPanickingHandlerIsRetried(t *testing.T) {
	st := testutil.Store(t)
	clk := &fakeClock{t: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}
	enqueue(t, st, clk.Now(), "p")
	ob := outbox.New(st, outbox.Options{Now: clk.Now, NoJitter: true})
	ob.Handle("test", func(context.Context, models.OutboxItem) error { panic("boom") })
	if s, err := ob.Drain(context.Background()); err != nil || s.Retrying != 1 {
		t.Fatalf("%+v %v", s, err)
	}
}

// Items of one lane go out one at a time, oldest first, across concurrent workers; an item that
// must be retried holds its lane (and only its lane) until it is delivered.
func TestLaneDeliversInOrderOneAtATime(t *testing.T) {
	st := testutil.Store(t)
	ctx := context.Background()
	clk := &fakeClock{t: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}
	const lanes, perLane = 4, 8
	for i := range perLane {
		for l := range lanes {
			key := fmt.Sprintf("lane%d-%d", l, i)
			if _, err := outbox.Enqueue(ctx, st, clk.Now(), outbox.Entry{Kind: "test", Key: key, Lane: fmt.Sprintf("contact:%d", l),
				Payload: map[string]int{"lane": l, "seq": i}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var mu sync.Mutex
	order := map[int][]int{}
	busy := map[int]bool{}
	failedOnce := false
	handler := func(_ context.Context, it models.OutboxItem) error {
		var p struct{ Lane, Seq int }
		if err := json.Unmarshal([]byte(it.Payload), &p); err != nil {
			return err
		}
		mu.Lock()
		if busy[p.Lane] {
			mu.Unlock()
			t.Errorf("lane %d: two items in flight at once", p.Lane)
			return nil
		}
		if p.Lane == 0 && p.Seq == 2 && !failedOnce {
			failedOnce = true
			mu.Unlock()
			return errors.New("platform busy")
		}
		busy[p.Lane] = true
		mu.Unlock()
		time.Sleep(2 * time.Millisecond) // hold the lane while other workers claim
		mu.Lock()
		busy[p.Lane] = false
		order[p.Lane] = append(order[p.Lane], p.Seq)
		mu.Unlock()
		return nil
	}
	drainAll := func() {
		var wg sync.WaitGroup
		for range 3 {
			ob := outbox.New(st, outbox.Options{Now: clk.Now, Batch: 8, NoJitter: true, BaseBackoff: time.Minute})
			ob.Handle("test", handler)
			wg.Go(func() {
				if _, err := ob.Drain(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	drainAll()
	mu.Lock()
	if got := order[0]; !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("lane 0 before its retry: %v, want [0 1] (the rest waits behind the retrying item)", got)
	}
	for l := 1; l < lanes; l++ {
		if len(order[l]) != perLane || !slices.IsSorted(order[l]) {
			t.Fatalf("lane %d delivered %v, want all %d in order", l, order[l], perLane)
		}
	}
	mu.Unlock()
	clk.Advance(2 * time.Minute)
	drainAll()
	if got := order[0]; len(got) != perLane || !slices.IsSorted(got) {
		t.Fatalf("lane 0 after the retry: %v", got)
	}
}
