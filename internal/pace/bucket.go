package pace

import (
	"context"
	"sync"
	"time"

	"github.com/omnilink/omnilink/models"
)

// Rate is a sustained number of calls per second with a burst allowance.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Rates is the one table of per-channel call rates; NewBuckets takes overrides.
// LINE allows 2,000 requests per second per endpoint and channel; Messenger about 300 sends
// per second per Page; Instagram about 100 per second per account; WhatsApp Cloud API about
// 80 messages per second per number (more on higher tiers).
var Rates = map[models.Platform]Rate{
	models.LINE:      {PerSecond: 2000, Burst: 200},
	models.Facebook:  {PerSecond: 300, Burst: 30},
	models.Instagram: {PerSecond: 100, Burst: 10},
	models.WhatsApp:  {PerSecond: 80, Burst: 8},
}

// Buckets is a token bucket per channel (and endpoint) that makes a caller wait for its turn
// instead of letting the platform refuse it. It is safe for concurrent use.
type Buckets struct {
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
	rates map[models.Platform]Rate

	mu      sync.Mutex
	buckets map[string]*bucket
	waited  time.Duration
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewBuckets builds Buckets with Rates, overridden by rates.
func NewBuckets(rates map[models.Platform]Rate, now func() time.Time, sleep func(context.Context, time.Duration) error) *Buckets {
	r := make(map[models.Platform]Rate, len(Rates))
	for k, v := range Rates {
		r[k] = v
	}
	for k, v := range rates {
		r[k] = v
	}
	return &Buckets{now: now, sleep: sleep, rates: r, buckets: map[string]*bucket{}}
}

// Wait takes one token from the bucket of key on platform p, sleeping until one is free.
// Callers reserve their token before sleeping, so concurrent callers queue up in order.
func (p *Buckets) Wait(ctx context.Context, pl models.Platform, key string) error {
	rate, ok := p.rates[pl]
	if !ok || rate.PerSecond <= 0 {
		return ctx.Err()
	}
	burst := float64(max(rate.Burst, 1))
	p.mu.Lock()
	now := p.now()
	b := p.buckets[string(pl)+"|"+key]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		p.buckets[string(pl)+"|"+key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(burst, b.tokens+el*rate.PerSecond)
		b.last = now
	}
	b.tokens--
	var wait time.Duration
	if b.tokens < 0 {
		wait = time.Duration(-b.tokens / rate.PerSecond * float64(time.Second))
		p.waited += wait
	}
	p.mu.Unlock()
	if wait <= 0 {
		return ctx.Err()
	}
	return p.sleep(ctx, wait)
}

// Waited is the total time callers were held back so far.
func (p *Buckets) Waited() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waited
}
