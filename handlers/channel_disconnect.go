package handlers

import "github.com/labstack/echo/v4"

// channelDisconnect stops using a channel (中斷連接); the flash names it.
func (h *Handler) channelDisconnect(c echo.Context) error {
	ch, err := h.pathChannel(c)
	if err != nil {
		return err
	}
	r := req(c)
	if err := h.channels.Disconnect(c.Request().Context(), r.User, ch.ID); err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("channels.disconnected_flash", "Platform", platformName(r.Loc, ch.Platform), "Name", ch.DisplayName))
	return redirect(c, "/channels")
}
