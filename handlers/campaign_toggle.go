package handlers

import (
	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
)

func (h *Handler) campaignEnable(c echo.Context) error {
	return h.campaignSetStatus(c, models.CampaignEnabled)
}

func (h *Handler) campaignDisable(c echo.Context) error {
	return h.campaignSetStatus(c, models.CampaignDisabled)
}

// campaignSetStatus enables or disables one of the team's campaigns.
func (h *Handler) campaignSetStatus(c echo.Context, status models.CampaignStatus) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	if err := h.campaigns.SetStatus(c.Request().Context(), r.User, id, status); err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("campaigns.flash_"+string(status)))
	return redirect(c, "/campaigns")
}
