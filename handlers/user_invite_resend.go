package handlers

import (
	"github.com/labstack/echo/v4"
)

func (h *Handler) userInviteResend(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	u, err := h.members.ResendInvite(c.Request().Context(), r.User, id)
	if err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("users.resent_flash", "Email", u.Email))
	return redirect(c, "/users")
}
