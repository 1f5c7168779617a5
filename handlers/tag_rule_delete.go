package handlers

import (
	"github.com/labstack/echo/v4"
)

// tagRuleDelete deletes one of the tag's rules.
func (h *Handler) tagRuleDelete(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ruleID, err := paramID(c, "ruleID")
	if err != nil {
		return err
	}
	r := req(c)
	if err := h.tags.DeleteRule(c.Request().Context(), r.User, id, ruleID); err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("tags.rule_deleted"))
	return redirect(c, "/tags/"+idString(id))
}
