package health

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/models"
)

// Verdict is the outcome of checking one channel.
type Verdict struct {
	State  models.HealthVerdict
	Cause  models.HealthCause // set when State is broken
	Detail string             // what the platform said, without secrets
	// TokenExpiresAt is the token's earliest known expiry, when the platform told us.
	TokenExpiresAt *time.Time
	// Resubscribed says the check found our webhook subscription gone and restored it.
	Resubscribed bool
	// RetryAt, when set, is when an undecided check should run again (rate-limit pauses).
	RetryAt time.Time
	// Unopenable says the stored credentials could not be opened (another OMNILINK_SECRET_KEY):
	// our settings are at fault, not the platform.
	Unopenable bool
}

// probe accumulates one check's findings: the first broken cause wins, and undecided steps make
// the verdict unknown unless something proved the channel broken.
type probe struct {
	m        *Monitor
	ch       *models.Channel
	broken   bool
	cause    models.HealthCause
	unknown  bool
	retryAt  time.Time
	details  []string
	expires  *time.Time
	resubbed bool
}

func (p *probe) fail(cause models.HealthCause, detail string) {
	if !p.broken {
		p.broken, p.cause = true, cause
	}
	p.details = append(p.details, detail)
}

func (p *probe) undecided(detail string) {
	p.unknown = true
	p.details = append(p.details, detail)
}

func (p *probe) expiry(t time.Time) {
	if t.IsZero() {
		return
	}
	if p.expires == nil || t.Before(*p.expires) {
		t := t.UTC()
		p.expires = &t
	}
}

func (p *probe) verdict() Verdict {
	v := Verdict{TokenExpiresAt: p.expires, Resubscribed: p.resubbed, RetryAt: p.retryAt}
	switch {
	case p.broken:
		v.State, v.Cause = models.VerdictBroken, p.cause
	case p.unknown:
		v.State = models.VerdictUnknown
	default:
		v.State = models.VerdictHealthy
	}
	v.Detail = clip(strings.Join(p.details, "; "), 1000)
	return v
}

// call runs one platform call with a timeout, pacing Graph calls and retrying transient failures
// with backoff, and returns how its final error counts.
func (p *probe) call(ctx context.Context, step string, graph bool, businessID string, fn func(ctx context.Context) error) (Classification, error) {
	m := p.m
	var err error
	var c Classification
	for attempt := 0; ; attempt++ {
		if graph {
			if werr := m.pacer.Wait(ctx); werr != nil {
				return Classification{Outcome: OutcomeTransient}, werr
			}
		}
		callCtx, cancel := context.WithTimeout(ctx, m.opt.CallTimeout)
		err = fn(callCtx)
		cancel()
		m.calls.Add(1)
		c = Classify(p.ch.Platform, err)
		if c.Outcome == OutcomeRateLimited {
			if graph {
				m.pacer.Throttled(businessID)
			}
			return c, err
		}
		if c.Outcome != OutcomeTransient || attempt >= m.opt.Retries || ctx.Err() != nil {
			return c, err
		}
		m.log.Debug("health check call failed; retrying", "channel_id", p.ch.ID, "step", step, "attempt", attempt+1, "error", err)
		if serr := m.sleep(ctx, m.opt.RetryBackoff<<attempt); serr != nil {
			return c, err
		}
	}
}

// record folds a call's outcome into the probe; it reports whether the call succeeded.
func (p *probe) record(step string, c Classification, err error) bool {
	switch c.Outcome {
	case OutcomeOK:
		return true
	case OutcomeBroken:
		p.fail(c.Cause, describe(step, err))
	case OutcomeRateLimited:
		p.undecided(describe(step, err) + " (rate limited)")
	case OutcomeTransient:
		p.undecided(describe(step, err))
	default:
		// An unexpected answer is more likely our bug or a platform change than a broken
		// channel, so it never alerts a customer; it shows in the detail for operators.
		p.undecided(describe(step, err))
	}
	return false
}

