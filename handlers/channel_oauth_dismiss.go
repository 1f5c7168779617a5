package handlers

import "github.com/labstack/echo/v4"

// oauthDismiss closes a Facebook Login dialog without connecting anything.
func (h *Handler) oauthDismiss(c echo.Context) error {
	r := req(c)
	if err := h.channels.Dismiss(c.Request().Context(), r.User, c.Param("state")); err != nil {
		return err
	}
	return redirect(c, "/channels")
}
