// Package email holds the email templates: a view-model per email, rendered to HTML with templ
// and to plain text alongside, in the recipient team's language.
package email

import (
	"bytes"
	"context"
	"strings"

	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/health"
)

// Row is one labelled fact in an email.
type Row struct {
	Label string
	Value string
}

// ChannelBlock is one channel in a health email, with its own button when it needs action.
type ChannelBlock struct {
	Title     string
	Rows      []Row
	Button    string
	ButtonURL string
}

// Fix explains one cause and what to do about it.
type Fix struct {
	Title string
	Text  string
}

// AlertVM is a health email ready to render.
type AlertVM struct {
	Lang       string
	Subject    string
	Greeting   string
	Intro      string
	Team       Row
	Channels   []ChannelBlock
	FixHeading string
	Fixes      []Fix
	Button     string // a closing button for the whole email (recovered: the channels page)
	ButtonURL  string
	Note       string
	Footer     string
}

// NewAlertVM builds the email for a health alert in loc's language.
func NewAlertVM(loc *i18n.Localizer, a models.HealthAlert) AlertVM {
	lang := loc.Lang
	kind := string(a.Kind)
	vm := AlertVM{
		Lang:     lang,
		Greeting: loc.T("health.email.greeting", "Team", a.TeamName),
		Team:     Row{loc.T("health.email.team"), a.TeamName},
		Footer:   loc.T("health.email.footer"),
	}
	var first models.AlertChannel
	if len(a.Channels) > 0 {
		first = a.Channels[0]
	}
	earliest := first.ExpiresAt
	for _, c := range a.Channels {
		if !c.ExpiresAt.IsZero() && c.ExpiresAt.Before(earliest) {
			earliest = c.ExpiresAt
		}
	}
	zone := a.TimeZone
	date := zone.FormatDate(earliest)
	if len(a.Channels) == 1 {
		vm.Subject = loc.T("health.email."+kind+".subject", "Platform", health.PlatformName(loc, first.Platform), "Name", first.Name, "Date", date)
	} else {
		vm.Subject = loc.T("health.email."+kind+".subject_many", "Count", len(a.Channels), "Date", date)
	}
	vm.Intro = loc.T("health.email."+kind+".intro", "At", zone.FormatZoned(a.At), "Date", date)
	seen := map[models.HealthCause]bool{}
	for _, c := range a.Channels {
		ch := &models.Channel{ID: c.ChannelID, Platform: c.Platform, DisplayName: c.Name, Username: c.Username}
		b := ChannelBlock{
			Title: health.PlatformName(loc, c.Platform) + "：" + health.ChannelLabel(ch),
			Rows: []Row{
				{loc.T("health.email.channel"), health.PlatformName(loc, c.Platform)},
				{loc.T("health.email.account"), health.ChannelLabel(ch)},
			},
		}
		if lang == "en" {
			b.Title = health.PlatformName(loc, c.Platform) + ": " + health.ChannelLabel(ch)
		}
		switch a.Kind {
		case models.AlertBroken:
			b.Rows = append(b.Rows,
				Row{loc.T("health.email.cause"), health.CauseTitle(loc, c.Cause)},
				Row{loc.T("health.email.since"), zone.FormatZoned(c.Since)})
			if c.FacebookUser != "" {
				b.Rows = append(b.Rows, Row{loc.T("health.email.reauthorize_as"), health.UseFacebookUser(loc, c.FacebookUser)})
			}
			b.Button, b.ButtonURL = loc.T("health.email.broken.button"), c.ReauthorizeURL
			if cause := c.Cause.OrInvalid(); !seen[cause] {
				seen[cause] = true
				vm.Fixes = append(vm.Fixes, Fix{Title: health.CauseTitle(loc, cause), Text: health.CauseFixFor(loc, c.Platform, cause)})
			}
		case models.AlertRecovered:
			b.Rows = append(b.Rows, Row{loc.T("health.email.since"), zone.FormatZoned(c.Since)})
		case models.AlertExpiring:
			b.Rows = append(b.Rows, Row{loc.T("health.token_expires"), zone.FormatZoned(c.ExpiresAt)})
			b.Button, b.ButtonURL = loc.T("health.email.expiring.button"), c.ReauthorizeURL
		}
		vm.Channels = append(vm.Channels, b)
	}
	switch a.Kind {
	case models.AlertBroken:
		vm.FixHeading = loc.T("health.email.how_to_fix")
		vm.Note = loc.T("health.email.broken.once")
	case models.AlertRecovered:
		vm.Button, vm.ButtonURL = loc.T("health.email.recovered.button"), a.ChannelsURL
	}
	return vm
}

// HealthAlert renders a health email's subject, text and HTML bodies in loc's language.
func HealthAlert(ctx context.Context, loc *i18n.Localizer, a models.HealthAlert) (subject, text, html string, err error) {
	vm := NewAlertVM(loc, a)
	var b bytes.Buffer
	if err := healthHTML(vm).Render(ctx, &b); err != nil {
		return "", "", "", err
	}
	return vm.Subject, vm.Text(), b.String(), nil
}

// Text is the plain-text body, for clients that do not show HTML.
func (vm AlertVM) Text() string {
	var b strings.Builder
	line := func(s string) { b.WriteString(s); b.WriteString("\n") }
	line(vm.Greeting)
	line("")
	line(vm.Intro)
	line("")
	line(vm.Team.Label + ": " + vm.Team.Value)
	for _, c := range vm.Channels {
		line("")
		line("■ " + c.Title)
		for _, r := range c.Rows {
			line("  " + r.Label + ": " + r.Value)
		}
		if c.ButtonURL != "" {
			line("  " + c.Button + ": " + c.ButtonURL)
		}
	}
	if len(vm.Fixes) > 0 {
		line("")
		line(vm.FixHeading)
		for _, f := range vm.Fixes {
			line("・" + f.Title)
			line("  " + f.Text)
		}
	}
	if vm.ButtonURL != "" {
		line("")
		line(vm.Button + ": " + vm.ButtonURL)
	}
	if vm.Note != "" {
		line("")
		line(vm.Note)
	}
	line("")
	line("-- ")
	line(vm.Footer)
	return b.String()
}
