// Package health renders the integration health of channels: the console banner for broken
// channels and the status panel (last check, next check, episode history) of one channel.
package health

import (
	"fmt"
	"time"

	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/layout"
)

// PlatformName is the localised name of a platform's kind of account.
func PlatformName(loc *i18n.Localizer, p models.Platform) string {
	return loc.T("health.platform." + string(p))
}

// CauseTitle is the one-line explanation of a cause.
func CauseTitle(loc *i18n.Localizer, c models.HealthCause) string {
	return loc.T("health.cause." + string(c.OrInvalid()) + ".title")
}

// CauseFix says what to do about a cause.
func CauseFix(loc *i18n.Localizer, c models.HealthCause) string {
	return loc.T("health.cause." + string(c.OrInvalid()) + ".fix")
}

// CauseFixFor says what to do about a cause on platform p, in that platform's words when it has
// its own (a LINE channel token is reissued, not reauthorised through Facebook).
func CauseFixFor(loc *i18n.Localizer, p models.Platform, c models.HealthCause) string {
	if p == models.LINE {
		key := "health.cause." + string(c.OrInvalid()) + ".fix_line"
		if s := loc.T(key); s != key {
			return s
		}
	}
	return CauseFix(loc, c)
}

// UseFacebookUser names the Facebook user to reauthorise with (one user connects a team's Pages
// and Instagram accounts).
func UseFacebookUser(loc *i18n.Localizer, user string) string {
	return loc.T("health.use_facebook_user", "User", user)
}

// ChannelLabel names a channel the way people know it: its name and, when it has one, its handle.
func ChannelLabel(ch *models.Channel) string {
	switch {
	case ch.DisplayName == "":
		return ch.Username
	case ch.Username == "" || ch.Username == ch.DisplayName:
		return ch.DisplayName
	case ch.Platform == models.Instagram || ch.Platform == models.LINE:
		return fmt.Sprintf("%s (@%s)", ch.DisplayName, trimAt(ch.Username))
	}
	return fmt.Sprintf("%s (%s)", ch.DisplayName, ch.Username)
}

func trimAt(s string) string {
	if len(s) > 0 && s[0] == '@' {
		return s[1:]
	}
	return s
}

// ReauthorizeURL is where a channel is repaired.
func ReauthorizeURL(channelID int64) string {
	return fmt.Sprintf("/channels/%d/reauthorize", channelID)
}

// canRepair reports whether the signed-in user may reauthorise channels.
func canRepair(p *layout.Page) bool {
	return p.User != nil && models.Role(p.User.Role).Can(models.CapChannels)
}

// Banners turns a team's broken channels into the warnings every console page shows: which
// channel, why, since when, the Facebook user to reauthorise with (fbUsers, by channel id), and a
// Reauthorise button for those allowed to press it. A channel in undelivered also says that its
// alert email could not be delivered, and why.
func Banners(p *layout.Page, broken []models.Channel, fbUsers, undelivered map[int64]string) []layout.Banner {
	out := make([]layout.Banner, 0, len(broken))
	repair := canRepair(p)
	for i := range broken {
		ch := &broken[i]
		since := ch.UpdatedAt
		if ch.FailingSince != nil {
			since = *ch.FailingSince
		}
		b := layout.Banner{
			Title: p.T("health.banner.title", "Platform", PlatformName(p.Loc, ch.Platform), "Name", ChannelLabel(ch)),
			Body:  p.T("health.banner.body", "Cause", CauseTitle(p.Loc, models.HealthCause(ch.StatusCause)), "Since", p.Time(since)),
		}
		if reason, ok := undelivered[ch.ID]; ok {
			if r := []rune(reason); len(r) > 200 {
				reason = string(r[:200]) + "…"
			}
			b.Body += " " + p.T("health.banner.alert_failed", "Error", reason)
		}
		if repair {
			b.ActionHref, b.ActionText = ReauthorizeURL(ch.ID), p.T("health.reauthorize")
			b.Note = CauseFixFor(p.Loc, ch.Platform, models.HealthCause(ch.StatusCause))
			if u := fbUsers[ch.ID]; u != "" {
				b.Note += " " + UseFacebookUser(p.Loc, u)
			}
		} else {
			b.Note = p.T("health.ask_admin")
		}
		out = append(out, b)
	}
	return out
}

// ShownVerdict is the one verdict every page shows for a channel, so the list and the channel's
// own page never disagree: broken while the channel is marked broken, else the last check's
// verdict (unchecked before the first).
func ShownVerdict(ch *models.Channel, last models.HealthVerdict) models.HealthVerdict {
	switch {
	case ch.Broken():
		return models.VerdictBroken
	case last == "":
		return models.VerdictUnchecked
	}
	return last
}

// BadgeClass is the badge style of a verdict.
func BadgeClass(v models.HealthVerdict) string {
	switch v {
	case models.VerdictHealthy:
		return "badge-ok"
	case models.VerdictBroken:
		return "badge-bad"
	case models.VerdictUnknown:
		return "badge-warn"
	}
	return ""
}

