package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/views/campaigns"
)

// campaignHistory lists who changed one of the team's campaigns, what and when.
func (h *Handler) campaignHistory(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	ctx := c.Request().Context()
	camp, err := h.campaigns.Campaign(ctx, r.User.TeamID, id)
	if err != nil {
		return err
	}
	rows, err := h.campaigns.History(ctx, r.User.TeamID, id)
	if err != nil {
		return err
	}
	chans, err := h.campaigns.Channels(ctx, r.User.TeamID)
	if err != nil {
		return err
	}
	tags, err := h.campaigns.Tags(ctx, r.User.TeamID)
	if err != nil {
		return err
	}
	p := h.page(c, "campaigns.history")
	return render(c, http.StatusOK, campaigns.History(p, camp.Name, id, campaigns.NewHistory(p, rows, campaigns.NewNames(chans, tags))))
}
