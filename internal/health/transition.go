package health

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/omnilink/omnilink/internal/outbox"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Transition is what applying a verdict changed.
type Transition struct {
	Ignored         bool   // the channel is gone or disconnected
	Opened          bool   // a failure episode began
	Closed          bool   // the open episode ended
	EpisodeID       int64  // the episode opened, continued or closed
	AlertQueued     bool   // the episode's one alert email was queued now
	AlertSkipped    string // why the episode has no alert (plan ended, no recipients)
	RecoveredQueued bool   // the "works again" email was queued
	ExpiryQueued    bool   // the expiry warning was queued
}

func (t Transition) emails() int {
	n := 0
	for _, b := range []bool{t.AlertQueued, t.RecoveredQueued, t.ExpiryQueued} {
		if b {
			n++
		}
	}
	return n
}

// Alert idempotency keys: one per episode and kind, one per token expiry. The outbox's unique
// key is what makes "exactly one email" hold across retries, restarts and replicas.
func alertKey(episodeID int64, kind models.AlertKind) string {
	return fmt.Sprintf("health.episode.%d.%s", episodeID, kind)
}

func expiryKey(channelID int64, expires time.Time) string {
	return fmt.Sprintf("health.expiry.%d.%d", channelID, expires.Unix())
}

// apply is the one state machine every verdict goes through, whether it comes from a sweep, a
// single check or a failed send. It runs in one transaction holding the channel's row lock, so
// concurrent checks and replicas see each other's episodes, and the alert email is recorded in
// the same transaction as the episode it reports.
func (m *Monitor) apply(ctx context.Context, channelID int64, v Verdict, source string) (Transition, error) {
	var tr Transition
	err := m.st.WithTx(ctx, func(tx *store.Store) error {
		tr = Transition{}
		now := m.now()
		ch, err := tx.LockChannel(ctx, channelID)
		if errors.Is(err, store.ErrNotFound) {
			tr.Ignored = true
			return nil
		}
		if err != nil {
			return err
		}
		if ch.Status == models.ChannelDisconnected {
			tr.Ignored = true
			return nil
		}
		h, err := tx.ChannelHealth(ctx, ch.ID)
		if err != nil {
			return err
		}
		h.TeamID = ch.TeamID
		ep, err := tx.OpenEpisode(ctx, ch.ID)
		if errors.Is(err, store.ErrNotFound) {
			ep = nil
		} else if err != nil {
			return err
		}
		team, err := tx.Team(ctx, ch.TeamID)
		if err != nil {
			return err
		}

		switch v.State {
		case models.VerdictHealthy:
			h.Verdict, h.Cause, h.Detail, h.TransientFailures = models.VerdictHealthy, "", v.Detail, 0
			h.LastHealthyAt = &now
			if v.Resubscribed {
				h.WebhookResubscribedAt = &now
			}
			if ep != nil || ch.Status == models.ChannelInvalid {
				if err := m.close(ctx, tx, ch, team, ep, models.ClosedByCheck, now, &tr); err != nil {
					return err
				}
			}
			if v.TokenExpiresAt != nil {
				if err := m.warnExpiry(ctx, tx, ch, team, *v.TokenExpiresAt, now, &tr); err != nil {
					return err
				}
			}
		case models.VerdictBroken:
			h.Verdict, h.Cause, h.Detail, h.TransientFailures = models.VerdictBroken, string(v.Cause), v.Detail, 0
			if err := m.open(ctx, tx, ch, team, ep, v, source, now, &tr); err != nil {
				return err
			}
		default:
			h.Verdict, h.Detail = models.VerdictUnknown, v.Detail
			h.TransientFailures++
		}
		h.UpdatedAt = now
		if source == models.DetectedByCheck {
			h.Checks++
			check := store.ChannelCheck{CheckedAt: &now, NextCheckAt: m.nextCheck(v, h.TransientFailures, now), TokenExpiresAt: v.TokenExpiresAt}
			if err := tx.RecordChannelCheck(ctx, ch.ID, check); err != nil {
				return err
			}
		}
		return tx.SaveChannelHealth(ctx, &h)
	})
	return tr, err
}

// nextCheck is a regular Interval after a decided check; undecided ones come back sooner, with
// the delay doubling (5m, 10m, 20m…) up to Interval so a long outage is not hammered.
func (m *Monitor) nextCheck(v Verdict, transient int, now time.Time) time.Time {
	if v.State != models.VerdictUnknown {
		return now.Add(m.opt.Interval)
	}
	d := m.opt.RecheckAfter
	for i := 1; i < transient && d < m.opt.Interval; i++ {
		d *= 2
	}
	next := now.Add(min(d, m.opt.Interval))
	if v.RetryAt.After(next) {
		next = v.RetryAt
	}
	return next
}

