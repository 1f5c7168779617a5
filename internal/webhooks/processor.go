package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// ProcessorOptions tune a Processor; zero values take the defaults.
type ProcessorOptions struct {
	Batch   int           // deliveries claimed and applied in one transaction (default 500)
	Workers int           // concurrent batches in Run (default 2)
	Poll    time.Duration // how often to look for work without a wake-up (default 2s)
	// Linger is how long a wake-up waits for more deliveries before claiming (default 150ms):
	// under a stream of deliveries, fewer and larger batches cost far fewer commits. Negative: none.
	Linger      time.Duration
	MaxAttempts int // tries before a delivery is given up (default 8)
	// Backoff is the wait before try n+1 after n failures (default 5s·2^(n-1), at most 10m).
	Backoff func(failures int) time.Duration
	Now     func() time.Time // the clock for due times and processed_at (default time.Now)
	// LinkCodes completes OmniLink links from WhatsApp messages (optional).
	LinkCodes LinkCodeMatcher
	// Applied is told after each batch that applied deliveries (new contacts may wait for
	// their profile); optional.
	Applied func()
}

// Processor applies stored deliveries. Any number of processors may run against one database:
// claims use FOR UPDATE SKIP LOCKED, so each delivery is applied by exactly one of them.
type Processor struct {
	st      *store.Store
	metrics *Metrics
	log     *slog.Logger
	wake    <-chan struct{}
	opt     ProcessorOptions
	// answerer replies to messages and postbacks through the triggers; nil answers nothing.
	answerer Answerer
}

// NewProcessor builds a processor; wake (may be nil) is the receiver's Wake channel.
func NewProcessor(st *store.Store, m *Metrics, log *slog.Logger, wake <-chan struct{}, opt ProcessorOptions) *Processor {
	if opt.Batch <= 0 {
		opt.Batch = 500
	}
	if opt.Workers <= 0 {
		opt.Workers = 2
	}
	if opt.Poll <= 0 {
		opt.Poll = 2 * time.Second
	}
	if opt.Linger < 0 {
		opt.Linger = 0
	} else if opt.Linger == 0 {
		opt.Linger = 150 * time.Millisecond
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 8
	}
	if opt.Backoff == nil {
		opt.Backoff = defaultBackoff
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Processor{st: st, metrics: m, log: log, wake: wake, opt: opt}
}

func defaultBackoff(failures int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < failures && d < 10*time.Minute; i++ {
		d *= 2
	}
	return min(d, 10*time.Minute)
}

// Run processes deliveries with Workers concurrent loops until ctx ends, and returns once
// every loop has stopped. Work left by a crash is simply pending and is picked up at once.
func (p *Processor) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range p.opt.Workers {
		wg.Go(func() { p.loop(ctx) })
	}
	wg.Wait()
}

// loop applies batches: at once when woken or after a full batch, otherwise every Poll.
func (p *Processor) loop(ctx context.Context) {
	// Reset discards a stale expiry (Go 1.23 timers), so one timer serves every wait.
	timer := time.NewTimer(p.opt.Poll)
	defer timer.Stop()
	for {
		n, err := p.RunOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if n > 0 && err == nil && p.opt.Applied != nil {
			p.opt.Applied()
		}
		if err != nil {
			p.log.Warn("webhook processing pass failed", "error", err)
		}
		if err == nil && n == p.opt.Batch {
			continue // a full batch: more is probably waiting
		}
		timer.Reset(p.opt.Poll)
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
			timer.Reset(p.opt.Linger)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		case <-timer.C:
		}
	}
}

