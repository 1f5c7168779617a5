package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/campaigns"
)

// campaignNew is the empty create form.
func (h *Handler) campaignNew(c echo.Context) error {
	vm, err := h.campaignForm(c, 0, models.NewCampaignInput(), false, nil)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, campaigns.Form(h.page(c, "campaigns.new"), vm))
}

// campaignEdit is the edit form of one of the team's campaigns.
func (h *Handler) campaignEdit(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	camp, err := h.campaigns.Campaign(c.Request().Context(), req(c).User.TeamID, id)
	if err != nil {
		return err
	}
	vm, err := h.campaignForm(c, id, camp.Input(), false, nil)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, campaigns.Form(h.page(c, "campaigns.edit_title"), vm))
}

// campaignForm checks an input and builds the form around it: showErrors is false for a page
// that has just opened, so nobody is told off before typing.
func (h *Handler) campaignForm(c echo.Context, id int64, in models.CampaignInput, showErrors bool, stale []models.AuditRow) (campaigns.FormVM, error) {
	r := req(c)
	ctx := c.Request().Context()
	problems, warnings, facts, err := h.campaigns.Check(ctx, r.User.TeamID, &in)
	if err != nil {
		return campaigns.FormVM{}, err
	}
	return h.campaignFormWith(c, id, in, facts, problems, warnings, showErrors, stale)
}

func (h *Handler) campaignFormWith(c echo.Context, id int64, in models.CampaignInput, facts models.CampaignFacts, problems models.FieldProblems,
	warnings []models.FieldProblem, showErrors bool, stale []models.AuditRow) (campaigns.FormVM, error) {
	r := req(c)
	ctx := c.Request().Context()
	d := campaigns.FormData{ID: id, Input: in, Facts: facts, Problems: problems, Warnings: warnings, Stale: stale, ShowErrors: showErrors}
	var err error
	if d.Channels, err = h.campaigns.Channels(ctx, r.User.TeamID); err != nil {
		return campaigns.FormVM{}, err
	}
	if d.Tags, err = h.campaigns.Tags(ctx, r.User.TeamID); err != nil {
		return campaigns.FormVM{}, err
	}
	for _, p := range models.Platforms {
		mods, err := h.campaigns.Modules(ctx, r.User.TeamID, p)
		if err != nil {
			return campaigns.FormVM{}, err
		}
		d.Modules = append(d.Modules, mods...)
	}
	if in.MediaID > 0 && facts.Image != nil {
		if d.Media, err = h.campaigns.Media(ctx, r.User.TeamID, in.MediaID); err != nil {
			return campaigns.FormVM{}, err
		}
	}
	return campaigns.NewForm(h.page(c, "campaigns.title"), d), nil
}
