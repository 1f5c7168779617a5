package handlers

import (
	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	chsvc "github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/channels"
)

// whatsappCreate connects a WhatsApp number from the form.
func (h *Handler) whatsappCreate(c echo.Context) error { return h.saveWhatsApp(c, nil) }

// parseWhatsAppForm reads the WhatsApp form; WhatsAppInput.Validate checks it as a whole.
func parseWhatsAppForm(c echo.Context) chsvc.WhatsAppInput {
	return chsvc.WhatsAppInput{PhoneNumberID: c.FormValue("phone_number_id"), WABAID: c.FormValue("waba_id"), AccessToken: c.FormValue("access_token")}
}

// saveWhatsApp connects a number, or replaces existing's token; a failed submit shows every
// error and what was typed, except the token.
func (h *Handler) saveWhatsApp(c echo.Context, existing *models.Channel) error {
	r := req(c)
	in := parseWhatsAppForm(c)
	var existingID *int64
	if existing != nil {
		existingID = &existing.ID
	}
	ch, err := h.channels.ConnectWhatsApp(c.Request().Context(), r.User, in, existingID)
	if err != nil {
		ae, ok := apperr.From(err)
		if !ok {
			return err
		}
		f := whatsAppFormFor(existing)
		f.PhoneNumberID, f.WABAID = in.PhoneNumberID, in.WABAID
		f.Retype = in.AccessToken != ""
		f.Errors, f.Error = formErrors(r.Loc, ae, "phone_number_id", "waba_id", "access_token")
		title := "channels.wa_title"
		if existing != nil {
			title = "channels.wa_update_title"
		}
		return render(c, ae.Status, channels.WhatsApp(h.page(c, title), f))
	}
	h.flashSaved(c, ch, existing != nil)
	return redirect(c, "/channels/"+idString(ch.ID))
}
