package handlers

import (
	"github.com/labstack/echo/v4"
)

func (h *Handler) userInviteRevoke(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	u, err := h.members.RevokeInvite(c.Request().Context(), r.User, id)
	if err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("users.revoked_flash", "Email", u.Email))
	return redirect(c, "/users")
}
