package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/users"
)

// inviteForm is the invitation form as submitted.
type inviteForm struct{ models.InviteInput }

func bindInvite(c echo.Context) inviteForm {
	f := inviteForm{models.InviteInput{Email: c.FormValue("email"), Name: c.FormValue("name"),
		Role: models.Role(c.FormValue("role")), Locale: c.FormValue("locale")}}
	f.Normalize()
	return f
}

// Validate returns every problem with the form.
func (f inviteForm) Validate() models.FieldErrors { return f.InviteInput.Validate() }

// shown is the form as typed, safe to show again.
func (f inviteForm) shown() models.InviteInput {
	in := f.InviteInput
	in.Email, in.Name = retyped(in.Email), retyped(in.Name)
	return in
}

var inviteFields = []string{"email", "name", "role", "locale"}

func (h *Handler) userInvitePage(c echo.Context) error {
	r := req(c)
	in := models.InviteInput{Role: models.RoleAgent, Locale: r.Team.Locale}
	return render(c, http.StatusOK, users.Invite(h.page(c, "users.invite"), users.NewInviteForm(in, nil, "")))
}

func (h *Handler) userInvite(c echo.Context) error {
	r := req(c)
	f := bindInvite(c)
	if fe := f.Validate(); len(fe) > 0 {
		errs, msg := fieldMessages(r.Loc, fe, inviteFields...)
		return render(c, http.StatusUnprocessableEntity, users.Invite(h.page(c, "users.invite"), users.NewInviteForm(f.shown(), errs, msg)))
	}
	u, err := h.members.Invite(c.Request().Context(), r.User, f.InviteInput)
	if err != nil {
		ae, ok := apperr.From(err)
		if !ok {
			return err
		}
		errs, msg := formErrors(r.Loc, ae, inviteFields...)
		return render(c, ae.Status, users.Invite(h.page(c, "users.invite"), users.NewInviteForm(f.shown(), errs, msg)))
	}
	h.flash(c, "success", r.Loc.T("users.invited_flash", "Name", u.Name, "Email", u.Email))
	return redirect(c, "/users")
}
