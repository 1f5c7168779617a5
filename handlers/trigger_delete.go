package handlers

import (
	"github.com/labstack/echo/v4"
)

// triggerDelete removes one of the team's triggers.
func (h *Handler) triggerDelete(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	if err := h.triggers.Delete(c.Request().Context(), r.User, id); err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("triggers.deleted"))
	return redirect(c, "/triggers")
}
