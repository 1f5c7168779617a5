package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
)

// tagCreate adds a tag, or re-renders the list with the problem and what was typed.
func (h *Handler) tagCreate(c echo.Context) error {
	r := req(c)
	in := models.TagInput{Name: c.FormValue("name")}
	tag, err := h.tags.Create(c.Request().Context(), r.User, in)
	if p, ok := asProblems(err); ok {
		return h.renderTagList(c, http.StatusUnprocessableEntity, c.FormValue("name"), translateProblems(r.Loc, p))
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("tags.created", "Name", tag.Name))
	return redirect(c, "/tags/"+idString(tag.ID))
}

// tagDelete deletes a tag; its rules go with it and rich menus fall back.
func (h *Handler) tagDelete(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	if err := h.tags.Delete(c.Request().Context(), r.User, id); err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("tags.deleted"))
	return redirect(c, "/tags")
}
