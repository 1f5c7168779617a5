package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/omnilink/omnilink/internal/store"
)

// ProcessorOptions tune a Processor; zero values take the defaults.
type ProcessorOptions struct {
	Batch       int           // deliveries per pass before looking at ctx and the wake-up again (default 20)
	Poll        time.Duration // how often to look for work without a wake-up (default 2s)
	MaxAttempts int           // tries before a delivery is given up (default 8)
	// Backoff is the wait before try n+1 after n failures (default 5s·2^(n-1), at most 10m).
	Backoff func(failures int) time.Duration
	Now     func() time.Time // the clock for due times and processed_at (default time.Now)
	// LinkCodes completes OmniLink links from WhatsApp messages (optional).
	LinkCodes LinkCodeMatcher
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
		opt.Batch = 20
	}
	if opt.Poll <= 0 {
		opt.Poll = 2 * time.Second
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

// Run processes deliveries until ctx ends: at once when woken, otherwise every Poll. Work
// left by a crash is simply pending and is picked up on the first pass.
func (p *Processor) Run(ctx context.Context) {
	// Reset discards a stale expiry (Go 1.23 timers), so one timer serves every wait.
	timer := time.NewTimer(p.opt.Poll)
	defer timer.Stop()
	for {
		n, err := p.RunOnce(ctx)
		if ctx.Err() != nil {
			return
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

// RunOnce applies up to Batch due deliveries and returns how many it claimed. Each delivery
// gets its own transaction, which claims it (FOR UPDATE SKIP LOCKED), applies it and records
// the outcome: locks on contacts are held only that long, and a crash leaves the delivery
// pending again with none of its effects.
func (p *Processor) RunOnce(ctx context.Context) (int, error) {
	n := 0
	for n < p.opt.Batch {
		claimed, err := p.one(ctx)
		if err != nil || !claimed {
			return n, err
		}
		n++
	}
	return n, nil
}

// one applies the oldest due delivery, if any.
func (p *Processor) one(ctx context.Context) (claimed bool, err error) {
	var done *tally
	var id int64
	err = p.st.WithTx(ctx, func(tx *store.Store) error {
		evs, err := tx.ClaimWebhookEvents(ctx, 1, p.opt.Now())
		if err != nil || len(evs) == 0 {
			return err
		}
		claimed = true
		ev := &evs[0]
		id = ev.ID
		t := newTally()
		// A savepoint, so a failure undoes the delivery's effects but still records the attempt.
		perr := tx.WithTx(ctx, func(sp *store.Store) (err error) {
			// A delivery that panics is recorded as failed rather than crashing every restart.
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic while applying: %v", r)
				}
			}()
			return p.apply(ctx, sp, ev, t)
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if perr == nil {
			done = t
		}
		return p.settle(ctx, tx, ev.ID, ev.Platform, ev.Attempts, perr)
	})
	if err == nil && done != nil {
		done.report(p.metrics, p.log, id)
	}
	return claimed, err
}

// errMalformed marks a delivery that can never be applied: retrying would not help.
var errMalformed = errors.New("malformed delivery")

// settle records the outcome of one delivery.
func (p *Processor) settle(ctx context.Context, tx *store.Store, id int64, source string, attempts int, perr error) error {
	now := p.opt.Now()
	if perr == nil {
		return tx.FinishWebhookEvent(ctx, id, now, "")
	}
	msg := perr.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	tries := attempts + 1
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
