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
	Batch        int           // items claimed at once (default 20)
	// Jitter spreads retries of many items so they do not hit a recovering server together;
	// tests turn it off to get exact times.
	NoJitter bool
}

// Outbox delivers queued items with registered handlers.
type Outbox struct {
	st       *store.Store
	opt      Options
	mu       sync.Mutex
	handlers map[string]Handler
	settled  []Settled
	wake     chan struct{}
}

// Settled is told, inside the transaction that records it, that an item reached its end:
// delivered (failure empty) or given up (failure says why). It lets the work's owner keep its
// own state true to the delivery, such as "alerted" meaning the email was delivered.
type Settled func(ctx context.Context, tx *store.Store, it models.OutboxItem, failure string) error

// OnSettled adds f to what is told when an item is delivered or given up.
func (o *Outbox) OnSettled(f Settled) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.settled = append(o.settled, f)
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
	return &Outbox{st: st, opt: opt, handlers: map[string]Handler{}, wake: make(chan struct{}, 1)}
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
}

// Enqueue writes e through st, which should be the transaction that makes the change the work
// reports; created is false when an item with the same key already exists.
func Enqueue(ctx context.Context, st *store.Store, now time.Time, e Entry) (created bool, err error) {
	if e.Kind == "" || e.Key == "" {
		return false, errors.New("outbox: kind and key are required")
	}
	raw, err := json.Marshal(e.Payload)
	if err != nil {
		return false, fmt.Errorf("outbox: encode %s payload: %w", e.Kind, err)
	}
	it := &models.OutboxItem{Kind: e.Kind, Payload: string(raw), IdempotencyKey: e.Key, MaxAttempts: 25, NextAttemptAt: now, CreatedAt: now}
	if !e.NotBefore.IsZero() {
		it.NextAttemptAt = e.NotBefore
	}
	if e.TeamID != 0 {
		it.TeamID = &e.TeamID
	}
	return st.EnqueueOutbox(ctx, it)
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

// Drain delivers every item due now, batch by batch, and returns when none is left.
func (o *Outbox) Drain(ctx context.Context) (Stats, error) {
	var st Stats
	kinds := o.kinds()
	if len(kinds) == 0 {
		return st, nil
	}
	for ctx.Err() == nil {
		now := o.opt.Now()
		items, err := o.st.ClaimOutbox(ctx, kinds, now, now.Add(o.opt.Lease), o.opt.Batch)
		if err != nil {
			return st, err
		}
		if len(items) == 0 {
			return st, nil
		}
		for _, it := range items {
			if err := o.deliver(ctx, it, &st); err != nil {
				return st, err
			}
		}
	}
	return st, ctx.Err()
}

// deliver runs one item's handler and records the outcome; only database errors are returned.
func (o *Outbox) deliver(ctx context.Context, it models.OutboxItem, st *Stats) error {
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
		st.Delivered++
		log.Info("outbox item delivered")
		return o.settle(ctx, it, now, "")
	case IsPermanent(err):
		st.Failed++
		log.Error("outbox item failed permanently", "error", err)
		return o.settle(ctx, it, now, truncate(err.Error()))
	case it.Attempts >= it.MaxAttempts:
		st.Failed++
		log.Error("outbox item gave up after its last attempt", "error", err)
		return o.settle(ctx, it, now, truncate(fmt.Sprintf("gave up after %d attempts: %v", it.Attempts, err)))
	default:
		st.Retrying++
		next := now.Add(o.backoff(it.Attempts))
		log.Warn("outbox item will be retried", "error", err, "next_attempt_at", next)
		return o.st.RetryOutbox(ctx, it.ID, next, truncate(err.Error()))
	}
}

// settle records an item's end and tells the OnSettled listeners, in one transaction.
func (o *Outbox) settle(ctx context.Context, it models.OutboxItem, now time.Time, failure string) error {
	o.mu.Lock()
	listeners := slices.Clone(o.settled)
	o.mu.Unlock()
	return o.st.WithTx(ctx, func(tx *store.Store) error {
		var err error
		if failure == "" {
			err = tx.CompleteOutbox(ctx, it.ID, now)
		} else {
			err = tx.FailOutbox(ctx, it.ID, now, failure)
		}
		for _, f := range listeners {
			if err != nil {
				break
			}
			err = f(ctx, tx, it, failure)
		}
		return err
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
