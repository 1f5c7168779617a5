// Package health is the integration health monitor: it checks every connected channel on a
// schedule, classifies each result as healthy, broken (with a cause and its fix) or unknown
// (transient trouble), and runs one failure episode per breakage through a state machine that
// queues exactly one alert email per episode through the outbox.
package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/mail"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// sweepLockKey is the Postgres advisory lock that lets one sweep run at a time across replicas.
const sweepLockKey int64 = 0x6f6d6e69_686c7468 // "omnihlth"

// ErrSweepBusy is returned by Sweep when another sweep holds the lock and the caller would not wait.
var ErrSweepBusy = errors.New("health: another sweep is running")

// CredentialOpener opens a channel's sealed secrets (the channels service).
type CredentialOpener interface {
	Credentials(ch *models.Channel) (models.Credentials, error)
}

// Composer renders a health email (subject and bodies); the monitor adds recipients and headers.
type Composer func(ctx context.Context, a models.HealthAlert) (mail.Message, error)

// Notifier is told when work was queued, so the outbox can deliver it at once.
type Notifier interface{ Notify() }

// Deps are the monitor's collaborators.
type Deps struct {
	Store       *store.Store
	Credentials CredentialOpener
	// MetaConfig builds the monitor's own Graph client, whose usage reports feed the pacer.
	MetaConfig meta.Config
	Line       *line.Client
	Compose    Composer
	Outbox     Notifier // optional
	BaseURL    string   // public origin for links in emails
	Log        *slog.Logger
	Now        func() time.Time
	// Sleep waits for d or until ctx ends; tests pass one that moves a fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Options tune the monitor; zero values take the defaults.
type Options struct {
	Interval      time.Duration // how often each channel is checked (HEALTH_CHECK_INTERVAL, default 1h)
	PollInterval  time.Duration // how often Run looks for due channels (default min(Interval, 5m))
	StartDelay    time.Duration // Run's first sweep waits this long, so a restarting fleet settles first (default 10s)
	Concurrency   int           // channels checked at once (default 32)
	CallTimeout   time.Duration // per platform call (default 20s)
	Retries       int           // extra attempts after a transient failure within one check (default 2)
	RetryBackoff  time.Duration // first in-check retry delay, doubled each time (default 2s)
	RecheckAfter  time.Duration // first re-check after an undecided check, doubled up to Interval (default 5m)
	ExpiryWarning time.Duration // warn this long before a token's known expiry (default 7 days)
	NoRecovered   bool          // do not email when an episode closes
	Pacer         PacerConfig
}

// Monitor checks channels and keeps their failure episodes.
type Monitor struct {
	st      *store.Store
	creds   CredentialOpener
	meta    *meta.Client
	line    *line.Client
	compose Composer
	notify  Notifier
	baseURL string
	appID   string
	log     *slog.Logger
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	opt     Options
	pacer   *Pacer
	calls   atomic.Int64
	metrics *Metrics // nil: none
	// recovered are told, inside the closing transaction, that a channel works again.
	recovered []RecoveryHook
}

// RecoveryHook runs in the transaction that ends a channel's failure, so work held back while
// it was broken is queued again exactly when it recovers.
type RecoveryHook func(ctx context.Context, tx *store.Store, ch *models.Channel) error

// OnRecovered adds a hook run whenever a channel's failure ends; call it before Run.
func (m *Monitor) OnRecovered(h RecoveryHook) { m.recovered = append(m.recovered, h) }

// New builds a Monitor.
func New(d Deps, opt Options) *Monitor {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Sleep == nil {
		d.Sleep = sleepCtx
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if opt.Interval <= 0 {
		opt.Interval = time.Hour
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = min(opt.Interval, 5*time.Minute)
	}
	if opt.StartDelay <= 0 {
		opt.StartDelay = 10 * time.Second
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 32
	}
	if opt.CallTimeout <= 0 {
		opt.CallTimeout = 20 * time.Second
	}
	if opt.Retries < 0 {
		opt.Retries = 0
	} else if opt.Retries == 0 {
		opt.Retries = 2
	}
	if opt.RetryBackoff <= 0 {
		opt.RetryBackoff = 2 * time.Second
	}
	if opt.RecheckAfter <= 0 {
		opt.RecheckAfter = 5 * time.Minute
	}
	if opt.ExpiryWarning <= 0 {
		opt.ExpiryWarning = 7 * 24 * time.Hour
	}
	m := &Monitor{
		st: d.Store, creds: d.Credentials, line: d.Line, compose: d.Compose, notify: d.Outbox,
		baseURL: d.BaseURL, appID: d.MetaConfig.AppID, log: d.Log, now: d.Now, sleep: d.Sleep, opt: opt,
	}
	m.pacer = NewPacer(opt.Pacer, d.Now, d.Sleep)
	mc := d.MetaConfig
	prev := mc.OnUsage
	mc.OnUsage = func(u meta.Usage) {
		m.pacer.Observe(u)
		if prev != nil {
			prev(u)
		}
	}
	m.meta = meta.New(mc)
	return m
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Pacer exposes the monitor's rate pacer (for reports and benchmarks).
func (m *Monitor) Pacer() *Pacer { return m.pacer }

// Interval is how often each channel is checked.
func (m *Monitor) Interval() time.Duration { return m.opt.Interval }

// Run sweeps the due channels at start-up (after StartDelay) and then every PollInterval until ctx ends; since a
// channel falls due Interval after its last check, each one is checked once per Interval, and
// undecided ones sooner.
func (m *Monitor) Run(ctx context.Context) {
	if sleepCtx(ctx, m.opt.StartDelay) != nil {
		return
	}
	t := time.NewTicker(m.opt.PollInterval)
	defer t.Stop()
	for {
		rep, err := m.Sweep(ctx, SweepOptions{})
		switch {
		case errors.Is(err, ErrSweepBusy):
			m.log.Debug("health sweep skipped: another replica is sweeping")
		case err != nil && ctx.Err() == nil:
			m.log.Error("health sweep failed", "error", err)
		case rep.Checked > 0:
			m.log.Info("health sweep finished", "checked", rep.Checked, "healthy", rep.Healthy, "broken", rep.Broken,
				"unknown", rep.Unknown, "opened", rep.Opened, "closed", rep.Closed, "alerts", rep.AlertsQueued,
				"duration", rep.Finished.Sub(rep.Started).String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SweepOptions choose what a sweep checks.
type SweepOptions struct {
	Force   bool // check every live channel, due or not
	Wait    bool // wait for a running sweep elsewhere instead of returning ErrSweepBusy
	Collect bool // keep every channel's result in the report
}

// Result is one channel's check and what it changed.
type Result struct {
	Channel    models.Channel
	Verdict    Verdict
	Transition Transition
}

// SweepReport summarises a sweep.
type SweepReport struct {
	Started, Finished time.Time
	Checked           int
	Healthy           int
	Broken            int
	Unknown           int
	Opened            int // episodes opened
	Closed            int // episodes closed
	AlertsQueued      int // emails queued (alerts, recoveries, expiry warnings)
	Calls             int64
	Pacer             PacerStats
	Results           []Result // with Collect
}

// Sweep checks the due channels (all with Force) with bounded concurrency. Only one sweep runs at
// a time across every process sharing the database.
func (m *Monitor) Sweep(ctx context.Context, opt SweepOptions) (SweepReport, error) {
	var lock *store.AdvisoryLock
	var err error
	if opt.Wait {
		lock, err = m.st.WaitAdvisoryLock(ctx, sweepLockKey)
	} else {
		lock, err = m.st.TryAdvisoryLock(ctx, sweepLockKey)
	}
	if err != nil {
		return SweepReport{}, err
	}
	if lock == nil {
		return SweepReport{}, ErrSweepBusy
	}
	defer func() {
		if err := lock.Unlock(); err != nil {
			m.log.Warn("health sweep lock release failed", "error", err)
		}
	}()

	rep := SweepReport{Started: m.now()}
	m.pacer.ResetStats()
	callsBefore := m.calls.Load()
	if n, err := m.st.CloseDisconnectedEpisodes(ctx, rep.Started); err != nil {
		return rep, err
	} else if n > 0 {
		rep.Closed += int(n)
	}

	jobs := make(chan models.Channel)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range m.opt.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ch := range jobs {
				v := m.check(ctx, &ch)
				tr, err := m.apply(ctx, ch.ID, v, models.DetectedByCheck)
				if err != nil {
					if ctx.Err() == nil {
						m.log.Error("health state change failed", "channel_id", ch.ID, "error", err)
					}
					continue
				}
				m.metrics.observeCheck(string(ch.Platform), v, tr)
				mu.Lock()
				rep.add(ch, v, tr, opt.Collect)
				mu.Unlock()
			}
		}()
	}
	// Page through the due channels by id, so memory stays flat however many there are.
	now := m.now()
	var after int64
	var feedErr error
feed:
	for {
		batch, err := m.st.DueChannels(ctx, now, opt.Force, after, 500)
		if err != nil {
			feedErr = err
			break
		}
		if len(batch) == 0 {
			break
		}
		for _, ch := range batch {
			select {
			case jobs <- ch:
			case <-ctx.Done():
				break feed
			}
		}
		after = batch[len(batch)-1].ID
	}
	close(jobs)
	wg.Wait()
	if feedErr == nil && ctx.Err() == nil {
		// Emails go out after the whole sweep, so channels that broke together share one.
		n, err := m.notifyAll(ctx)
		if err != nil {
			feedErr = err
		}
		rep.AlertsQueued = n.emails
		for i := range rep.Results {
			n.annotate(rep.Results[i].Channel.ID, &rep.Results[i].Transition)
		}
	}
	rep.Finished = m.now()
	rep.Calls = m.calls.Load() - callsBefore
	rep.Pacer = m.pacer.Stats()
	m.metrics.observeSweep(rep)
	if feedErr != nil {
		return rep, feedErr
	}
	return rep, ctx.Err()
}

func (r *SweepReport) add(ch models.Channel, v Verdict, tr Transition, collect bool) {
	if tr.Ignored {
		return
	}
	r.Checked++
	switch v.State {
	case models.VerdictHealthy:
		r.Healthy++
	case models.VerdictBroken:
		r.Broken++
	default:
		r.Unknown++
	}
	if tr.Opened {
		r.Opened++
	}
	if tr.Closed {
		r.Closed++
	}
	if collect {
		ch.Credentials = ""
		r.Results = append(r.Results, Result{Channel: ch, Verdict: v, Transition: tr})
	}
}

// CheckChannel checks one of a team's channels now and applies the result (the console's "check
// now"); it does not wait for or block the sweep lock, since per-channel changes lock the row.
func (m *Monitor) CheckChannel(ctx context.Context, teamID, channelID int64) (Result, error) {
	ch, err := m.st.Channel(ctx, teamID, channelID)
	if err != nil {
		return Result{}, err
	}
	v := m.check(ctx, ch)
	tr, err := m.apply(ctx, ch.ID, v, models.DetectedByCheck)
	if err != nil {
		return Result{}, err
	}
	m.metrics.observeCheck(string(ch.Platform), v, tr)
	n, err := m.notifyOne(ctx, ch.TeamID)
	if err != nil {
		return Result{}, err
	}
	m.metrics.observeEmails(n.emails)
	n.annotate(ch.ID, &tr)
	ch.Credentials = ""
	return Result{Channel: *ch, Verdict: v, Transition: tr}, nil
}

// ReportFailure lets any sender tell the monitor that a call with ch's credentials failed. Auth
// failures (password changed, token expired, permission removed…) go through the same state
// change as a sweep's verdict, opening the episode and queuing its one alert; anything else (rate limits,
// closed messaging windows, 5xx) is left alone. It reports whether the channel is now broken.
func (m *Monitor) ReportFailure(ctx context.Context, ch *models.Channel, err error) (bool, error) {
	if ch == nil || err == nil {
		return false, nil
	}
	c := Classify(ch.Platform, err)
	if c.Outcome != OutcomeBroken {
		return false, nil
	}
	v := Verdict{State: models.VerdictBroken, Cause: c.Cause, Detail: describe("send", err)}
	tr, aerr := m.apply(ctx, ch.ID, v, models.DetectedBySend)
	if aerr != nil {
		return false, aerr
	}
	if tr.Ignored {
		return false, nil
	}
	m.metrics.observeTransition(tr)
	n, err := m.notifyOne(ctx, ch.TeamID)
	if err != nil {
		return true, err
	}
	m.metrics.observeEmails(n.emails)
	return true, nil
}

// ChannelRepaired closes the channel's open episode after someone reauthorised it (the channels
// service's EventSink) and brings its next check forward to confirm the new credentials.
func (m *Monitor) ChannelRepaired(ctx context.Context, ch *models.Channel) {
	if ch == nil {
		return
	}
	tr, teamID, err := m.repaired(ctx, ch.ID)
	if err == nil && !tr.Ignored {
		var n *notice
		n, err = m.notifyOne(ctx, teamID)
		m.metrics.observeEmails(n.emails)
	}
	if err != nil {
		m.log.Error("closing health episode after repair failed", "channel_id", ch.ID, "error", err)
	}
}

// Report is one of a team's channels with its health and latest episodes, for the console.
func (m *Monitor) Report(ctx context.Context, teamID, channelID int64) (*models.HealthReport, error) {
	ch, err := m.st.Channel(ctx, teamID, channelID)
	if err != nil {
		return nil, err
	}
	h, err := m.st.ChannelHealth(ctx, ch.ID)
	if err != nil {
		return nil, err
	}
	eps, err := m.st.ChannelEpisodes(ctx, teamID, ch.ID, 10)
	if err != nil {
		return nil, err
	}
	ch.Credentials = ""
	r := &models.HealthReport{Channel: *ch, Health: h, Episodes: eps}
	return r, m.attachAlerts(ctx, r)
}

// TeamReports is Report for every connected channel of a team, keyed by channel id.
func (m *Monitor) TeamReports(ctx context.Context, teamID int64) (map[int64]*models.HealthReport, error) {
	chs, err := m.st.TeamChannels(ctx, teamID)
	if err != nil {
		return nil, err
	}
	hs, err := m.st.TeamChannelHealth(ctx, teamID)
	if err != nil {
		return nil, err
	}
	eps, err := m.st.TeamEpisodes(ctx, teamID, 10)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*models.HealthReport, len(chs))
	for _, ch := range chs {
		ch.Credentials = ""
		out[ch.ID] = &models.HealthReport{Channel: ch, Health: models.ChannelHealth{ChannelID: ch.ID, Verdict: models.VerdictUnchecked}}
	}
	for _, h := range hs {
		if r := out[h.ChannelID]; r != nil {
			r.Health = h
		}
	}
	for _, e := range eps {
		if r := out[e.ChannelID]; r != nil {
			r.Episodes = append(r.Episodes, e)
		}
	}
	list := make([]*models.HealthReport, 0, len(out))
	for _, r := range out {
		list = append(list, r)
	}
	if err := m.attachAlerts(ctx, list...); err != nil {
		return nil, err
	}
	return out, nil
}

// attachAlerts loads the delivery state of the reports' alert emails in one query.
func (m *Monitor) attachAlerts(ctx context.Context, reports ...*models.HealthReport) error {
	var keys []string
	for _, r := range reports {
		for _, e := range r.Episodes {
			if e.AlertKey != "" {
				keys = append(keys, e.AlertKey)
			}
		}
	}
	if len(keys) == 0 {
		return nil
	}
	items, err := m.st.OutboxByKeys(ctx, keys)
	if err != nil {
		return fmt.Errorf("health: alert deliveries: %w", err)
	}
	byKey := make(map[string]models.OutboxItem, len(items))
	for _, it := range items {
		it.Payload = "" // recipients and bodies are not the console's business
		byKey[it.IdempotencyKey] = it
	}
	for _, r := range reports {
		for _, e := range r.Episodes {
			if it, ok := byKey[e.AlertKey]; ok {
				if r.Alerts == nil {
					r.Alerts = map[string]models.OutboxItem{}
				}
				r.Alerts[e.AlertKey] = it
			}
		}
	}
	return nil
}

// RenderFunc renders a health email in a language: views/email.HealthAlert.
type RenderFunc func(ctx context.Context, loc *i18n.Localizer, a models.HealthAlert) (subject, text, html string, err error)

// NewComposer makes a Composer that renders each alert in its team's language.
func NewComposer(bundle *i18n.Bundle, render RenderFunc) Composer {
	return func(ctx context.Context, a models.HealthAlert) (mail.Message, error) {
		subject, text, html, err := render(ctx, bundle.For(a.Locale), a)
		if err != nil {
			return mail.Message{}, err
		}
		return mail.Message{Subject: subject, Text: text, HTML: html}, nil
	}
}
