package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/channels"
)

// whatsappNew is the empty WhatsApp connection form.
func (h *Handler) whatsappNew(c echo.Context) error {
	return render(c, http.StatusOK, channels.WhatsApp(h.page(c, "channels.wa_title"), whatsAppFormFor(nil)))
}

// whatsAppFormFor is the WhatsApp form for a new number (ch nil) or for replacing ch's token.
func whatsAppFormFor(ch *models.Channel) channels.WhatsAppForm {
	if ch == nil {
		return channels.WhatsAppForm{Action: "/channels/whatsapp"}
	}
	return channels.WhatsAppForm{Action: "/channels/" + idString(ch.ID) + "/reauthorize", ExistingID: ch.ID,
		PhoneNumberID: ch.ExternalID, WABAID: ch.Settings.WABAID}
}