// check asks the platform whether ch still works.
func (m *Monitor) check(ctx context.Context, ch *models.Channel) Verdict {
	p := &probe{m: m, ch: ch}
	creds, err := m.creds.Credentials(ch)
	if err != nil {
		// A key problem on our side would otherwise "break" every channel of every team at once.
		m.log.Error("health check cannot open channel credentials", "channel_id", ch.ID, "error", err)
		p.undecided("stored credentials cannot be opened (check OMNILINK_SECRET_KEY)")
		v := p.verdict()
		v.Unopenable = true
		return v
	}
	if creds.AccessToken == "" {
		p.fail(models.CauseTokenInvalid, "no access token stored")
		return p.verdict()
	}
	switch ch.Platform {
	case models.Facebook, models.Instagram:
		m.checkPage(ctx, p, creds.AccessToken)
	case models.WhatsApp:
		m.checkWhatsApp(ctx, p, creds.AccessToken)
	case models.LINE:
		m.checkLINE(ctx, p, creds.AccessToken)
	default:
		p.undecided(fmt.Sprintf("unknown platform %q", ch.Platform))
	}
	return p.verdict()
}

// pageID is the Facebook Page whose token and webhook subscription a Meta channel uses.
func pageID(ch *models.Channel) string {
	if ch.Platform == models.Instagram {
		return ch.Settings.PageID
	}
	return ch.ExternalID
}

// deferBusy postpones a check whose business object is near its own rate limit.
func (m *Monitor) deferBusy(p *probe, businessID string) bool {
	until, busy := m.pacer.BusinessBusy(businessID)
	if !busy {
		return false
	}
	p.undecided("deferred: the account is close to its rate limit")
	p.retryAt = until
	return true
}

// debugToken checks validity, expiry and the required permissions with /debug_token.
func (m *Monitor) debugToken(ctx context.Context, p *probe, token string) {
	var info meta.TokenInfo
	c, err := p.call(ctx, "debug_token", true, "", func(ctx context.Context) error {
		var err error
		info, err = m.meta.DebugToken(ctx, token)
		return err
	})
	if !p.record("debug_token", c, err) {
		return
	}
	now := m.now()
	if tc := info.Classify(now); tc.Class == meta.ClassAuthBroken {
		d := "debug_token: token is not valid"
		if info.Error != nil {
			d = describe("debug_token", info.Error)
		}
		p.fail(healthCause(tc.Cause), d)
		return
	}
	p.expiry(info.ExpiresAt)
	p.expiry(info.DataAccessExpiresAt)
	if miss := info.MissingScopes(channels.RequiredScopes[p.ch.Platform]...); len(miss) > 0 {
		p.fail(models.CausePermissionRemoved, "debug_token: permissions no longer granted: "+strings.Join(miss, ", "))
	}
}

// checkPage checks a Facebook Page or an Instagram account reached through its Page: the token,
// a cheap read of the account, and our webhook subscription on the Page.
func (m *Monitor) checkPage(ctx context.Context, p *probe, token string) {
	page := pageID(p.ch)
	if m.deferBusy(p, page) {
		return
	}
	m.debugToken(ctx, p, token)
	// Once a step is broken or undecided the verdict is settled; further calls would only spend
	// rate-limit budget on a platform that is already struggling.
	if p.broken || p.unknown {
		return
	}
	step := "page"
	if p.ch.Platform == models.Instagram {
		step = "instagram account"
	}
	c, err := p.call(ctx, step, true, page, func(ctx context.Context) error {
		var err error
		if p.ch.Platform == models.Instagram {
			_, err = m.meta.InstagramInfo(ctx, p.ch.ExternalID, token)
		} else {
			_, err = m.meta.PageInfo(ctx, p.ch.ExternalID, token)
		}
		return err
	})
	if !p.record(step, c, err) || page == "" {
		return
	}
	var apps []meta.SubscribedApp
	c, err = p.call(ctx, "subscribed_apps", true, page, func(ctx context.Context) error {
		var err error
		apps, err = m.meta.SubscribedApps(ctx, page, token)
		return err
	})
	if !p.record("subscribed_apps", c, err) {
		return
	}
	if subscribed(apps, m.appID) {
		return
	}
	// Meta drops the subscription after an hour of failed deliveries; subscribing again is the
	// whole fix, so the monitor does it instead of asking a person to.
	c, err = p.call(ctx, "subscribe", true, page, func(ctx context.Context) error {
		return m.meta.SubscribeApp(ctx, page, token, meta.WebhookFields(meta.ObjectPage))
	})
	switch c.Outcome {
	case OutcomeOK:
		p.resubbed = true
		p.details = append(p.details, "webhook subscription was missing and has been restored")
	case OutcomeBroken, OutcomeOther:
		p.fail(models.CauseWebhookUnsubscribed, describe("subscribe", err))
	default:
		p.record("subscribe", c, err)
	}
}

