package email

import (
	"bytes"
	"context"
	"strings"

	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/models"
)

// AccountVM is an invitation or password-reset email ready to render.
type AccountVM struct {
	Lang      string
	Subject   string
	Greeting  string
	Intro     string
	Button    string
	ButtonURL string
	Expires   string
	Note      string
	Footer    string
}

// NewAccountVM builds an account email in loc's language.
func NewAccountVM(loc *i18n.Localizer, e models.AccountEmail) AccountVM {
	k := "account_email." + string(e.Kind) + "."
	at := e.TimeZone.OrDefault().FormatZoned(e.ExpiresAt)
	vm := AccountVM{
		Lang:      loc.Lang,
		Subject:   loc.T(k+"subject", "Team", e.TeamName, "Inviter", e.InviterName),
		Greeting:  loc.T("account_email.greeting", "Name", e.Name),
		Intro:     loc.T(k+"intro", "Team", e.TeamName, "Inviter", e.InviterName, "Email", e.To),
		Button:    loc.T(k + "button"),
		ButtonURL: e.Link,
		Expires:   loc.T(k+"expires", "At", at),
		Note:      loc.T(k + "note"),
		Footer:    loc.T("account_email.footer"),
	}
	return vm
}

// AccountEmail renders an account email's subject, text and HTML bodies in loc's language.
func AccountEmail(ctx context.Context, loc *i18n.Localizer, e models.AccountEmail) (subject, text, html string, err error) {
	vm := NewAccountVM(loc, e)
	var b bytes.Buffer
	if err := accountHTML(vm).Render(ctx, &b); err != nil {
		return "", "", "", err
	}
	return vm.Subject, vm.Text(), b.String(), nil
}

// Text is the plain-text body, for clients that do not show HTML.
func (vm AccountVM) Text() string {
	var b strings.Builder
	for _, s := range []string{vm.Greeting, "", vm.Intro, "", vm.Button + ": " + vm.ButtonURL, "", vm.Expires, "", vm.Note, "", "-- ", vm.Footer} {
		b.WriteString(s)
		b.WriteString("\n")
	}
	return b.String()
}
