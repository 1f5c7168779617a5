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

// taipei is Taiwan's time zone; it has no daylight saving time, so a fixed offset is exact and
// needs no tzdata in the container.
var taipei = time.FixedZone("UTC+8", 8*60*60)

// FormatTime shows t in the reader's convention: Taiwan time for zh-TW, UTC for English.
func FormatTime(lang string, t time.Time) string {
	if lang == "en" {
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	}
	return t.In(taipei).Format("2006/01/02 15:04")
}

// FormatDate shows the day of t in the reader's convention.
func FormatDate(lang string, t time.Time) string {
	if lang == "en" {
		return t.UTC().Format("2 Jan 2006")
	}
	return t.In(taipei).Format("2006/01/02")
}

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
// channel, why, since when, and a Reauthorise button for those allowed to press it.
// A channel in undelivered also says that its alert email could not be delivered, and why.
func Banners(p *layout.Page, broken []models.Channel, undelivered map[int64]string) []layout.Banner {
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
			Body:  p.T("health.banner.body", "Cause", CauseTitle(p.Loc, models.HealthCause(ch.StatusCause)), "Since", FormatTime(p.Lang(), since)),
		}
		if reason, ok := undelivered[ch.ID]; ok {
			if r := []rune(reason); len(r) > 200 {
				reason = string(r[:200]) + "…"
			}
			b.Body += " " + p.T("health.banner.alert_failed", "Error", reason)
		}
		if repair {
			b.ActionHref, b.ActionText = ReauthorizeURL(ch.ID), p.T("health.reauthorize")
			b.Note = CauseFix(p.Loc, models.HealthCause(ch.StatusCause))
		} else {
			b.Note = p.T("health.ask_admin")
		}
		out = append(out, b)
	}
	return out
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
	lang := p.Lang()
	ch := &r.Channel
	verdict := r.Health.Verdict
	if verdict == "" {
		verdict = models.VerdictUnchecked
	}
	if ch.Broken() {
		verdict = models.VerdictBroken
	}
	vm := StatusVM{
		ChannelID:      ch.ID,
		PanelID:        fmt.Sprintf("channel-health-%d", ch.ID),
		RefreshURL:     fmt.Sprintf("/channels/%d/health", ch.ID),
		Verdict:        string(verdict),
		VerdictText:    p.T("health.verdict." + string(verdict)),
		CanRepair:      canRepair(p),
		ReauthorizeURL: ReauthorizeURL(ch.ID),
		Detail:         r.Health.Detail,
		TimeZoneNote:   p.T("health.time_zone_note"),
		LastCheck:      p.T("health.never"),
	}
	switch verdict {
	case models.VerdictHealthy:
		vm.BadgeClass = "badge-ok"
	case models.VerdictBroken:
		vm.BadgeClass = "badge-bad"
		cause := models.HealthCause(ch.StatusCause)
		vm.CauseTitle, vm.Fix = CauseTitle(p.Loc, cause), CauseFix(p.Loc, cause)
		if ch.FailingSince != nil {
			vm.FailingSince = FormatTime(lang, *ch.FailingSince)
		}
		if ch.StatusMessage != "" {
			vm.Detail = ch.StatusMessage
		}
	case models.VerdictUnknown:
		vm.BadgeClass = "badge-warn"
	}
	if r.Health.TransientFailures > 0 && r.Health.Verdict == models.VerdictUnknown {
		vm.Retrying = p.T("health.retrying", "Count", r.Health.TransientFailures)
	}
	if ch.LastCheckedAt != nil {
		vm.LastCheck = FormatTime(lang, *ch.LastCheckedAt)
	}
	switch {
	case ch.NextCheckAt == nil || !ch.NextCheckAt.After(now):
		vm.NextCheck = p.T("health.soon")
	default:
		vm.NextCheck = FormatTime(lang, *ch.NextCheckAt)
	}
	if ch.TokenExpiresAt != nil {
		vm.TokenExpires = FormatTime(lang, *ch.TokenExpiresAt)
	}
	if t := r.Health.WebhookResubscribedAt; t != nil {
		vm.WebhookRestored = p.T("health.webhook_restored", "At", FormatTime(lang, *t))
	}
	for _, e := range r.Episodes {
		vm.Episodes = append(vm.Episodes, newEpisodeVM(p, r, e))
	}
	return vm
}

func newEpisodeVM(p *layout.Page, r *models.HealthReport, e models.HealthEpisode) EpisodeVM {
	lang := p.Lang()
	ev := EpisodeVM{
		Opened:   p.T("health.episode.opened", "At", FormatTime(lang, e.OpenedAt), "Cause", CauseTitle(p.Loc, e.Cause)),
		Detected: p.T("health.episode.detected_" + detectedKey(e.DetectedBy)),
		Open:     e.Open(),
	}
	if e.ClosedAt != nil {
		ev.Closed = p.T("health.episode.closed_"+closedKey(e.ClosedBy), "At", FormatTime(lang, *e.ClosedAt))
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
			ev.Alert = p.T("health.alert.delivered", "At", FormatTime(lang, *it.DoneAt))
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
