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
	p := pace.NewBuckets(map[models.Platform]pace.Rate{models.LINE: {PerSecond: 12, Burst: 2}}, func() time.Time { return now },
		func(_ context.Context, d time.Duration) error { slept += d; return nil })
	for range 6 {
		if err := p.Wait(context.Background(), models.LINE, "2000000001|push"); err != nil {
			t.Fatal(err)
		}
	}
	// Two go at once (the burst); the other four queue 0.1, 0.2, 0.3, 0.4 s behind (12 a second
	// less the burst of 2 refills 10 a second).
	if want := time.Second; slept != want || p.Waited() != want {
		t.Fatalf("slept %v (pacer says %v), want %v", slept, p.Waited(), want)
	}
	if err := p.Wait(context.Background(), models.LINE, "another channel"); err != nil || slept != time.Second {
		t.Fatalf("another channel waited on this one's bucket: %v, %v", err, slept)
	}
}

// However calls arrive, no one-second window carries more than the platform's limit: the burst
// comes out of the second's allowance, not on top of it.
func TestBucketsHoldEverySecondUnderTheLimit(t *testing.T) {
	for _, pl := range []models.Platform{models.LINE, models.Facebook, models.Instagram, models.WhatsApp} {
		now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		p := pace.NewBuckets(nil, func() time.Time { return now },
			func(_ context.Context, d time.Duration) error { now = now.Add(d); return nil })
		limit := int(pace.Rates[pl].PerSecond)
		var at []time.Time
		for i := range 5 * limit {
			if i == 2*limit {
				now = now.Add(3 * time.Second) // a lull refills the bucket
			}
			if err := p.Wait(context.Background(), pl, "ch"); err != nil {
				t.Fatal(err)
			}
			at = append(at, now)
		}
		// Calls are in time order: the window starting at call i ends before call i+limit.
		for i := 0; i+limit < len(at); i++ {
			if at[i+limit].Sub(at[i]) < time.Second {
				t.Fatalf("%s: %d calls within %s, limit %d a second", pl, limit+1, at[i+limit].Sub(at[i]), limit)
			}
		}
	}
}
