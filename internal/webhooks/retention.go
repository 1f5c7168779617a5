package webhooks

import (
	"context"
	"time"

	"github.com/omnilink/omnilink/internal/store"
)

// PruneOptions tune Prune; zero values take the defaults.
type PruneOptions struct {
	Batch int           // deliveries deleted per transaction (default 500)
	Pause time.Duration // rest between batches, so a large backlog never crowds out live work (default 50ms)
}

// Prune deletes deliveries processed before cutoff, with their unrouted events, and the
// deduplication keys recorded before it, in small batches until none is left; it returns how
// many deliveries it deleted. Pending deliveries are never touched, however old. The cutoff must
// lie beyond the platforms' redelivery window, or a late redelivery would be applied twice
// (config enforces this).
func Prune(ctx context.Context, st *store.Store, cutoff time.Time, opt PruneOptions) (int64, error) {
	if opt.Batch <= 0 {
		opt.Batch = 500
	}
	if opt.Pause <= 0 {
		opt.Pause = 50 * time.Millisecond
	}
	deliveries, err := inBatches(ctx, opt, func() (int64, error) { return st.PruneWebhookEventsSystem(ctx, cutoff, opt.Batch) })
	if err != nil {
		return deliveries, err
	}
	_, err = inBatches(ctx, opt, func() (int64, error) { return st.PruneWebhookEventKeysSystem(ctx, cutoff, opt.Batch) })
	return deliveries, err
}

// inBatches runs del until it deletes less than a full batch, resting between batches.
func inBatches(ctx context.Context, opt PruneOptions, del func() (int64, error)) (int64, error) {
	var total int64
	for {
		n, err := del()
		total += n
		if err != nil || n < int64(opt.Batch) {
			return total, err
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(opt.Pause):
		}
	}
}
