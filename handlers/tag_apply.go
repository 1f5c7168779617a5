package handlers

import (
	"github.com/labstack/echo/v4"
)

// tagApply puts the tag on a contact picked on the tag page; another team's contact is a 404.
func (h *Handler) tagApply(c echo.Context) error {
	return h.tagChange(c, true)
}

// tagRemove takes the tag off a contact; its rich menu falls back to the next rule or the default.
func (h *Handler) tagRemove(c echo.Context) error {
	return h.tagChange(c, false)
}

func (h *Handler) tagChange(c echo.Context, apply bool) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	contact := formID(c.FormValue("contact_id"))
	if apply {
		err = h.tags.Apply(c.Request().Context(), r.User, contact, id)
	} else {
		err = h.tags.Remove(c.Request().Context(), r.User, contact, id)
	}
	if err != nil {
		return err
	}
	key := "tags.applied"
	if !apply {
		key = "tags.removed"
	}
	h.flash(c, "success", r.Loc.T(key))
	return redirect(c, "/tags/"+idString(id))
}