// open starts an episode (or continues the open one) and queues its alert unless it has one.
func (m *Monitor) open(ctx context.Context, tx *store.Store, ch *models.Channel, team *models.Team, ep *models.HealthEpisode, v Verdict, source string, now time.Time, tr *Transition) error {
	if ep == nil {
		ep = &models.HealthEpisode{TeamID: ch.TeamID, ChannelID: ch.ID, Cause: v.Cause, Message: v.Detail, DetectedBy: source, OpenedAt: now}
		if err := tx.CreateEpisode(ctx, ep); err != nil {
			return err
		}
		tr.Opened = true
	} else if ep.Cause != v.Cause || ep.Message != v.Detail {
		// The latest cause is the one whose fix applies now; the email already sent stays the only one.
		if err := tx.UpdateEpisodeCause(ctx, ep.ID, v.Cause, v.Detail); err != nil {
			return err
		}
		ep.Cause, ep.Message = v.Cause, v.Detail
	}
	tr.EpisodeID = ep.ID
	if ep.AlertedAt == nil {
		// Also retried on later checks: a team whose plan is renewed mid-episode still hears of it.
		if err := m.alert(ctx, tx, ch, team, ep, now, tr); err != nil {
			return err
		}
	}
	return tx.MarkChannelBroken(ctx, ch.ID, v.Cause, v.Detail, ep.OpenedAt, ep.AlertedAt, now)
}

// alert queues the episode's one email, or records why there is none.
func (m *Monitor) alert(ctx context.Context, tx *store.Store, ch *models.Channel, team *models.Team, ep *models.HealthEpisode, now time.Time, tr *Transition) error {
	skip := ""
	var to []string
	if team.PlanStatus != models.PlanActive {
		skip = models.AlertSkippedPlanEnded
	} else {
		var err error
		if to, err = m.recipients(ctx, tx, team); err != nil {
			return err
		}
		if len(to) == 0 {
			skip = models.AlertSkippedNoRecipients
		}
	}
	if skip != "" {
		tr.AlertSkipped = skip
		if ep.AlertSkipped != skip {
			ep.AlertSkipped = skip
			return tx.MarkEpisodeAlertSkipped(ctx, ep.ID, skip)
		}
		return nil
	}
	key := alertKey(ep.ID, models.AlertBroken)
	created, err := m.queueEmail(ctx, tx, key, team.ID, to, m.alertData(models.AlertBroken, ch, team, ep.Cause, ep.OpenedAt, now))
	if err != nil {
		return err
	}
	tr.AlertQueued = created
	ep.AlertKey, ep.AlertedAt, ep.AlertSkipped = key, &now, ""
	return tx.MarkEpisodeAlerted(ctx, ep.ID, key, now)
}

// close ends the open episode, clears the channel's failure and, when the episode's alert went
// out, tells the same people it works again.
func (m *Monitor) close(ctx context.Context, tx *store.Store, ch *models.Channel, team *models.Team, ep *models.HealthEpisode, by string, now time.Time, tr *Transition) error {
	if ch.Status == models.ChannelInvalid {
		if err := tx.MarkChannelActive(ctx, ch.ID, now); err != nil {
			return err
		}
	}
	if ep == nil {
		return nil
	}
	var recovered *time.Time
	if ep.AlertedAt != nil && !m.opt.NoRecovered && team.PlanStatus == models.PlanActive {
		to, err := m.recipients(ctx, tx, team)
		if err != nil {
			return err
		}
		if len(to) > 0 {
			created, err := m.queueEmail(ctx, tx, alertKey(ep.ID, models.AlertRecovered), team.ID, to,
				m.alertData(models.AlertRecovered, ch, team, ep.Cause, ep.OpenedAt, now))
			if err != nil {
				return err
			}
			tr.RecoveredQueued = created
			recovered = &now
		}
	}
	if err := tx.CloseEpisode(ctx, ep.ID, now, by, recovered); err != nil {
		return err
	}
	tr.Closed, tr.EpisodeID = true, ep.ID
	return nil
}

