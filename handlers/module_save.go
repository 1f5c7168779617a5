package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
)

// moduleCreate saves a new module, or shows the editor again with every problem and what was typed.
func (h *Handler) moduleCreate(c echo.Context) error {
	r := req(c)
	_, in := parseModuleForm(c)
	m, err := h.modules.Create(c.Request().Context(), r.User, in)
	var problems models.FieldProblems
	if errors.As(err, &problems) {
		return h.moduleEditor(c, http.StatusUnprocessableEntity, 0, in, problems)
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("modules.created", "Name", m.Name))
	return redirect(c, "/modules/"+idString(m.ID)+"/edit")
}

// moduleUpdate saves an edit of one of the team's modules.
func (h *Handler) moduleUpdate(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	_, in := parseModuleForm(c)
	m, err := h.modules.Update(c.Request().Context(), r.User, id, in)
	var problems models.FieldProblems
	if errors.As(err, &problems) {
		if cur, lerr := h.modules.Module(c.Request().Context(), r.User.TeamID, id); lerr == nil {
			in.Platform = cur.Platform
		}
		return h.moduleEditor(c, http.StatusUnprocessableEntity, id, in, problems)
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("modules.saved", "Name", m.Name))
	return redirect(c, "/modules/"+idString(m.ID)+"/edit")
}
