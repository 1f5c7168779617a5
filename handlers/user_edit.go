package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/users"
)

// editForm is a member's edit form as submitted.
type editForm struct{ Name string }

// Validate returns every problem with the form.
func (f editForm) Validate() models.FieldErrors {
	var fe models.FieldErrors
	fe.Add("name", models.NameProblem(f.Name))
	return fe
}

func (h *Handler) userEditPage(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	u, err := h.members.TeamMember(c.Request().Context(), req(c).User, id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, users.Edit(h.page(c, "users.edit_title"), users.NewEditForm(u, u.Name, nil, "")))
}

func (h *Handler) userEdit(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	ctx := c.Request().Context()
	// Loaded first so another team's id is a 404 whatever was typed.
	u, err := h.members.TeamMember(ctx, r.User, id)
	if err != nil {
		return err
	}
	f := editForm{Name: models.NormalizeName(c.FormValue("name"))}
	if fe := f.Validate(); len(fe) > 0 {
		errs, msg := fieldMessages(r.Loc, fe, "name")
		return render(c, http.StatusUnprocessableEntity, users.Edit(h.page(c, "users.edit_title"), users.NewEditForm(u, retyped(f.Name), errs, msg)))
	}
	renamed, err := h.members.Rename(ctx, r.User, id, f.Name)
	if err != nil {
		ae, ok := apperr.From(err)
		if !ok {
			return err
		}
		errs, msg := formErrors(r.Loc, ae, "name")
		return render(c, ae.Status, users.Edit(h.page(c, "users.edit_title"), users.NewEditForm(u, retyped(f.Name), errs, msg)))
	}
	h.flash(c, "success", r.Loc.T("users.renamed_flash", "Old", u.Name, "Name", renamed.Name))
	return redirect(c, "/users")
}