// subscribed reports whether our app receives the Page's message webhooks.
func subscribed(apps []meta.SubscribedApp, appID string) bool {
	for _, a := range apps {
		if appID == "" || a.ID == appID {
			return len(a.SubscribedFields) == 0 || slices.Contains(a.SubscribedFields, "messages")
		}
	}
	return false
}

// checkWhatsApp checks a WhatsApp number: its system-user token and the number's own fields.
func (m *Monitor) checkWhatsApp(ctx context.Context, p *probe, token string) {
	if m.deferBusy(p, p.ch.Settings.WABAID) {
		return
	}
	m.debugToken(ctx, p, token)
	if p.broken || p.unknown {
		return
	}
	var pn meta.PhoneNumber
	c, err := p.call(ctx, "phone number", true, p.ch.Settings.WABAID, func(ctx context.Context) error {
		var err error
		pn, err = m.meta.PhoneNumber(ctx, p.ch.ExternalID, token)
		return err
	})
	if !p.record("phone number", c, err) {
		return
	}
	detail := "phone number status is " + strconv.Quote(pn.Status)
	switch pn.State() {
	case meta.NumberServing:
	case meta.NumberLimited:
		p.undecided(detail + " (rate limited)")
	case meta.NumberNotConnected:
		p.fail(models.CauseNumberNotConnected, detail)
	case meta.NumberGone:
		p.fail(models.CauseAccountGone, detail)
	default:
		// A status we cannot read proves nothing either way.
		p.undecided(detail)
	}
}

// lineUserID is the shape of a LINE bot user id, which a LINE channel's external id holds.
func lineUserID(s string) bool { return len(s) == 33 && s[0] == 'U' }

// lineRefusalCause names why LINE refuses a channel token. LINE answers a plain 401 and "access
// token expired" for every token it no longer accepts, so the answer cannot say; what we know
// can: a token is expired only when the expiry LINE reported for it (stored at connect and at
// every check) has passed. Long-lived channel tokens never expire, so a refused one was
// reissued or revoked.
func lineRefusalCause(ch *models.Channel, now time.Time) models.HealthCause {
	if ch.TokenExpiresAt != nil && !now.Before(*ch.TokenExpiresAt) {
		return models.CauseTokenExpired
	}
	return models.CauseTokenInvalid
}

// checkLINE checks a LINE official account: bot info with the channel token, then the token's
// verify answer (for its expiry).
func (m *Monitor) checkLINE(ctx context.Context, p *probe, token string) {
	var botUser string
	c, err := p.call(ctx, "bot info", false, "", func(ctx context.Context) error {
		info, err := m.line.BotInfo(ctx, token)
		botUser = info.UserID
		return err
	})
	ok := p.record("bot info", c, err)
	if ok && lineUserID(p.ch.ExternalID) && botUser != p.ch.ExternalID {
		p.fail(models.CauseTokenInvalid, "bot info: the token belongs to another LINE official account")
		return
	}
	var expiresAt time.Time
	vc, verr := p.call(ctx, "verify token", false, "", func(ctx context.Context) error {
		info, err := m.line.VerifyChannelToken(ctx, token)
		if err == nil && info.ExpiresIn > 0 && info.ExpiresIn < 50*365*24*time.Hour {
			expiresAt = m.now().Add(info.ExpiresIn)
		}
		return err
	})
	switch {
	case vc.Outcome == OutcomeOK:
		p.expiry(expiresAt)
	case vc.Outcome == OutcomeBroken:
		p.record("verify token", vc, verr)
	}
	// Other verify failures are left out: bot info already decided.
	if p.broken && (p.cause == models.CauseTokenInvalid || p.cause == models.CauseTokenExpired) {
		p.cause = lineRefusalCause(p.ch, m.now())
	}
}
