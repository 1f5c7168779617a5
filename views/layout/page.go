// Package layout holds the per-request page context and the console's page frame.
package layout

import (
	"time"

	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/models"
)

// Page is the per-request context every layout and view receives.
type Page struct {
	Title     string
	Loc       *i18n.Localizer
	CSRF      string
	Nonce     string
	RequestID string
	Path      string
	User      *UserVM
	TeamName  string
	Zone      models.TimeZone // the team's time zone; every time on the page is shown in it
	Nav       []NavItem
	Flashes   []Flash
	Banners   []Banner
}

// T translates a key in the page's language.
func (p *Page) T(key string, args ...any) string { return p.Loc.T(key, args...) }

// Label is a translated label followed by the language's colon (full-width in Chinese).
func (p *Page) Label(key string, args ...any) string {
	return p.Loc.T(key, args...) + p.Loc.T("layout.colon")
}

// Colon is the language's colon after a label that is already text.
func (p *Page) Colon() string { return p.Loc.T("layout.colon") }

// Time shows a moment in the team's time zone, the one format every page uses.
func (p *Page) Time(t time.Time) string { return p.Zone.Format(t) }

// Date shows the day of a moment in the team's time zone.
func (p *Page) Date(t time.Time) string { return p.Zone.FormatDate(t) }

// Lang is the page's language tag.
func (p *Page) Lang() string { return p.Loc.Lang }

// UserVM is what a page shows of the signed-in user.
type UserVM struct {
	ID    int64
	Name  string
	Email string
	Role  string
}

// NavItem is one navigation link the user's role allows.
type NavItem struct {
	Href   string
	Key    string
	Active bool
}

// Flash is a one-time message shown after a redirect.
type Flash struct {
	Kind    string // success, error or info
	Message string
}

// Banner is a persistent warning shown on every console page, such as a broken channel.
type Banner struct {
	Title      string
	Body       string
	ActionHref string
	ActionText string
	Note       string
}

// CurrentNav is the message key of the navigation item the page belongs to, or "".
func (p *Page) CurrentNav() string {
	for _, n := range p.Nav {
		if n.Active {
			return n.Key
		}
	}
	return ""
}
