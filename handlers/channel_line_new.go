package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/channels"
)

// lineNew is the empty LINE connection form.
func (h *Handler) lineNew(c echo.Context) error {
	return render(c, http.StatusOK, channels.Line(h.page(c, "channels.line_title"), lineFormFor(nil)))
}

// lineFormFor is the LINE form for a new account (ch nil) or for replacing ch's credentials,
// filled with what is not secret.
func lineFormFor(ch *models.Channel) channels.LineForm {
	if ch == nil {
		return channels.LineForm{Action: "/channels/line"}
	}
	return channels.LineForm{Action: "/channels/" + idString(ch.ID) + "/reauthorize", ExistingID: ch.ID,
		ChannelID: ch.Settings.LineChannelID, LoginChannelID: ch.Settings.LoginChannelID, LiffID: ch.Settings.LiffID}
}
