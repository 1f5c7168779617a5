package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	jviews "github.com/omnilink/omnilink/views/journeys"
)

// journeyCreate adds a journey, or re-renders the list with every problem and what was typed.
func (h *Handler) journeyCreate(c echo.Context) error {
	r := req(c)
	form, in := parseJourneyForm(c)
	j, err := h.tags.SaveJourney(c.Request().Context(), r.User, 0, in)
	if p, ok := asProblems(err); ok {
		return h.renderJourneyList(c, http.StatusUnprocessableEntity, form, translateProblems(r.Loc, p))
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("journeys.created", "Name", j.Name))
	return redirect(c, "/journeys/"+idString(j.ID))
}

// journeyUpdate changes a journey's name, trigger tag and switch.
func (h *Handler) journeyUpdate(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	form, in := parseJourneyForm(c)
	_, err = h.tags.SaveJourney(c.Request().Context(), r.User, id, in)
	if p, ok := asProblems(err); ok {
		return h.renderJourney(c, http.StatusUnprocessableEntity, id, &form, jviews.StepForm{}, translateProblems(r.Loc, p))
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("journeys.saved"))
	return redirect(c, "/journeys/"+idString(id))
}

// journeyDelete deletes a journey with its runs.
func (h *Handler) journeyDelete(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	if err := h.tags.DeleteJourney(c.Request().Context(), r.User, id); err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("journeys.deleted"))
	return redirect(c, "/journeys")
}
