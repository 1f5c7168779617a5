package handlers

import (
	"github.com/labstack/echo/v4"
)

// campaignDuplicate copies one of the team's campaigns, disabled, and opens the copy.
func (h *Handler) campaignDuplicate(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	ctx := c.Request().Context()
	src, err := h.campaigns.Campaign(ctx, r.User.TeamID, id)
	if err != nil {
		return err
	}
	cp, err := h.campaigns.Duplicate(ctx, r.User, id, r.Loc.T("campaigns.copy_name", "Name", src.Name))
	if err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("campaigns.duplicated", "Name", cp.Name))
	return redirect(c, "/campaigns")
}
