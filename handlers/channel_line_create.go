package handlers

import (
	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	chsvc "github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/channels"
)

// lineCreate connects a LINE official account from the form.
func (h *Handler) lineCreate(c echo.Context) error { return h.saveLine(c, nil) }

// parseLineForm reads the LINE form; LineInput.Validate checks it as a whole.
func parseLineForm(c echo.Context) chsvc.LineInput {
	return chsvc.LineInput{ChannelID: c.FormValue("channel_id"), ChannelSecret: c.FormValue("channel_secret"), AccessToken: c.FormValue("access_token"),
		LoginChannelID: c.FormValue("login_channel_id"), LiffID: c.FormValue("liff_id")}
}

// saveLine connects a LINE account, or replaces existing's credentials. A failed submit shows
// the form again with every error and what was typed, except the secrets, which are asked for
// again.
func (h *Handler) saveLine(c echo.Context, existing *models.Channel) error {
	r := req(c)
	in := parseLineForm(c)
	var existingID *int64
	if existing != nil {
		existingID = &existing.ID
	}
	ch, err := h.channels.ConnectLine(c.Request().Context(), r.User, in, existingID)
	if err != nil {
		ae, ok := apperr.From(err)
		if !ok {
			return err
		}
		f := lineFormFor(existing)
		f.ChannelID, f.LoginChannelID, f.LiffID = in.ChannelID, in.LoginChannelID, in.LiffID
		f.Retype = in.ChannelSecret != "" || in.AccessToken != ""
		f.Errors, f.Error = formErrors(r.Loc, ae, "channel_id", "channel_secret", "access_token", "login_channel_id", "liff_id")
		title := "channels.line_title"
		if existing != nil {
			title = "channels.line_update_title"
		}
		return render(c, ae.Status, channels.Line(h.page(c, title), f))
	}
	h.flashSaved(c, ch, existing != nil)
	return redirect(c, "/channels/"+idString(ch.ID))
}

// flashSaved tells, naming the channel, that it was connected or that its credentials changed.
func (h *Handler) flashSaved(c echo.Context, ch *models.Channel, updated bool) {
	r := req(c)
	key := "channels.connected_flash"
	if updated {
		key = "channels.credentials_updated_flash"
	}
	h.flash(c, "success", r.Loc.T(key, "Platform", platformName(r.Loc, ch.Platform), "Name", ch.DisplayName))
}
