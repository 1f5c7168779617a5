package pace_test

import (
	"context"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/pace"
	"github.com/omnilink/omnilink/models"
)

// Buckets make callers wait for their turn instead of failing.
func TestBucketsWaitInsteadOfFailing(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var slept time.Duration
	p := pace.NewBuckets(map[models.Platform]pace.Rate{models.LINE: {PerSecond: 10, Burst: 2}}, func() time.Time { return now },
		func(_ context.Context, d time.Duration) error { slept += d; return nil })
	for range 6 {
		if err := p.Wait(context.Background(), models.LINE, "2000000001|push"); err != nil {
			t.Fatal(err)
		}
	}
	// Two go at once (the burst); the other four queue 0.1, 0.2, 0.3, 0.4 s behind.
	if want := time.Second; slept != want || p.Waited() != want {
		t.Fatalf("slept %v (pacer says %v), want %v", slept, p.Waited(), want)
	}
	if err := p.Wait(context.Background(), models.LINE, "another channel"); err != nil || slept != time.Second {
		t.Fatalf("another channel waited on this one's bucket: %v, %v", err, slept)
	}
}
