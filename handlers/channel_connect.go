package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
)

// channelConnect starts Facebook Login in the tab this form opened.
func (h *Handler) channelConnect(c echo.Context) error {
	r := req(c)
	p := models.Platform(c.Param("platform"))
	start, err := h.channels.StartOAuth(c.Request().Context(), r.User, sessionHash(c), p, nil, c.FormValue("rerequest") == "1")
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, start.URL)
}
