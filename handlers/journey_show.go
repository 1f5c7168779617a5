package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	jviews "github.com/omnilink/omnilink/views/journeys"
)

// journeyShow is one journey: settings, steps, and its runs with skipped steps and why.
func (h *Handler) journeyShow(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	return h.renderJourney(c, http.StatusOK, id, nil, jviews.StepForm{}, nil)
}

// renderJourney renders the journey page; form, when given, is what was typed in the settings.
func (h *Handler) renderJourney(c echo.Context, status int, id int64, form *jviews.JourneyForm, step jviews.StepForm, problems jviews.Problems) error {
	r := req(c)
	ctx := c.Request().Context()
	team := r.User.TeamID
	j, err := h.tags.Journey(ctx, team, id)
	if err != nil {
		return err
	}
	tags, err := h.teamTags(c)
	if err != nil {
		return err
	}
	chans, err := h.tags.Channels(ctx, team)
	if err != nil {
		return err
	}
	runs, steps, counts, err := h.tags.JourneyRuns(ctx, team, id)
	if err != nil {
		return err
	}
	f := jviews.JourneyForm{Name: j.Name, Enabled: j.Enabled}
	if j.TriggerTagID != nil {
		f.TriggerTagID = strconv.FormatInt(*j.TriggerTagID, 10)
	}
	if form != nil {
		f = *form
	}
	p := h.page(c, "journeys.title")
	p.Title = j.Name
	return render(c, status, jviews.Detail(p, jviews.NewDetail(p.Zone, j, f, tags, chans, step, problems, runs, steps, counts)))
}
