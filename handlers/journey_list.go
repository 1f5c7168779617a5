package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
	jviews "github.com/omnilink/omnilink/views/journeys"
)

// journeyList is the team's journeys with the new-journey form.
func (h *Handler) journeyList(c echo.Context) error {
	return h.renderJourneyList(c, http.StatusOK, jviews.JourneyForm{Enabled: true}, nil)
}

func (h *Handler) renderJourneyList(c echo.Context, status int, form jviews.JourneyForm, problems jviews.Problems) error {
	r := req(c)
	ctx := c.Request().Context()
	js, err := h.tags.Journeys(ctx, r.User.TeamID)
	if err != nil {
		return err
	}
	tags, err := h.teamTags(c)
	if err != nil {
		return err
	}
	return render(c, status, jviews.List(h.page(c, "journeys.title"), jviews.NewList(js, tags, form, problems)))
}

func (h *Handler) teamTags(c echo.Context) ([]models.Tag, error) {
	rows, err := h.tags.List(c.Request().Context(), req(c).User.TeamID)
	out := make([]models.Tag, len(rows))
	for i, r := range rows {
		out[i] = r.Tag
	}
	return out, err
}

// parseJourneyForm reads the journey form as typed and as the service takes it.
func parseJourneyForm(c echo.Context) (jviews.JourneyForm, models.JourneyInput) {
	form := jviews.JourneyForm{Name: c.FormValue("name"), TriggerTagID: c.FormValue("trigger_tag_id"), Enabled: c.FormValue("enabled") != ""}
	return form, models.JourneyInput{Name: form.Name, TriggerTagID: formID(form.TriggerTagID), Enabled: form.Enabled}
}