// warnExpiry queues one warning per token when its known expiry is less than ExpiryWarning away.
func (m *Monitor) warnExpiry(ctx context.Context, tx *store.Store, ch *models.Channel, team *models.Team, expires, now time.Time, tr *Transition) error {
	if !expires.After(now) || expires.Sub(now) > m.opt.ExpiryWarning || team.PlanStatus != models.PlanActive {
		return nil
	}
	to, err := m.recipients(ctx, tx, team)
	if err != nil || len(to) == 0 {
		return err
	}
	a := m.alertData(models.AlertExpiring, ch, team, "", now, now)
	a.ExpiresAt = expires
	created, err := m.queueEmail(ctx, tx, expiryKey(ch.ID, expires), team.ID, to, a)
	tr.ExpiryQueued = created
	return err
}

// repaired closes the open episode after a person reauthorised the channel, and asks for a check
// soon to confirm the new credentials.
func (m *Monitor) repaired(ctx context.Context, channelID int64) (Transition, error) {
	var tr Transition
	err := m.st.WithTx(ctx, func(tx *store.Store) error {
		tr = Transition{}
		now := m.now()
		ch, err := tx.LockChannel(ctx, channelID)
		if errors.Is(err, store.ErrNotFound) {
			tr.Ignored = true
			return nil
		}
		if err != nil {
			return err
		}
		team, err := tx.Team(ctx, ch.TeamID)
		if err != nil {
			return err
		}
		ep, err := tx.OpenEpisode(ctx, ch.ID)
		if errors.Is(err, store.ErrNotFound) {
			ep = nil
		} else if err != nil {
			return err
		}
		if ch.Status != models.ChannelDisconnected {
			if err := m.close(ctx, tx, ch, team, ep, models.ClosedByRepair, now, &tr); err != nil {
				return err
			}
		} else if ep != nil {
			if err := tx.CloseEpisode(ctx, ep.ID, now, models.ClosedByDisconnect, nil); err != nil {
				return err
			}
			tr.Closed = true
		}
		h, err := tx.ChannelHealth(ctx, ch.ID)
		if err != nil {
			return err
		}
		h.TeamID, h.UpdatedAt = ch.TeamID, now
		if h.Verdict == models.VerdictBroken {
			h.Verdict, h.Cause, h.Detail = models.VerdictUnchecked, "", "reauthorised; waiting for the next check"
		}
		if err := tx.SaveChannelHealth(ctx, &h); err != nil {
			return err
		}
		return tx.RecordChannelCheck(ctx, ch.ID, store.ChannelCheck{NextCheckAt: now})
	})
	return tr, err
}

// recipients are the team's admins and its notification addresses, deduplicated, valid only.
func (m *Monitor) recipients(ctx context.Context, tx *store.Store, team *models.Team) ([]string, error) {
	admins, err := tx.TeamAdminEmails(ctx, team.ID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range append(admins, team.NotificationEmails...) {
		addr, err := netmail.ParseAddress(strings.TrimSpace(a))
		if err != nil {
			continue
		}
		e := strings.ToLower(addr.Address)
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *Monitor) alertData(kind models.AlertKind, ch *models.Channel, team *models.Team, cause models.HealthCause, since, at time.Time) models.HealthAlert {
	return models.HealthAlert{
		Kind: kind, Locale: team.Locale, TeamName: team.Name, ChannelID: ch.ID, Platform: ch.Platform,
		ChannelName: ch.DisplayName, Username: ch.Username, Cause: cause, Since: since, At: at,
		ReauthorizeURL: fmt.Sprintf("%s/channels/%d/reauthorize", strings.TrimRight(m.baseURL, "/"), ch.ID),
		ChannelsURL:    strings.TrimRight(m.baseURL, "/") + "/channels",
	}
}

// queueEmail renders a health email and writes it to the outbox under key, in tx.
func (m *Monitor) queueEmail(ctx context.Context, tx *store.Store, key string, teamID int64, to []string, a models.HealthAlert) (bool, error) {
	if m.compose == nil {
		return false, errors.New("health: no email composer configured")
	}
	msg, err := m.compose(ctx, a)
	if err != nil {
		return false, fmt.Errorf("health: render %s email: %w", a.Kind, err)
	}
	msg.To = to
	if msg.Headers == nil {
		msg.Headers = map[string]string{}
	}
	// A Message-ID derived from the key lets mail systems fold a crash-time redelivery into one.
	msg.Headers["Message-ID"] = "<" + key + "@" + m.mailDomain() + ">"
	return outbox.EnqueueEmail(ctx, tx, m.now(), key, teamID, msg)
}

// mailDomain is the public host, the right-hand side of our Message-IDs.
func (m *Monitor) mailDomain() string {
	if u, err := url.Parse(m.baseURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "omnilink.invalid"
}
