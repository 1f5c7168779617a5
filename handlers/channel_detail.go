package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/views/channels"
	healthviews "github.com/omnilink/omnilink/views/health"
)

// channelDetail is a channel's page: its health (the one place that says what is wrong, with
// the one reauthorise button) and what to paste into the platform's console.
func (h *Handler) channelDetail(c echo.Context) error {
	ch, err := h.pathChannel(c)
	if err != nil {
		return err
	}
	r := req(c)
	ctx := c.Request().Context()
	p := withoutBannerOf(h.page(c, "channels.title"), ch.ID)
	p.Title = ch.DisplayName
	if h.health == nil {
		row, err := h.channelRow(ctx, r.Loc, ch)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, channels.Detail(p, channels.NewDetailVM(r.Loc, row, ch, h.cfg.BaseURL, h.cfg.MetaWebhookVerifyToken)))
	}
	rep, err := h.health.Report(ctx, r.User.TeamID, ch.ID)
	if err != nil {
		return err
	}
	// The row and the panel come from one report, so they cannot disagree.
	row := channels.NewRow(r.Loc, ch, rep.Health.Verdict, h.authorizerName(ctx, r.User.TeamID, ch.AuthorizedBy))
	d := channels.NewDetailVM(r.Loc, row, ch, h.cfg.BaseURL, h.cfg.MetaWebhookVerifyToken)
	panel := healthviews.NewStatusVM(p, rep, time.Now())
	d.Health = &panel
	return render(c, http.StatusOK, channels.Detail(p, d))
}
