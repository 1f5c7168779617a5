package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/models"
	jviews "github.com/omnilink/omnilink/views/journeys"
)

// journeyStepAdd appends a step, or re-renders the journey with every problem and what was typed.
func (h *Handler) journeyStepAdd(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	form := jviews.StepForm{Kind: c.FormValue("kind"), Wait: c.FormValue("wait"), Unit: c.FormValue("unit"), ChannelID: c.FormValue("channel_id"),
		Text: c.FormValue("text"), ModuleID: c.FormValue("module_id"), TagID: c.FormValue("tag_id")}
	in := models.StepInput{Kind: models.StepKind(form.Kind), Wait: form.Wait, Unit: form.Unit, ChannelID: formID(form.ChannelID),
		Text: form.Text, ModuleID: formID(form.ModuleID), TagID: formID(form.TagID)}
	err = h.tags.AddStep(c.Request().Context(), r.User, id, in)
	if p, ok := asProblems(err); ok {
		return h.renderJourney(c, http.StatusUnprocessableEntity, id, nil, form, translateProblems(r.Loc, p))
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("journeys.step_added"))
	return redirect(c, "/journeys/"+idString(id))
}

// journeyStepDelete removes a step (numbered from 1 as shown).
func (h *Handler) journeyStepDelete(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 1 {
		return apperr.ErrNotFound
	}
	r := req(c)
	if err := h.tags.DeleteStep(c.Request().Context(), r.User, id, n-1); err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("journeys.step_deleted"))
	return redirect(c, "/journeys/"+idString(id))
}
