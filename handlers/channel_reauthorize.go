package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
)

// channelReauthorize saves new LINE or WhatsApp credentials, or starts Facebook Login for a
// Page or Instagram account, always for the same channel.
func (h *Handler) channelReauthorize(c echo.Context) error {
	ch, err := h.pathChannel(c)
	if err != nil {
		return err
	}
	switch ch.Platform {
	case models.LINE:
		return h.saveLine(c, ch)
	case models.WhatsApp:
		return h.saveWhatsApp(c, ch)
	}
	r := req(c)
	start, err := h.channels.StartOAuth(c.Request().Context(), r.User, sessionHash(c), ch.Platform, &ch.ID, false)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, start.URL)
}
