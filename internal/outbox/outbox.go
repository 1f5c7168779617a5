// Package outbox delivers durable outbound work, such as alert emails. Work is written in the
// same transaction as the state change that causes it, then claimed with FOR UPDATE SKIP LOCKED
// by any replica, retried with exponential backoff, and deduplicated by an idempotency key, so an
// outage delays it but neither loses nor repeats it.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Handler delivers one item; an error wrapped with Permanent stops retries, any other error is
// retried later.
type Handler func(ctx context.Context, item models.OutboxItem) error

// Options tune delivery; zero values take the defaults.
type Options struct {
	Now          func() time.Time
	Log          *slog.Logger
	PollInterval time.Duration // how often Run looks for due work (default 3s)
	Lease        time.Duration // how long a claimed item stays hidden from other workers (default 5m)
	BaseBackoff  time.Duration // first retry delay (default 30s)
	MaxBackoff   time.Duration // cap on the retry delay (default 1h)
	Batch        int           // most items claimed at once (default 20)
	// Concurrency is how many items one Drain delivers at once (OUTBOX_CONCURRENCY, default
	// 64): delivery mostly waits on the platform, so items overlap their waits.
	Concurrency int
	// Jitter spreads retries of many items so they do not hit a recovering server together;
	// tests turn it off to get exact times.
	NoJitter bool
}

// DefaultConcurrency is Options.Concurrency's default.
const DefaultConcurrency = 64

// Outbox delivers queued items with registered handlers.
type Outbox struct {
	st       *store.Store
	opt      Options
	mu       sync.Mutex
	handlers map[string]Handler
	settled  map[string][]Settled // by kind
	wake     chan struct{}
}

// Settled is told, inside the transaction that records it, that an item reached its end:
// delivered (failure empty) or given up (failure says why). It lets the work's owner keep its
// own state true to the delivery, such as "alerted" meaning the email was delivered.
type Settled func(ctx context.Context, tx *store.Store, it models.OutboxItem, failure string) error

// OnSettled adds f to what is told when an item of kind is delivered or given up. Items of a
// kind nobody listens to are recorded without a transaction around them.
func (o *Outbox) OnSettled(kind string, f Settled) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.settled[kind] = append(o.settled[kind], f)
}

// New builds an Outbox on st.
func New(st *store.Store, opt Options) *Outbox {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = 3 * time.Second
	}
	if opt.Lease <= 0 {
		opt.Lease = 5 * time.Minute
	}
	if opt.BaseBackoff <= 0 {
		opt.BaseBackoff = 30 * time.Second
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = time.Hour
	}
	if opt.Batch <= 0 {
		opt.Batch = 20
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = DefaultConcurrency
	}
	return &Outbox{st: st, opt: opt, handlers: map[string]Handler{}, settled: map[string][]Settled{}, wake: make(chan struct{}, 1)}
}

// Handle registers the handler for a kind; only registered kinds are claimed.
func (o *Outbox) Handle(kind string, h Handler) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.handlers[kind] = h
}

