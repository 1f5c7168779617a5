package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/channels"
)

// channelReauthorizePage repairs a channel in place: Facebook Login for Pages and Instagram,
// a credentials form for LINE and WhatsApp.
func (h *Handler) channelReauthorizePage(c echo.Context) error {
	ch, err := h.pathChannel(c)
	if err != nil {
		return err
	}
	r := req(c)
	switch ch.Platform {
	case models.LINE:
		return render(c, http.StatusOK, channels.Line(withoutBannerOf(h.page(c, "channels.line_update_title"), ch.ID), lineFormFor(ch)))
	case models.WhatsApp:
		return render(c, http.StatusOK, channels.WhatsApp(withoutBannerOf(h.page(c, "channels.wa_update_title"), ch.ID), whatsAppFormFor(ch)))
	}
	dialog, err := h.dialogFor(c, nil)
	if err != nil {
		return err
	}
	row, err := h.channelRow(c.Request().Context(), r.Loc, ch)
	if err != nil {
		return err
	}
	p := h.page(c, "channels.reauthorize")
	p.Title = r.Loc.T("channels.reauth_title", "Name", ch.DisplayName)
	return render(c, http.StatusOK, channels.Reauthorize(withoutBannerOf(p, ch.ID), row, dialog))
}
