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
	row, err := h.channelRow(ctx, r.Loc, ch)
	if err != nil {
		return err
	}
	p := withoutBannerOf(h.page(c, "channels.title"), ch.ID)
	p.Title = ch.DisplayName
	d := channels.NewDetailVM(r.Loc, row, ch, h.cfg.BaseURL, h.cfg.MetaWebhookVerifyToken)
	if h.health != nil {
		rep, err := h.health.Report(ctx, r.User.TeamID, ch.ID)
		if err != nil {
			return err
		}
		vm := healthviews.NewStatusVM(p, rep, time.Now())
		d.Health = &vm
	}
	return render(c, http.StatusOK, channels.Detail(p, d))
}
