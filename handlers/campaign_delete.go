package handlers

import (
	"github.com/labstack/echo/v4"
)

// campaignDelete soft-deletes one of the team's campaigns; its statistics stay.
func (h *Handler) campaignDelete(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	if err := h.campaigns.Delete(c.Request().Context(), r.User, id); err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("campaigns.deleted"))
	return redirect(c, "/campaigns")
}
