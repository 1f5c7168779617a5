package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/teamhook"
	"github.com/omnilink/omnilink/models"
	settingsviews "github.com/omnilink/omnilink/views/settings"
)

// TeamHooks is the team's outbound webhook setting (teamhook.Service).
type TeamHooks interface {
	Setting(ctx context.Context, teamID int64) (*teamhook.Setting, error)
	Save(ctx context.Context, actor *models.User, in teamhook.Input) error
	Ping(ctx context.Context, actor *models.User) error
}

// settingsWebhook is the outbound webhook setting with its delivery log.
func (h *Handler) settingsWebhook(c echo.Context) error {
	r := req(c)
	s, err := h.teamHooks.Setting(c.Request().Context(), r.User.TeamID)
	if err != nil {
		return err
	}
	enabled := s.Enabled || s.URL == ""
	return h.renderWebhook(c, http.StatusOK, s, s.URL, enabled, nil)
}

func (h *Handler) renderWebhook(c echo.Context, status int, s *teamhook.Setting, url string, enabled bool, problems settingsviews.Problems) error {
	r := req(c)
	p := h.page(c, "settings.webhook_title")
	return render(c, status, settingsviews.Webhook(p, settingsviews.NewWebhook(s, url, enabled, problems, teamZone(r.Team))))
}

// settingsWebhookSave stores the endpoint and secret; a refused submit keeps what was typed
// except the secret.
func (h *Handler) settingsWebhookSave(c echo.Context) error {
	r := req(c)
	ctx := c.Request().Context()
	in := teamhook.Input{URL: c.FormValue("url"), Secret: c.FormValue("secret"), Enabled: c.FormValue("enabled") == "1"}
	err := h.teamHooks.Save(ctx, r.User, in)
	if problems := fieldProblems(r.Loc.TMap, err, "url", "secret"); problems != nil {
		s, err := h.teamHooks.Setting(ctx, r.User.TeamID)
		if err != nil {
			return err
		}
		return h.renderWebhook(c, http.StatusUnprocessableEntity, s, in.URL, in.Enabled, settingsviews.Problems(problems))
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("settings.webhook_saved"))
	return redirect(c, "/settings/webhook")
}

// settingsWebhookPing queues a test event to the endpoint.
func (h *Handler) settingsWebhookPing(c echo.Context) error {
	r := req(c)
	if err := h.teamHooks.Ping(c.Request().Context(), r.User); err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("settings.webhook_pinged"))
	return redirect(c, "/settings/webhook")
}
