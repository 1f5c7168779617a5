package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
	tagviews "github.com/omnilink/omnilink/views/tags"
)

// tagRuleSave adds a rule to the tag, or re-renders the tag page with every problem and what
// was picked.
func (h *Handler) tagRuleSave(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	form := tagviews.RuleForm{Action: c.FormValue("action"), JourneyID: c.FormValue("journey_id"), Menu: c.FormValue("menu"), Priority: c.FormValue("priority")}
	in := models.RuleInput{Action: models.TagRuleAction(form.Action), JourneyID: formID(c.FormValue("journey_id")), Menu: form.Menu, Priority: form.Priority}
	_, err = h.tags.SaveRule(c.Request().Context(), r.User, id, in)
	if p, ok := asProblems(err); ok {
		return h.renderTag(c, http.StatusUnprocessableEntity, id, form, translateProblems(r.Loc, p))
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("tags.rule_added"))
	return redirect(c, "/tags/"+idString(id))
}
