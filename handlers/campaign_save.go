package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/omnilink"
	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/campaigns"
)

// campaignCreate saves a new campaign, or re-renders the form with every problem and nothing saved.
func (h *Handler) campaignCreate(c echo.Context) error {
	r := req(c)
	in := parseCampaignForm(c)
	camp, err := h.campaigns.Create(c.Request().Context(), r.User, in)
	var problems models.FieldProblems
	if errors.As(err, &problems) {
		return h.campaignInvalid(c, 0, in, problems)
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("campaigns.created", "Name", camp.Name))
	return redirect(c, "/campaigns")
}

// campaignUpdate saves an edit; a concurrent save by someone else is shown, not overwritten.
func (h *Handler) campaignUpdate(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	in := parseCampaignForm(c)
	camp, err := h.campaigns.Update(c.Request().Context(), r.User, id, in)
	var problems models.FieldProblems
	var stale *omnilink.StaleError
	switch {
	case errors.As(err, &problems):
		return h.campaignInvalid(c, id, in, problems)
	case errors.As(err, &stale):
		// Keep what this person typed; saving again now knowingly replaces the other save.
		in.Version = stale.Current.Version
		vm, err := h.campaignForm(c, id, in, false, stale.Changes)
		if err != nil {
			return err
		}
		return render(c, http.StatusConflict, campaigns.Form(h.page(c, "campaigns.edit_title"), vm))
	case err != nil:
		return err
	}
	h.flash(c, "success", r.Loc.T("campaigns.saved", "Name", camp.Name))
	return redirect(c, "/campaigns")
}

func (h *Handler) campaignInvalid(c echo.Context, id int64, in models.CampaignInput, problems models.FieldProblems) error {
	_, warnings, facts, err := h.campaigns.Check(c.Request().Context(), req(c).User.TeamID, &in)
	if err != nil {
		return err
	}
	vm, err := h.campaignFormWith(c, id, in, facts, problems, warnings, true, nil)
	if err != nil {
		return err
	}
	title := "campaigns.new"
	if id != 0 {
		title = "campaigns.edit_title"
	}
	return render(c, http.StatusUnprocessableEntity, campaigns.Form(h.page(c, title), vm))
}

// parseCampaignForm reads the campaign form. Ids that do not parse become -1, so they are
// reported as unknown rather than as missing.
func parseCampaignForm(c echo.Context) models.CampaignInput {
	in := models.CampaignInput{
		Name:            c.FormValue("name"),
		Status:          models.CampaignStatus(c.FormValue("status")),
		SourceChannelID: formID(c.FormValue("source_channel_id")),
		TargetChannelID: formID(c.FormValue("target_channel_id")),
		MediaID:         formID(c.FormValue("media_id")),
		Title:           c.FormValue("title"),
		Text:            c.FormValue("text"),
		Button:          c.FormValue("button"),
		WAMessage:       c.FormValue("wa_message"),
		SuccessSource:   formAction(c, "success_source"),
		SuccessTarget:   formAction(c, "success_target"),
		FailureSource:   formAction(c, "failure_source"),
		NewTagSource:    c.FormValue("tags_source_new"),
		NewTagTarget:    c.FormValue("tags_target_new"),
	}
	form, _ := c.FormParams()
	for _, v := range form["tags_source"] {
		in.TagsSource = append(in.TagsSource, formID(v))
	}
	for _, v := range form["tags_target"] {
		in.TagsTarget = append(in.TagsTarget, formID(v))
	}
	if n, err := strconv.Atoi(strings.TrimSpace(c.FormValue("token_ttl_days"))); err == nil {
		in.TokenTTLDays = n
	}
	if n, err := strconv.Atoi(c.FormValue("version")); err == nil {
		in.Version = n
	}
	return in
}

func formAction(c echo.Context, field string) models.Action {
	a := models.Action{Kind: models.ActionKind(c.FormValue(field + "_kind")), Text: c.FormValue(field + "_text")}
	if v := c.FormValue(field + "_module_id"); v != "" {
		id := formID(v)
		a.ModuleID = &id
	}
	return a
}

func formID(s string) int64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return -1
	}
	return id
}
