package testutil

import (
	"sync"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/config"
)

// Clock is a test's time: it stands still until Advance moves it, so expiry is tested without
// sleeping.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// NewAppWithClock is NewApp with every service (sessions, accounts, outbox, health) reading
// time from clock.
func NewAppWithClock(t testing.TB, clock *Clock, mutate ...func(*config.Config)) *TestApp {
	t.Helper()
	return newApp(t, true, clock.Now, mutate...)
}
