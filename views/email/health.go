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

// AlertVM is a health email ready to render.
type AlertVM struct {
	Lang      string
	Subject   string
	Greeting  string
	Intro     string
	Rows      []Row
	FixTitle  string
	Fix       string
	Button    string
	ButtonURL string
	Note      string
	Footer    string
}

// NewAlertVM builds the email for a health alert in loc's language.
func NewAlertVM(loc *i18n.Localizer, a models.HealthAlert) AlertVM {
	lang := loc.Lang
	platform := health.PlatformName(loc, a.Platform)
	ch := &models.Channel{ID: a.ChannelID, Platform: a.Platform, DisplayName: a.ChannelName, Username: a.Username}
	name := health.ChannelLabel(ch)
	vm := AlertVM{
		Lang:     lang,
		Greeting: loc.T("health.email.greeting", "Team", a.TeamName),
		Footer:   loc.T("health.email.footer"),
		Rows: []Row{
			{loc.T("health.email.team"), a.TeamName},
			{loc.T("health.email.channel"), platform},
			{loc.T("health.email.account"), name},
		},
	}
	kind := string(a.Kind)
	date := health.FormatDate(lang, a.ExpiresAt)
	vm.Subject = loc.T("health.email."+kind+".subject", "Platform", platform, "Name", a.ChannelName, "Date", date)
	vm.Intro = loc.T("health.email."+kind+".intro", "At", health.FormatTime(lang, a.At), "Date", date)
	vm.Button = loc.T("health.email." + kind + ".button")
	switch a.Kind {
	case models.AlertBroken:
		vm.Rows = append(vm.Rows,
			Row{loc.T("health.email.cause"), health.CauseTitle(loc, a.Cause)},
			Row{loc.T("health.email.since"), health.FormatTime(lang, a.Since)})
		vm.FixTitle, vm.Fix = loc.T("health.email.how_to_fix"), health.CauseFix(loc, a.Cause)
		vm.ButtonURL = a.ReauthorizeURL
		vm.Note = loc.T("health.email.broken.once")
	case models.AlertRecovered:
		vm.Rows = append(vm.Rows, Row{loc.T("health.email.since"), health.FormatTime(lang, a.Since)})
		vm.ButtonURL = a.ChannelsURL
	case models.AlertExpiring:
		vm.Rows = append(vm.Rows, Row{loc.T("health.token_expires"), health.FormatTime(lang, a.ExpiresAt)})
		vm.ButtonURL = a.ReauthorizeURL
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
	for _, r := range vm.Rows {
		line("  " + r.Label + ": " + r.Value)
	}
	if vm.Fix != "" {
		line("")
		line(vm.FixTitle)
		line(vm.Fix)
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
