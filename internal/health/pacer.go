package health

import (
	"context"
	"time"

	"github.com/omnilink/omnilink/internal/pace"
)

// PacerConfig says when the sweep slows down (see pace.UsageConfig).
type PacerConfig = pace.UsageConfig

// Pacer spaces out the sweep's Graph calls from the usage Meta reports (see pace.Usage).
type Pacer = pace.Usage

// PacerStats summarise what the pacer saw and did.
type PacerStats = pace.UsageStats

// NewPacer builds the sweep's Pacer; now and sleep come from the monitor so tests can use a fake clock.
func NewPacer(cfg PacerConfig, now func() time.Time, sleep func(context.Context, time.Duration) error) *Pacer {
	return pace.NewUsage(cfg, now, sleep)
}
