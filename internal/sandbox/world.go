package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"sync"
	"sync/atomic"
	"time"
)

// StateStore persists the emulator's state between runs; nil in Options keeps it in memory.
type StateStore interface {
	// Load returns the saved state, or nil bytes when nothing was saved yet.
	Load(ctx context.Context) ([]byte, error)
	// Save replaces the saved state.
	Save(ctx context.Context, state []byte) error
}

// Options configures a World.
type Options struct {
	// AppID and AppSecret are the fake Meta app's credentials (META_APP_ID, META_APP_SECRET).
	// Empty values fall back to DefaultAppID and DefaultAppSecret.
	AppID     string
	AppSecret string
	// Persist saves the state after every change; nil keeps it in memory only.
	Persist StateStore
	// Clock replaces time.Now, so tests can move time forward (token expiry, 24-hour windows).
	Clock func() time.Time
	// Latency is added to every API call, for load benchmarks.
	Latency time.Duration
	// UsageLimit is how many Graph calls one token may make per UsageWindow before it is
	// throttled (0 = 200, Meta's documented per-user hourly figure).
	UsageLimit int
	// UsageWindow is the sliding window of the usage counters (0 = one hour).
	UsageWindow time.Duration
	// HangLimit bounds how long a simulated timeout holds a request when the client never
	// gives up (0 = two minutes).
	HangLimit time.Duration
	// Logger receives persistence failures; nil discards them.
	Logger *slog.Logger
}

// Fallback app credentials for a sandbox started without META_APP_ID / META_APP_SECRET.
const (
	DefaultAppID     = "880000000000001"
	DefaultAppSecret = "5b1d0c9e7a3f4e2d8c6b0a9f1e3d5c7b"
)

// stateVersion is bumped when the persisted JSON changes incompatibly.
const stateVersion = 1

// World is the emulator: fake Facebook users, Pages, Instagram accounts, LINE official accounts,
// WhatsApp numbers, their tokens and conversations. It is safe for concurrent use.
type World struct {
	mu        sync.Mutex
	appID     string
	appSecret string
	persist   StateStore
	clock     func() time.Time
	latency   time.Duration
	hangLimit time.Duration
	log       *slog.Logger

	st    *state
	usage usageMeter
	dirty bool

	// inFlight and peakInFlight count API calls waiting out Latency, so a test can see how
	// many calls a client makes at once.
	inFlight, peakInFlight atomic.Int64
}

// PeakInFlight is the most API calls that were waiting out Options.Latency at the same time.
func (w *World) PeakInFlight() int { return int(w.peakInFlight.Load()) }

// New builds a World, loading saved state from opts.Persist or seeding a fresh one.
func New(opts Options) (*World, error) {
	w := &World{
		appID:     opts.AppID,
		appSecret: opts.AppSecret,
		persist:   opts.Persist,
		clock:     opts.Clock,
		latency:   opts.Latency,
		hangLimit: opts.HangLimit,
		log:       opts.Logger,
	}
	if w.appID == "" {
		w.appID = DefaultAppID
	}
	if w.appSecret == "" {
		w.appSecret = DefaultAppSecret
	}
	if w.clock == nil {
		w.clock = time.Now
	}
	if w.hangLimit <= 0 {
		w.hangLimit = 2 * time.Minute
	}
	if w.log == nil {
		w.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	w.usage = usageMeter{limit: opts.UsageLimit, window: opts.UsageWindow, calls: map[string][]time.Time{}}
	if w.usage.limit <= 0 {
		w.usage.limit = 200
	}
	if w.usage.window <= 0 {
		w.usage.window = time.Hour
	}

	var saved []byte
	if w.persist != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b, err := w.persist.Load(ctx)
		if err != nil {
			return nil, fmt.Errorf("sandbox: load state: %w", err)
		}
		saved = b
	}
	if len(saved) == 0 {
		w.st = seed(w.now())
		w.mu.Lock()
		defer w.mu.Unlock()
		w.dirty = true
		if err := w.saveLocked(); err != nil {
			return nil, err
		}
		return w, nil
	}
	st := &state{}
	if err := json.Unmarshal(saved, st); err != nil {
		return nil, fmt.Errorf("sandbox: decode state: %w", err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("sandbox: saved state has version %d, want %d (delete it to start fresh)", st.Version, stateVersion)
	}
	st.ensureMaps()
	w.st = st
	return w, nil
}

// AppID returns the fake Meta app's id.
func (w *World) AppID() string { return w.appID }

// AppSecret returns the fake Meta app's secret (the key of X-Hub-Signature-256).
func (w *World) AppSecret() string { return w.appSecret }

// AppAccessToken returns the app access token accepted by debug_token ("{app-id}|{app-secret}").
func (w *World) AppAccessToken() string { return w.appID + "|" + w.appSecret }

// Snapshot returns the state as the JSON that would be handed to the StateStore.
func (w *World) Snapshot() ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return json.Marshal(w.st)
}

func (w *World) now() time.Time { return w.clock() }

// changed marks the state dirty; the next saveLocked writes it out.
func (w *World) changed() { w.dirty = true }

// KeepInMemory stops persisting changes from now on, so a load benchmark that started from a
// large saved state does not re-encode it after every call.
func (w *World) KeepInMemory() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.persist = nil
}

// saveLocked writes the state when it changed. The caller holds w.mu, which also keeps saves
// in order, so an older snapshot never overwrites a newer one.
func (w *World) saveLocked() error {
	if !w.dirty {
		return nil
	}
	w.dirty = false
	if w.persist == nil {
		return nil
	}
	b, err := json.Marshal(w.st)
	if err != nil {
		return fmt.Errorf("sandbox: encode state: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.persist.Save(ctx, b); err != nil {
		return fmt.Errorf("sandbox: save state: %w", err)
	}
	return nil
}

// saveAfterRequest persists changes made while serving an API call. A failed save must not
// turn into an API error the client would misread as a platform fault, so it is only logged.
func (w *World) saveAfterRequest() {
	if err := w.saveLocked(); err != nil {
		w.log.Error("sandbox state not saved", "err", err)
	}
}

// ErrNotFound is returned when a user, account or customer does not exist in the world.
var ErrNotFound = errors.New("sandbox: not found")

// ErrNoTokens is returned when a target is damaged before anything holds a token for it.
var ErrNoTokens = fmt.Errorf("%w: no tokens issued yet", ErrNotFound)

// ErrBlocked is returned when a simulated LINE user who blocked the account tries to write.
var ErrBlocked = errors.New("sandbox: the customer blocked the account")

// ErrCreatorAccount is returned when a customer writes to an Instagram creator account, whose
// messages never reach apps.
var ErrCreatorAccount = errors.New("sandbox: creator account")

// ErrBadCustomerID is returned for a customer id in the wrong shape for its platform.
var ErrBadCustomerID = errors.New("sandbox: malformed customer id")

// ErrCauseNotApplicable is returned for a break cause the target's platform cannot produce.
var ErrCauseNotApplicable = errors.New("sandbox: cause not applicable")

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomString returns n characters from alphabet using crypto/rand, since tokens and codes
// must not be guessable even in the sandbox (it may be reachable on a LAN).
func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic("sandbox: crypto/rand failed: " + err.Error())
		}
		b[i] = alphabet[v.Int64()]
	}
	return string(b)
}

func randomDigits(n int) string {
	s := randomString(n, "0123456789")
	if s[0] == '0' {
		s = "1" + s[1:]
	}
	return s
}

func randomHex(n int) string { return randomString(n, "0123456789abcdef") }