// VerdictText is the localised name of a verdict.
func VerdictText(loc *i18n.Localizer, v models.HealthVerdict) string {
	return loc.T("health.verdict." + string(v))
}

// StatusVM is the status panel of one channel.
type StatusVM struct {
	ChannelID       int64
	PanelID         string
	RefreshURL      string
	Verdict         string // healthy, broken, unknown, unchecked
	VerdictText     string
	BadgeClass      string
	CauseTitle      string
	Fix             string
	FailingSince    string
	LastCheck       string
	NextCheck       string
	TokenExpires    string
	Detail          string
	Retrying        string
	WebhookRestored string
	TimeZoneNote    string
	Episodes        []EpisodeVM
	CanRepair       bool
	ReauthorizeURL  string
}

// EpisodeVM is one line of the status history.
type EpisodeVM struct {
	Opened   string
	Closed   string // empty while ongoing
	Detected string
	Alert    string
	AlertBad bool
	Open     bool
}

// NewStatusVM builds the panel from a health report at time now.
func NewStatusVM(p *layout.Page, r *models.HealthReport, now time.Time) StatusVM {
	ch := &r.Channel
	verdict := ShownVerdict(ch, r.Health.Verdict)
	vm := StatusVM{
		ChannelID:      ch.ID,
		PanelID:        fmt.Sprintf("channel-health-%d", ch.ID),
		RefreshURL:     fmt.Sprintf("/channels/%d/health", ch.ID),
		Verdict:        string(verdict),
		VerdictText:    VerdictText(p.Loc, verdict),
		CanRepair:      canRepair(p),
		ReauthorizeURL: ReauthorizeURL(ch.ID),
		Detail:         r.Health.Detail,
		TimeZoneNote:   p.T("health.time_zone_note", "Zone", string(p.Zone.OrDefault())),
		LastCheck:      p.T("health.never"),
	}
	vm.BadgeClass = BadgeClass(verdict)
	switch verdict {
	case models.VerdictBroken:
		cause := models.HealthCause(ch.StatusCause)
		vm.CauseTitle, vm.Fix = CauseTitle(p.Loc, cause), CauseFixFor(p.Loc, ch.Platform, cause)
		if ch.FailingSince != nil {
			vm.FailingSince = p.Time(*ch.FailingSince)
		}
		if ch.StatusMessage != "" {
			vm.Detail = ch.StatusMessage
		}
	}
	if r.Health.TransientFailures > 0 && r.Health.Verdict == models.VerdictUnknown {
		vm.Retrying = p.T("health.retrying", "Count", r.Health.TransientFailures)
	}
	if ch.LastCheckedAt != nil {
		vm.LastCheck = p.Time(*ch.LastCheckedAt)
	}
	switch {
	case ch.NextCheckAt == nil || !ch.NextCheckAt.After(now):
		vm.NextCheck = p.T("health.soon")
	default:
		vm.NextCheck = p.Time(*ch.NextCheckAt)
	}
	if ch.TokenExpiresAt != nil {
		vm.TokenExpires = p.Time(*ch.TokenExpiresAt)
	}
	if t := r.Health.WebhookResubscribedAt; t != nil {
		vm.WebhookRestored = p.T("health.webhook_restored", "At", p.Time(*t))
	}
	for _, e := range r.Episodes {
		vm.Episodes = append(vm.Episodes, newEpisodeVM(p, r, e))
	}
	return vm
}

func newEpisodeVM(p *layout.Page, r *models.HealthReport, e models.HealthEpisode) EpisodeVM {
	ev := EpisodeVM{
		Opened:   p.T("health.episode.opened", "At", p.Time(e.OpenedAt), "Cause", CauseTitle(p.Loc, e.Cause)),
		Detected: p.T("health.episode.detected_" + detectedKey(e.DetectedBy)),
		Open:     e.Open(),
	}
	if e.ClosedAt != nil {
		ev.Closed = p.T("health.episode.closed_"+closedKey(e.ClosedBy), "At", p.Time(*e.ClosedAt))
	}
	switch {
	case e.AlertSkipped != "":
		ev.Alert = p.T("health.alert." + e.AlertSkipped)
	case e.AlertKey != "":
		it, ok := r.Alerts[e.AlertKey]
		if !ok {
			break
		}
		switch it.State() {
		case models.OutboxDelivered:
			ev.Alert = p.T("health.alert.delivered", "At", p.Time(*it.DoneAt))
		case models.OutboxFailed:
			ev.Alert, ev.AlertBad = p.T("health.alert.failed", "Error", it.LastError), true
		case models.OutboxRetrying:
			ev.Alert, ev.AlertBad = p.T("health.alert.retrying", "Error", it.LastError), true
		default:
			ev.Alert = p.T("health.alert.pending")
		}
	}
	return ev
}

func detectedKey(by string) string {
	if by == models.DetectedBySend {
		return "send"
	}
	return "check"
}

func closedKey(by string) string {
	switch by {
	case models.ClosedByRepair, models.ClosedByDisconnect:
		return by
	}
	return "check"
}
