package pace

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/omnilink/omnilink/models"
)

// Rate is a platform's limit of calls per second and how many of them may go at once; the
// bucket never lets more than PerSecond calls through in any one second, burst included.
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

// shape is the bucket behind r: a bucket of burst tokens refilled at refill per second lets
// burst + refill calls through in any one second, so the refill leaves room for the burst and
// no second carries more than PerSecond calls (for rates of 2 per second and up).
func (r Rate) shape() (burst, refill float64) {
	burst = float64(max(r.Burst, 1))
	if half := max(1, math.Floor(r.PerSecond/2)); burst > half {
		burst = half
	}
	return burst, max(r.PerSecond-burst, r.PerSecond/2)
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
	burst, refill := rate.shape()
	p.mu.Lock()
	now := p.now()
	b := p.buckets[string(pl)+"|"+key]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		p.buckets[string(pl)+"|"+key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(burst, b.tokens+el*refill)
		b.last = now
	}
	b.tokens--
	var wait time.Duration
	if b.tokens < 0 {
		wait = time.Duration(-b.tokens / refill * float64(time.Second))
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
