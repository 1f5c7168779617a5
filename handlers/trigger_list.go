package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/modules"
)

// triggerList lists the team's triggers with the form to add one.
func (h *Handler) triggerList(c echo.Context) error {
	return h.triggerPage(c, http.StatusOK, models.TriggerInput{}, nil)
}

func (h *Handler) triggerPage(c echo.Context, status int, in models.TriggerInput, problems models.FieldProblems) error {
	r := req(c)
	ctx := c.Request().Context()
	d := modules.TriggerData{Input: in, Problems: problems}
	var err error
	if d.Rows, err = h.triggers.List(ctx, r.User.TeamID); err != nil {
		return err
	}
	if d.Channels, err = h.campaigns.Channels(ctx, r.User.TeamID); err != nil {
		return err
	}
	if d.Modules, err = h.modules.List(ctx, r.User.TeamID); err != nil {
		return err
	}
	return render(c, status, modules.Triggers(h.page(c, "triggers.title"), modules.NewTriggers(r.Loc, d)))
}
