package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// triggerCreate adds a trigger, or shows the page again with every problem and what was typed.
func (h *Handler) triggerCreate(c echo.Context) error {
	r := req(c)
	in := models.TriggerInput{ChannelID: formID(c.FormValue("channel_id")), Kind: models.TriggerKind(c.FormValue("kind")),
		Pattern: c.FormValue("pattern"), ModuleID: formID(c.FormValue("module_id"))}
	_, err := h.triggers.Create(c.Request().Context(), r.User, in)
	var problems models.FieldProblems
	switch {
	case errors.As(err, &problems):
		return h.triggerPage(c, http.StatusUnprocessableEntity, in, problems)
	case errors.Is(err, store.ErrTriggerTaken):
		return h.triggerPage(c, http.StatusConflict, in, models.FieldProblems{"pattern": {Key: "triggers.error_taken"}})
	case err != nil:
		return err
	}
	h.flash(c, "success", r.Loc.T("triggers.created"))
	return redirect(c, "/triggers")
}
