package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/campaigns"
)

// campaignSendPage lists the source channel's contacts to send the campaign's card to.
func (h *Handler) campaignSendPage(c echo.Context) error {
	return h.renderSend(c, 0, "", http.StatusOK)
}

func (h *Handler) renderSend(c echo.Context, chosen int64, problem string, status int) error {
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
	contacts, err := h.links.SourceContacts(ctx, r.User.TeamID, id)
	if err != nil {
		return err
	}
	vm := campaigns.SendVM{CampaignID: id, CampaignName: camp.Name, Chosen: chosen, Error: problem}
	for _, ct := range contacts {
		label := ct.Name
		if label == "" {
			label = ct.Ext
		} else {
			label += " (" + ct.Ext + ")"
		}
		vm.Contacts = append(vm.Contacts, campaigns.SendContact{ID: ct.ID, Label: label})
	}
	return render(c, status, campaigns.Send(h.page(c, "campaigns.send_title"), vm))
}

// campaignSend sends the card (a fresh link token) to the chosen contact through the one
// sending path; a refusal (disabled campaign, gone channel, closed window) is shown on the form.
func (h *Handler) campaignSend(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	contact, err := strconv.ParseInt(c.FormValue("contact"), 10, 64)
	if err != nil || contact <= 0 {
		return h.renderSend(c, 0, r.Loc.T("campaigns.send_choose_error"), http.StatusUnprocessableEntity)
	}
	res, err := h.links.SendCard(c.Request().Context(), r.User, id, contact)
	if err != nil {
		ae, ok := apperr.From(err)
		if !ok || ae.Status == http.StatusInternalServerError {
			return err
		}
		if ae.Status == http.StatusNotFound && ae.Field == "" {
			return h.renderSend(c, contact, r.Loc.T("campaigns.send_choose_error"), http.StatusUnprocessableEntity)
		}
		return h.renderSend(c, contact, r.Loc.T(ae.Key, mapArgs(ae.Args)...), http.StatusUnprocessableEntity)
	}
	// Only a queued (or sent) card is on its way; any other outcome says why it is not.
	if res.Outcome == models.SendQueued || res.Outcome == models.SendSent {
		h.flash(c, "success", r.Loc.T("campaigns.send_done"))
	} else {
		h.flash(c, "error", r.Loc.T("messaging.outcome."+string(res.Outcome)))
	}
	return redirect(c, "/campaigns/"+strconv.FormatInt(id, 10)+"/send")
}

func mapArgs(m map[string]any) []any {
	out := make([]any, 0, 2*len(m))
	for k, v := range m {
		out = append(out, k, v)
	}
	return out
}