func (o *Outbox) kinds() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]string, 0, len(o.handlers))
	for k := range o.handlers {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (o *Outbox) handler(kind string) Handler {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.handlers[kind]
}

// Entry is one item to queue.
type Entry struct {
	Kind   string
	Key    string // idempotency key: a second Enqueue with it is a no-op
	TeamID int64  // 0 when the work belongs to no team
	// Payload is marshalled to JSON.
	Payload any
	// NotBefore delays the first attempt; zero means now.
	NotBefore time.Time
	// Lane, when set, delivers this item only after every earlier item of the same lane has
	// been delivered or given up (a contact's messages arrive in the order they were sent).
	Lane string
}

// Enqueue writes e through st, which should be the transaction that makes the change the work
// reports; created is false when an item with the same key already exists.
func Enqueue(ctx context.Context, st *store.Store, now time.Time, e Entry) (created bool, err error) {
	it, err := Item(now, e)
	if err != nil {
		return false, err
	}
	return st.EnqueueOutbox(ctx, it)
}

// Item is the row Enqueue writes for e, for a store method that writes it together with the
// change it reports.
func Item(now time.Time, e Entry) (*models.OutboxItem, error) {
	if e.Kind == "" || e.Key == "" {
		return nil, errors.New("outbox: kind and key are required")
	}
	raw, err := json.Marshal(e.Payload)
	if err != nil {
		return nil, fmt.Errorf("outbox: encode %s payload: %w", e.Kind, err)
	}
	it := &models.OutboxItem{Kind: e.Kind, Payload: string(raw), IdempotencyKey: e.Key, Lane: e.Lane, MaxAttempts: 25, NextAttemptAt: now, CreatedAt: now}
	if !e.NotBefore.IsZero() {
		it.NextAttemptAt = e.NotBefore
	}
	if e.TeamID != 0 {
		it.TeamID = &e.TeamID
	}
	return it, nil
}

// Notify wakes Run early, after this process queued work.
func (o *Outbox) Notify() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Run delivers due work until ctx ends, polling so that work queued by other processes (the
// health CLI, other replicas) goes out too.
func (o *Outbox) Run(ctx context.Context) {
	t := time.NewTicker(o.opt.PollInterval)
	defer t.Stop()
	for {
		if _, err := o.Drain(ctx); err != nil && ctx.Err() == nil {
			o.opt.Log.Warn("outbox delivery round failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-o.wake:
		}
	}
}

// Stats counts what a Drain did.
type Stats struct {
	Delivered int
	Retrying  int
	Failed    int
}

// Drain delivers every item due now and returns when none is left. Up to Concurrency items are
// in flight at once: it claims due items (SKIP LOCKED, so replicas share the work) only as
// slots free up, so nothing claimed sits waiting for a slot while its lease runs. No database
// connection is held while a handler runs; delivered items are recorded in batches.
func (o *Outbox) Drain(ctx context.Context) (Stats, error) {
	kinds := o.kinds()
	if len(kinds) == 0 {
		return Stats{}, nil
	}
	d := &drain{o: o, settled: make(chan settledItem, o.opt.Concurrency), flushed: make(chan struct{})}
	go d.settleLoop(ctx)
	done := make(chan struct{}, o.opt.Concurrency)
	inflight := 0
	// Claiming one item per freed slot would cost a claim query per item; waiting for a
	// quarter of the slots keeps claims batched while the pipeline stays full.
	claimAt := max(1, min(o.opt.Batch, o.opt.Concurrency)/4)
	var claimErr error
	for ctx.Err() == nil && d.err() == nil {
		free := o.opt.Concurrency - inflight
		if inflight > 0 && free < claimAt {
			<-done
			inflight--
			continue
		}
		now := o.opt.Now()
		items, err := o.st.ClaimOutbox(ctx, kinds, now, now.Add(o.opt.Lease), min(o.opt.Batch, free))
		if err != nil {
			claimErr = err
			break
		}
		if len(items) == 0 {
			if inflight == 0 {
				break
			}
			// Nothing due yet: wait for in-flight items, whose retries may come due.
			<-done
			inflight--
			continue
		}
		for _, it := range items {
			inflight++
			go func() {
				defer func() { done <- struct{}{} }()
				if err := d.deliver(ctx, it); err != nil {
					d.fail(err)
				}
			}()
		}
	}
	for ; inflight > 0; inflight-- {
		<-done
	}
	close(d.settled)
	<-d.flushed
	d.mu.Lock()
	defer d.mu.Unlock()
	if claimErr != nil {
		return d.stats, claimErr
	}
	if d.firstErr != nil {
		return d.stats, d.firstErr
	}
	return d.stats, ctx.Err()
}

// drain is one Drain's shared state: its counts, its first database error, and the queue of
// delivered items waiting to be recorded.
type drain struct {
	o        *Outbox
	settled  chan settledItem
	flushed  chan struct{}
	mu       sync.Mutex
	stats    Stats
	firstErr error
}

type settledItem struct {
	it     models.OutboxItem
	result chan error
}

func (d *drain) fail(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.firstErr == nil {
		d.firstErr = err
	}
}

func (d *drain) err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.firstErr
}

func (d *drain) count(f func(*Stats)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f(&d.stats)
}

// deliver runs one item's handler and records the outcome; only database errors are returned.
func (d *drain) deliver(ctx context.Context, it models.OutboxItem) error {
	o := d.o
	h := o.handler(it.Kind)
	var err error
	if h == nil {
		err = Permanent(fmt.Errorf("no handler for kind %q", it.Kind))
	} else {
		err = safeCall(ctx, h, it)
	}
	now := o.opt.Now()
	log := o.opt.Log.With("outbox_id", it.ID, "kind", it.Kind, "key", it.IdempotencyKey, "attempt", it.Attempts)
	switch {
	case err == nil:
		d.count(func(s *Stats) { s.Delivered++ })
		log.Info("outbox item delivered")
		// The item is counted delivered only once its record is written.
		res := make(chan error, 1)
		d.settled <- settledItem{it: it, result: res}
		return <-res
	case IsPermanent(err):
		d.count(func(s *Stats) { s.Failed++ })
		log.Error("outbox item failed permanently", "error", err)
		return o.settle(ctx, []models.OutboxItem{it}, now, truncate(err.Error()))
	case it.Attempts >= it.MaxAttempts:
		d.count(func(s *Stats) { s.Failed++ })
		log.Error("outbox item gave up after its last attempt", "error", err)
		return o.settle(ctx, []models.OutboxItem{it}, now, truncate(fmt.Sprintf("gave up after %d attempts: %v", it.Attempts, err)))
	default:
		d.count(func(s *Stats) { s.Retrying++ })
		next := now.Add(o.backoff(it.Attempts))
		log.Warn("outbox item will be retried", "error", err, "next_attempt_at", next)
		return o.st.RetryOutbox(ctx, it.ID, next, truncate(err.Error()))
	}
}

// settleLoop records delivered items: whatever queued while the previous write ran goes in
// the next one, so under load one transaction records many items and alone an item waits for
// nobody.
func (d *drain) settleLoop(ctx context.Context) {
	defer close(d.flushed)
	const most = 200
	for first := range d.settled {
		batch := []settledItem{first}
	more:
		for len(batch) < most {
			select {
			case s, ok := <-d.settled:
				if !ok {
					break more
				}
				batch = append(batch, s)
			default:
				break more
			}
		}
		items := make([]models.OutboxItem, len(batch))
		for i, s := range batch {
			items[i] = s.it
		}
		err := d.o.settle(ctx, items, d.o.opt.Now(), "")
		if err != nil && len(batch) > 1 {
			// One item's listener failing must not hold back the others: record each alone.
			for _, s := range batch {
				s.result <- d.o.settle(ctx, []models.OutboxItem{s.it}, d.o.opt.Now(), "")
			}
			continue
		}
		for _, s := range batch {
			s.result <- err
		}
	}
}

// settle records the end of items (delivered when failure is empty) and tells the OnSettled
// listeners of their kinds, in one transaction when there are any.
func (o *Outbox) settle(ctx context.Context, items []models.OutboxItem, now time.Time, failure string) error {
	o.mu.Lock()
	listeners := make([][]Settled, len(items))
	heard := false
	for i, it := range items {
		listeners[i] = o.settled[it.Kind]
		heard = heard || len(listeners[i]) > 0
	}
	o.mu.Unlock()
	record := func(st *store.Store) error {
		if failure == "" {
			ids := make([]int64, len(items))
			for i, it := range items {
				ids[i] = it.ID
			}
			return st.CompleteOutboxItems(ctx, ids, now)
		}
		for _, it := range items {
			if err := st.FailOutbox(ctx, it.ID, now, failure); err != nil {
				return err
			}
		}
		return nil
	}
	if !heard {
		return record(o.st)
	}
	return o.st.WithTx(ctx, func(tx *store.Store) error {
		if err := record(tx); err != nil {
			return err
		}
		for i, it := range items {
			for _, f := range listeners[i] {
				if err := f(ctx, tx, it, failure); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// safeCall keeps a panicking handler from killing the worker; the item is retried instead.
func safeCall(ctx context.Context, h Handler, it models.OutboxItem) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return h(ctx, it)
}

// backoff is BaseBackoff doubled per attempt, capped at MaxBackoff, with ±20% jitter.
func (o *Outbox) backoff(attempts int) time.Duration {
	d := o.opt.BaseBackoff
	for i := 1; i < attempts && d < o.opt.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, o.opt.MaxBackoff)
	if !o.opt.NoJitter {
		d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	}
	return d
}

func truncate(s string) string {
	const max = 1000
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

type permanentError struct{ err error }

// Error returns the wrapped error's message.
func (e permanentError) Error() string { return e.err.Error() }

// Unwrap exposes the wrapped error.
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as one no retry can fix.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