// Drain processes until no delivery is due and returns how many it handled.
func (p *Processor) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := p.RunOnce(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// RunOnce claims up to Batch due deliveries (FOR UPDATE SKIP LOCKED) in one transaction and
// applies them together with a few set-based statements. If that fails, it is undone and the
// deliveries are applied one event at a time, each event in a savepoint of its own: a bad
// event then costs only itself, its neighbours are stored, and its delivery is retried (or
// given up) with that event's error. A crash leaves the claimed deliveries pending again.
func (p *Processor) RunOnce(ctx context.Context) (int, error) {
	var n int
	var t *tally
	err := p.st.WithTx(ctx, func(tx *store.Store) error {
		now := p.opt.Now()
		evs, err := tx.ClaimWebhookEvents(ctx, p.opt.Batch, now)
		n = len(evs)
		if err != nil || n == 0 {
			return err
		}
		r := newRouter(tx)
		good := make([]parsed, 0, n)
		for i := range evs {
			d, err := parseSafely(ctx, r, &evs[i])
			if err != nil {
				return err
			}
			if d.err != nil {
				if err := p.settle(ctx, tx, d.ev, d.err); err != nil {
					return err
				}
				continue
			}
			good = append(good, d)
		}
		t = newTally()
		ferr := tx.WithTx(ctx, func(sp *store.Store) (err error) {
			defer recoverInto(&err)
			if err := p.applyBatch(ctx, sp, good, t); err != nil {
				return err
			}
			ids := make([]int64, len(good))
			for i, d := range good {
				ids[i] = d.ev.ID
			}
			return sp.FinishWebhookEvents(ctx, ids, now)
		})
		if ferr == nil || ctx.Err() != nil {
			return ctx.Err()
		}
		p.log.Warn("webhook batch failed; applying its events one at a time", "deliveries", len(good), "error", ferr)
		t = newTally()
		for _, d := range good {
			if err := p.applyOne(ctx, tx, d, t); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && t != nil {
		t.report(p.metrics, p.log)
	}
	return n, err
}

// applyOne applies a delivery's events one by one, each in its own savepoint, and records the
// delivery's outcome; only database errors outside the events are returned.
func (p *Processor) applyOne(ctx context.Context, tx *store.Store, d parsed, t *tally) error {
	var failed []error
	for i := range d.items {
		it := &d.items[i]
		t.events[it.platform]++
		err := tx.WithTx(ctx, func(sp *store.Store) (err error) {
			defer recoverInto(&err)
			return p.applyItem(ctx, sp, d.ev.ID, it, t)
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			failed = append(failed, fmt.Errorf("event %d (%s %s): %w", it.n, it.platform, it.eventKey, err))
		}
	}
	return p.settle(ctx, tx, d.ev, errors.Join(failed...))
}

// parseSafely parses a delivery; a parser panic marks it malformed instead of crashing every restart.
func parseSafely(ctx context.Context, r *router, ev *models.WebhookEvent) (d parsed, err error) {
	defer func() {
		if v := recover(); v != nil {
			d, err = parsed{ev: ev, err: malformed(fmt.Errorf("panic while parsing: %v", v))}, nil
		}
	}()
	return r.parse(ctx, ev)
}

// recoverInto turns a panic while applying into the error of what was being applied.
func recoverInto(err *error) {
	if v := recover(); v != nil {
		*err = fmt.Errorf("panic while applying: %v", v)
	}
}

// errMalformed marks a delivery that can never be applied: retrying would not help.
var errMalformed = errors.New("malformed delivery")

// settle records the outcome of one delivery.
func (p *Processor) settle(ctx context.Context, tx *store.Store, ev *models.WebhookEvent, perr error) error {
	now := p.opt.Now()
	if perr == nil {
		return tx.FinishWebhookEvent(ctx, ev.ID, now, "")
	}
	msg := noNUL(strings.ToValidUTF8(perr.Error(), ""))
	if len(msg) > 2000 {
		msg = strings.ToValidUTF8(msg[:2000], "")
	}
	id, source := ev.ID, ev.Platform
	tries := ev.Attempts + 1
	if errors.Is(perr, errMalformed) || tries >= p.opt.MaxAttempts {
		p.metrics.failed.WithLabelValues(source).Inc()
		p.log.Warn("webhook delivery given up", "event_id", id, "platform", source, "attempts", tries, "error", msg)
		return tx.FinishWebhookEvent(ctx, id, now, msg)
	}
	p.metrics.retried.WithLabelValues(source).Inc()
	p.log.Warn("webhook delivery failed; will retry", "event_id", id, "platform", source, "attempts", tries, "error", msg)
	return tx.RetryWebhookEvent(ctx, id, msg, now.Add(p.opt.Backoff(tries)))
}

func malformed(err error) error { return fmt.Errorf("%w: %v", errMalformed, err) }
