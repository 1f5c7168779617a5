package handlers

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/layout"
)

// navigation lists every console area; the permission table decides which a user sees.
var navigation = []struct {
	href string
	key  string
	cap  models.Capability
}{
	{"/", "nav.dashboard", models.CapDashboard},
	{"/campaigns", "nav.campaigns", models.CapCampaigns},
	{"/customers", "nav.customers", models.CapCustomers},
	{"/modules", "nav.modules", models.CapCampaigns},
	{"/triggers", "nav.triggers", models.CapCampaigns},
	{"/tags", "nav.tags", models.CapTags},
	{"/journeys", "nav.journeys", models.CapJourneys},
	{"/channels", "nav.channels", models.CapChannels},
	{"/users", "nav.users", models.CapUsers},
	{"/settings/team", "nav.team_settings", models.CapTeamSettings},
	{"/settings/webhook", "nav.webhook", models.CapWebhook},
}

// page builds the per-request page context; it consumes pending flash messages.
func (h *Handler) page(c echo.Context, titleKey string) *layout.Page {
	r := req(c)
	p := &layout.Page{
		Title:     r.Loc.T(titleKey),
		Loc:       r.Loc,
		CSRF:      r.CSRF,
		Nonce:     r.Nonce,
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
		Path:      c.Request().URL.RequestURI(),
	}
	if r.User != nil {
		p.User = &layout.UserVM{ID: r.User.ID, Name: r.User.Name, Email: r.User.Email, Role: string(r.User.Role)}
		p.TeamName = r.Team.Name
		p.Zone = r.Team.TimeZone
		h.brokenBanners(c, p)
		path := c.Request().URL.Path
		for _, n := range navigation {
			if r.User.Role.Can(n.cap) {
				active := path == n.href || (n.href != "/" && strings.HasPrefix(path, n.href+"/"))
				p.Nav = append(p.Nav, layout.NavItem{Href: n.href, Key: n.key, Active: active})
			}
		}
		if h.sandbox != nil {
			// Roles without the control panel land on the simulator, the one screen they may use.
			href := "/sandbox/simulator"
			if r.User.Role.Can(models.CapChannels) {
				href = "/sandbox"
			}
			p.Nav = append(p.Nav, layout.NavItem{Href: href, Key: "nav.sandbox", Active: path == "/sandbox" || strings.HasPrefix(path, "/sandbox/")})
		}
	}
	// Background htmx requests (previews, polls) answer fragments that show no flashes; they leave
	// them for the next page, or a poll between a redirect and its page would swallow them. An
	// htmx request that swaps the whole main area shows them like a page.
	if r.Session != nil && (!isHTMX(c) || c.Request().Header.Get("HX-Target") == "main") {
		flashes := r.Session.Flashes()
		for _, f := range flashes {
			s, _ := f.(string)
			kind, msg, ok := strings.Cut(s, "|")
			if !ok {
				kind, msg = "info", s
			}
			p.Flashes = append(p.Flashes, layout.Flash{Kind: kind, Message: msg})
		}
		if len(flashes) > 0 {
			_ = r.Session.Save(c.Request(), c.Response())
		}
	}
	return p
}

// flash queues a one-time message for the next page; kind is success, error or info.
func (h *Handler) flash(c echo.Context, kind, message string) {
	r := req(c)
	if r.Session == nil {
		return
	}
	r.Session.AddFlash(kind + "|" + message)
	_ = r.Session.Save(c.Request(), c.Response())
}

// render writes a templ component with the given status; the body is built first so a
// rendering failure still becomes a proper error page.
func render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// redirect answers a form post with 303, or an HX-Redirect for htmx.
func redirect(c echo.Context, to string) error {
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", to)
		return c.NoContent(http.StatusOK)
	}
	return c.Redirect(http.StatusSeeOther, to)
}
