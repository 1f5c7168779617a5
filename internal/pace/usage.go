// Package pace keeps platform calls within the platforms' limits by waiting rather than
// failing: Usage slows Graph calls down from the usage Meta reports, Buckets holds each channel
// to its platform's documented rate.
package pace

import (
	"context"
	"sync"
	"time"

	"github.com/omnilink/omnilink/internal/meta"
)

// UsageConfig says when calls slow down. Percentages are of the platform's allowance as
// reported in X-App-Usage / X-Business-Use-Case-Usage.
type UsageConfig struct {
	SlowAt     int           // above this usage, calls are spaced out (default 60)
	StopAt     int           // at or above this usage, calls pause (default 85)
	MaxSpacing time.Duration // spacing just below StopAt (default 1s)
	Cooldown   time.Duration // minimum pause once StopAt is reached (default 1m)
	Disabled   bool          // ignore usage entirely (benchmarks of the unpaced path)
}

// Usage spaces out Graph calls from the usage Meta reports, so callers slow down before Meta
// throttles them instead of after. It is safe for concurrent use.
type Usage struct {
	cfg   UsageConfig
	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	mu          sync.Mutex
	appPercent  int
	next        time.Time // earliest start of the next call
	pausedUntil time.Time
	business    map[string]businessUsage
	stats       UsageStats
}

type businessUsage struct {
	percent     int
	pausedUntil time.Time
}

// UsageStats summarise what the pacer saw and did.
type UsageStats struct {
	PeakPercent int           // highest usage reported (app or any business object)
	Waited      time.Duration // total time calls were held back
	Pauses      int           // times usage reached StopAt
	Throttled   int           // calls the platform still throttled
}

// NewUsage builds a Usage pacer; now and sleep come from the caller so tests can use a fake clock.
func NewUsage(cfg UsageConfig, now func() time.Time, sleep func(context.Context, time.Duration) error) *Usage {
	if cfg.SlowAt <= 0 {
		cfg.SlowAt = 60
	}
	if cfg.StopAt <= cfg.SlowAt {
		cfg.StopAt = max(85, cfg.SlowAt+1)
	}
	if cfg.MaxSpacing <= 0 {
		cfg.MaxSpacing = time.Second
	}
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = time.Minute
	}
	return &Usage{cfg: cfg, now: now, sleep: sleep, business: map[string]businessUsage{}}
}

// Observe takes the usage from one response (meta.Config.OnUsage). Business-use-case usage
// belongs to one Page or account and only slows calls for it; app usage slows everything.
func (p *Usage) Observe(u meta.Usage) {
	if p.cfg.Disabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.stats.PeakPercent = max(p.stats.PeakPercent, u.MaxPercent)
	pause := max(u.RegainAfter, p.cfg.Cooldown)
	if u.BusinessID != "" {
		b := p.business[u.BusinessID]
		b.percent = u.MaxPercent
		if u.MaxPercent >= p.cfg.StopAt && now.Add(pause).After(b.pausedUntil) {
			b.pausedUntil = now.Add(pause)
			p.stats.Pauses++
		}
		p.business[u.BusinessID] = b
		return
	}
	p.appPercent = u.MaxPercent
	if u.MaxPercent >= p.cfg.StopAt && now.Add(pause).After(p.pausedUntil) {
		p.pausedUntil = now.Add(pause)
		p.stats.Pauses++
	}
}

// Throttled records that the platform refused a call for rate reasons despite the pacing, and
// pauses calls for the business object (or everything when id is empty).
func (p *Usage) Throttled(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Throttled++
	if p.cfg.Disabled {
		return
	}
	until := p.now().Add(p.cfg.Cooldown)
	if id == "" {
		if until.After(p.pausedUntil) {
			p.pausedUntil = until
		}
		return
	}
	b := p.business[id]
	if until.After(b.pausedUntil) {
		b.pausedUntil = until
	}
	p.business[id] = b
}

// BusinessBusy reports whether a Page or account is near its own limit, so a call for it should
// wait (a sweep defers its check; a sender sleeps) instead of spending what is left of its allowance.
func (p *Usage) BusinessBusy(id string) (time.Time, bool) {
	if p.cfg.Disabled || id == "" {
		return time.Time{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.business[id]
	if !ok {
		return time.Time{}, false
	}
	if now := p.now(); now.Before(b.pausedUntil) {
		return b.pausedUntil, true
	}
	return time.Time{}, false
}

// Wait holds a Graph call back as long as app usage asks for: not at all below SlowAt, spaced
// out linearly up to MaxSpacing between SlowAt and StopAt, paused until the cool-down ends above.
func (p *Usage) Wait(ctx context.Context) error {
	if p.cfg.Disabled {
		return ctx.Err()
	}
	p.mu.Lock()
	now := p.now()
	start := now
	if p.next.After(start) {
		start = p.next
	}
	if p.pausedUntil.After(start) {
		start = p.pausedUntil
	}
	var spacing time.Duration
	if pct := p.appPercent; pct > p.cfg.SlowAt {
		frac := float64(min(pct, p.cfg.StopAt)-p.cfg.SlowAt) / float64(p.cfg.StopAt-p.cfg.SlowAt)
		spacing = time.Duration(frac * float64(p.cfg.MaxSpacing))
	}
	p.next = start.Add(spacing)
	wait := start.Sub(now)
	if wait > 0 {
		p.stats.Waited += wait
	}
	p.mu.Unlock()
	if wait <= 0 {
		return ctx.Err()
	}
	return p.sleep(ctx, wait)
}

// Stats returns what the pacer has seen so far.
func (p *Usage) Stats() UsageStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// ResetStats starts a fresh count, e.g. per sweep.
func (p *Usage) ResetStats() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats = UsageStats{}
}
