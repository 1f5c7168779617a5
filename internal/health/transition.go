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
	AlertPending    bool   // the episode's email is still to be queued
	AlertQueued     bool   // the episode's one email was queued (after the notification step)
	AlertSkipped    string // why the episode has no email (plan ended, no recipients)
	RecoveredQueued bool   // the "works again" email was queued
	ExpiryQueued    bool   // the expiry warning was queued
}

// apply is the one state machine every verdict goes through, whether it comes from a sweep, a
// single check or a failed send. It runs in one transaction holding the channel's row lock, so
// concurrent checks and replicas see each other's episodes. It records what is owed (an alert,
// a recovery notice, an expiry warning); notify turns that into emails.
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

		switch v.State {
		case models.VerdictHealthy:
			h.Verdict, h.Cause, h.Detail, h.TransientFailures = models.VerdictHealthy, "", v.Detail, 0
			h.LastHealthyAt = &now
			if v.Resubscribed {
				h.WebhookResubscribedAt = &now
			}
			if ep != nil || ch.Status == models.ChannelInvalid {
				if err := m.close(ctx, tx, ch, ep, models.ClosedByCheck, now, &tr); err != nil {
					return err
				}
			}
		case models.VerdictBroken:
			h.Verdict, h.Cause, h.Detail, h.TransientFailures = models.VerdictBroken, string(v.Cause), v.Detail, 0
			if err := m.open(ctx, tx, ch, ep, v, source, now, &tr); err != nil {
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

// open starts an episode, or continues the open one, and marks the channel broken. A team whose
// plan has ended is never emailed; if it renews while the channel is still broken, the episode
// becomes owed its email again.
func (m *Monitor) open(ctx context.Context, tx *store.Store, ch *models.Channel, ep *models.HealthEpisode, v Verdict, source string, now time.Time, tr *Transition) error {
	if ep == nil {
		ep = &models.HealthEpisode{TeamID: ch.TeamID, ChannelID: ch.ID, Cause: v.Cause, Message: v.Detail, DetectedBy: source, OpenedAt: now}
		if err := tx.CreateEpisode(ctx, ep); err != nil {
			return err
		}
		tr.Opened = true
	} else if ep.Cause != v.Cause || ep.Message != v.Detail {
		// The latest cause is the one whose fix applies now; an email already sent stays the only one.
		if err := tx.UpdateEpisodeCause(ctx, ep.ID, v.Cause, v.Detail); err != nil {
			return err
		}
		ep.Cause, ep.Message = v.Cause, v.Detail
	}
	tr.EpisodeID = ep.ID
	if ep.AlertedAt == nil {
		team, err := tx.Team(ctx, ch.TeamID)
		if err != nil {
			return err
		}
		skip := ""
		if team.PlanStatus != models.PlanActive {
			skip = models.AlertSkippedPlanEnded
		}
		if skip != ep.AlertSkipped {
			if err := tx.MarkEpisodeAlertSkipped(ctx, ep.ID, skip); err != nil {
				return err
			}
			ep.AlertSkipped = skip
		}
		tr.AlertSkipped, tr.AlertPending = skip, skip == ""
	}
	return tx.MarkChannelBroken(ctx, ch.ID, v.Cause, v.Detail, ep.OpenedAt, ep.AlertedAt, now)
}

// close ends the open episode and clears the channel's failure; when the episode's alert went
// out, the same people are owed a "works again" email.
func (m *Monitor) close(ctx context.Context, tx *store.Store, ch *models.Channel, ep *models.HealthEpisode, by string, now time.Time, tr *Transition) error {
	if ch.Status == models.ChannelInvalid {
		if err := tx.MarkChannelActive(ctx, ch.ID, now); err != nil {
			return err
		}
		ch.Status = models.ChannelActive
	}
	for _, h := range m.recovered {
		if err := h(ctx, tx, ch); err != nil {
			return err
		}
	}
	if ep == nil {
		return nil
	}
	pending := ep.AlertedAt != nil && !m.opt.NoRecovered
	if err := tx.CloseEpisode(ctx, ep.ID, now, by, pending); err != nil {
		return err
	}
	tr.Closed, tr.EpisodeID = true, ep.ID
	return nil
}

// repaired closes the open episode after a person reauthorised the channel, and asks for a check
// soon to confirm the new credentials.
func (m *Monitor) repaired(ctx context.Context, channelID int64) (Transition, int64, error) {
	var tr Transition
	var teamID int64
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
		teamID = ch.TeamID
		ep, err := tx.OpenEpisode(ctx, ch.ID)
		if errors.Is(err, store.ErrNotFound) {
			ep = nil
		} else if err != nil {
			return err
		}
		if ch.Status != models.ChannelDisconnected {
			if err := m.close(ctx, tx, ch, ep, models.ClosedByRepair, now, &tr); err != nil {
				return err
			}
		} else if ep != nil {
			if err := tx.CloseEpisode(ctx, ep.ID, now, models.ClosedByDisconnect, false); err != nil {
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
	return tr, teamID, err
}

// notice is what one notification round queued.
type notice struct {
	emails    int
	alerted   map[int64]bool // channels whose failure email was queued
	skipped   map[int64]string
	recovered map[int64]bool
	expiring  map[int64]bool
}

func newNotice() *notice {
	return &notice{alerted: map[int64]bool{}, skipped: map[int64]string{}, recovered: map[int64]bool{}, expiring: map[int64]bool{}}
}

// annotate copies what the round queued for a channel into its transition.
func (n *notice) annotate(chID int64, tr *Transition) {
	if n.alerted[chID] {
		tr.AlertQueued, tr.AlertPending = true, false
	}
	if s, ok := n.skipped[chID]; ok {
		tr.AlertSkipped, tr.AlertPending = s, false
	}
	tr.RecoveredQueued = tr.RecoveredQueued || n.recovered[chID]
	tr.ExpiryQueued = tr.ExpiryQueued || n.expiring[chID]
}

// notifyAll queues the emails every team is owed.
func (m *Monitor) notifyAll(ctx context.Context) (*notice, error) {
	n := newNotice()
	now := m.now()
	teams, err := m.st.TeamsWithPendingAlerts(ctx, now, now.Add(m.opt.ExpiryWarning))
	if err != nil {
		return n, err
	}
	for _, id := range teams {
		if err := m.notifyTeam(ctx, id, n); err != nil {
			return n, err
		}
	}
	if n.emails > 0 && m.notify != nil {
		m.notify.Notify()
	}
	return n, nil
}

// notifyOne queues what one team is owed, right after a single check, send failure or repair.
func (m *Monitor) notifyOne(ctx context.Context, teamID int64) (*notice, error) {
	n := newNotice()
	if err := m.notifyTeam(ctx, teamID, n); err != nil {
		return n, err
	}
	if n.emails > 0 && m.notify != nil {
		m.notify.Notify()
	}
	return n, nil
}

// notifyTeam queues, in one transaction, at most one email of each kind for a team: its newly
// broken channels, those working again, and tokens about to expire. Each episode is claimed
// under its channel's row lock and marked in the same transaction as the email is written, so
// it is reported exactly once, and channels that broke together share the email.
func (m *Monitor) notifyTeam(ctx context.Context, teamID int64, n *notice) error {
	return m.st.WithTx(ctx, func(tx *store.Store) error {
		now := m.now()
		team, err := tx.Team(ctx, teamID)
		if err != nil {
			return err
		}
		var to []string
		if team.PlanStatus == models.PlanActive {
			if to, err = m.recipients(ctx, tx, team); err != nil {
				return err
			}
		}
		if err := m.notifyBroken(ctx, tx, team, to, now, n); err != nil {
			return err
		}
		if err := m.notifyRecovered(ctx, tx, team, to, now, n); err != nil {
			return err
		}
		return m.notifyExpiring(ctx, tx, team, to, now, n)
	})
}

func (m *Monitor) notifyBroken(ctx context.Context, tx *store.Store, team *models.Team, to []string, now time.Time, n *notice) error {
	eps, err := tx.LockPendingAlerts(ctx, team.ID)
	if err != nil || len(eps) == 0 {
		return err
	}
	if len(to) == 0 {
		skip := models.AlertSkippedNoRecipients
		if team.PlanStatus != models.PlanActive {
			skip = models.AlertSkippedPlanEnded
		}
		for _, e := range eps {
			if err := tx.MarkEpisodeAlertSkipped(ctx, e.ID, skip); err != nil {
				return err
			}
			n.skipped[e.ChannelID] = skip
		}
		return nil
	}
	chs, err := m.episodeChannels(ctx, tx, team.ID, eps)
	if err != nil {
		return err
	}
	a := m.alertData(models.AlertBroken, team, now)
	var ids []int64
	for _, e := range eps {
		ch := chs[e.ChannelID]
		a.Channels = append(a.Channels, m.alertChannel(ch, e.Cause, e.OpenedAt))
		ids = append(ids, e.ChannelID)
	}
	key := fmt.Sprintf("health.broken.%d.%d", team.ID, eps[0].ID)
	if err := m.queueEmail(ctx, tx, key, team.ID, to, a, n); err != nil {
		return err
	}
	for _, e := range eps {
		if err := tx.MarkEpisodeAlerted(ctx, e.ID, key, now); err != nil {
			return err
		}
		n.alerted[e.ChannelID] = true
	}
	return tx.SetChannelsAlerted(ctx, ids, now)
}

func (m *Monitor) notifyRecovered(ctx context.Context, tx *store.Store, team *models.Team, to []string, now time.Time, n *notice) error {
	eps, err := tx.LockPendingRecoveries(ctx, team.ID)
	if err != nil || len(eps) == 0 {
		return err
	}
	if len(to) == 0 {
		for _, e := range eps {
			if err := tx.MarkRecoveryAlerted(ctx, e.ID, "", nil); err != nil {
				return err
			}
		}
		return nil
	}
	chs, err := m.episodeChannels(ctx, tx, team.ID, eps)
	if err != nil {
		return err
	}
	a := m.alertData(models.AlertRecovered, team, now)
	for _, e := range eps {
		a.Channels = append(a.Channels, m.alertChannel(chs[e.ChannelID], e.Cause, e.OpenedAt))
	}
	key := fmt.Sprintf("health.recovered.%d.%d", team.ID, eps[0].ID)
	if err := m.queueEmail(ctx, tx, key, team.ID, to, a, n); err != nil {
		return err
	}
	for _, e := range eps {
		if err := tx.MarkRecoveryAlerted(ctx, e.ID, key, &now); err != nil {
			return err
		}
		n.recovered[e.ChannelID] = true
	}
	return nil
}

func (m *Monitor) notifyExpiring(ctx context.Context, tx *store.Store, team *models.Team, to []string, now time.Time, n *notice) error {
	chs, err := tx.LockExpiringChannels(ctx, team.ID, now, now.Add(m.opt.ExpiryWarning))
	if err != nil || len(chs) == 0 {
		return err
	}
	// Marked even when nobody is emailed (plan ended), so the same expiry is not looked at again.
	for _, ch := range chs {
		if err := tx.MarkExpiryWarned(ctx, team.ID, ch.ID, *ch.TokenExpiresAt, now); err != nil {
			return err
		}
	}
	if len(to) == 0 {
		return nil
	}
	a := m.alertData(models.AlertExpiring, team, now)
	first := *chs[0].TokenExpiresAt
	for i := range chs {
		ac := m.alertChannel(&chs[i], "", time.Time{})
		ac.ExpiresAt = *chs[i].TokenExpiresAt
		if ac.ExpiresAt.Before(first) {
			first = ac.ExpiresAt
		}
		a.Channels = append(a.Channels, ac)
		n.expiring[chs[i].ID] = true
	}
	key := fmt.Sprintf("health.expiry.%d.%d.%d", team.ID, chs[0].ID, first.Unix())
	return m.queueEmail(ctx, tx, key, team.ID, to, a, n)
}

// episodeChannels loads the channels of episodes, keyed by id.
func (m *Monitor) episodeChannels(ctx context.Context, tx *store.Store, teamID int64, eps []models.HealthEpisode) (map[int64]*models.Channel, error) {
	ids := make([]int64, 0, len(eps))
	for _, e := range eps {
		ids = append(ids, e.ChannelID)
	}
	list, err := tx.ChannelsByIDs(ctx, teamID, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*models.Channel, len(list))
	for i := range list {
		out[list[i].ID] = &list[i]
	}
	for _, id := range ids {
		if out[id] == nil {
			return nil, fmt.Errorf("health: channel %d of an episode is gone", id)
		}
	}
	return out, nil
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

func (m *Monitor) alertData(kind models.AlertKind, team *models.Team, now time.Time) models.HealthAlert {
	return models.HealthAlert{Kind: kind, Locale: team.Locale, TeamName: team.Name, At: now,
		ChannelsURL: strings.TrimRight(m.baseURL, "/") + "/channels"}
}

func (m *Monitor) alertChannel(ch *models.Channel, cause models.HealthCause, since time.Time) models.AlertChannel {
	return models.AlertChannel{
		ChannelID: ch.ID, Platform: ch.Platform, Name: ch.DisplayName, Username: ch.Username, Cause: cause, Since: since,
		ReauthorizeURL: fmt.Sprintf("%s/channels/%d/reauthorize", strings.TrimRight(m.baseURL, "/"), ch.ID),
	}
}

// queueEmail renders a health email and writes it to the outbox under key, in tx.
func (m *Monitor) queueEmail(ctx context.Context, tx *store.Store, key string, teamID int64, to []string, a models.HealthAlert, n *notice) error {
	if m.compose == nil {
		return errors.New("health: no email composer configured")
	}
	msg, err := m.compose(ctx, a)
	if err != nil {
		return fmt.Errorf("health: render %s email: %w", a.Kind, err)
	}
	msg.To = to
	if msg.Headers == nil {
		msg.Headers = map[string]string{}
	}
	// A Message-ID derived from the key lets mail systems fold a crash-time redelivery into one.
	msg.Headers["Message-ID"] = "<" + key + "@" + m.mailDomain() + ">"
	created, err := outbox.EnqueueEmail(ctx, tx, m.now(), key, teamID, msg)
	if created {
		n.emails++
	}
	return err
}

// mailDomain is the public host, the right-hand side of our Message-IDs.
func (m *Monitor) mailDomain() string {
	if u, err := url.Parse(m.baseURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "omnilink.invalid"
}
