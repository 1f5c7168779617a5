package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/campaigns"
)

// campaignPreview answers the form's live validation: the per-platform preview, and each
// field's message and counter out of band. It writes nothing. Problems that only say a field
// is still empty wait for the real submit, so nobody is told off while typing.
func (h *Handler) campaignPreview(c echo.Context) error {
	r := req(c)
	in := parseCampaignForm(c)
	problems, warnings, facts, err := h.campaigns.Check(c.Request().Context(), r.User.TeamID, &in)
	if err != nil {
		return err
	}
	shown := models.FieldProblems{}
	for field, p := range problems {
		if p.Key == "campaigns.error_required" || strings.HasPrefix(p.Key, "campaigns.error_choose_") {
			continue
		}
		shown[field] = p
	}
	vm, err := h.campaignFormWith(c, formID(c.FormValue("campaign_id")), in, facts, shown, warnings, true, nil)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, campaigns.PreviewFragment(h.page(c, "campaigns.title"), vm))
}
