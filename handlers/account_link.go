package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/auth"
)

// passwordForm is a new password as typed twice behind an invitation or reset link.
type passwordForm struct {
	Password string
	Confirm  string
}

func bindPassword(c echo.Context) passwordForm {
	return passwordForm{Password: c.FormValue("password"), Confirm: c.FormValue("password_confirm")}
}

// Validate returns every problem with the form.
func (f passwordForm) Validate() models.FieldErrors {
	var fe models.FieldErrors
	fe.Add("password", models.PasswordProblem(f.Password))
	if f.Password != f.Confirm {
		fe.Add("password_confirm", "error.password_mismatch")
	}
	return fe
}

var passwordFields = []string{"password", "password_confirm"}

// linkHeaders keep a page whose address holds a secret out of caches and Referer headers.
// strict-origin sends only our origin, never the path with the token; no-referrer would make
// browsers send "Origin: null" with the page's own form, which the CSRF check rightly refuses.
func linkHeaders(c echo.Context) {
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("Referrer-Policy", "strict-origin")
}

// linkPage shows the password form behind a link, with the problems of a failed submit (fe, or
// ae from the service), or why the link no longer works. A visitor who has not picked a
// language sees the one the link's owner reads.
func (h *Handler) linkPage(c echo.Context, purpose models.TokenPurpose, status int, fe models.FieldErrors, ae *apperr.Error) error {
	linkHeaders(c)
	ctx := c.Request().Context()
	u, err := h.members.LinkUser(ctx, purpose, c.Param("token"))
	if err != nil {
		return h.linkProblem(c, purpose, err)
	}
	team, err := h.dir.Team(ctx, u.TeamID)
	if err != nil {
		return err
	}
	r := req(c)
	if _, err := c.Cookie(langCookie); err != nil && r.User == nil {
		r.Loc = h.i18n.For(u.EffectiveLocale(team))
	}
	errs, msg := fieldMessages(r.Loc, fe, passwordFields...)
	if ae != nil {
		errs, msg = formErrors(r.Loc, ae, passwordFields...)
	}
	f := auth.PasswordForm{Invite: purpose == models.TokenInvite, Action: c.Request().URL.Path, Name: u.Name, Email: u.Email,
		TeamName: team.Name, Errors: errs, Error: msg, Retyped: status != http.StatusOK}
	return render(c, status, auth.ChoosePassword(h.page(c, "password.title"), f))
}

// linkSubmit sets the password through a link with use (accept or reset), then signs the person
// in on a fresh session.
func (h *Handler) linkSubmit(c echo.Context, purpose models.TokenPurpose, use func(token, password string) (*models.User, error), done string) error {
	linkHeaders(c)
	f := bindPassword(c)
	if fe := f.Validate(); len(fe) > 0 {
		return h.linkPage(c, purpose, http.StatusUnprocessableEntity, fe, nil)
	}
	u, err := use(c.Param("token"), f.Password)
	if err != nil {
		if isLinkError(err) {
			return h.linkProblem(c, purpose, err)
		}
		ae, ok := apperr.From(err)
		if !ok {
			return err
		}
		return h.linkPage(c, purpose, ae.Status, nil, ae)
	}
	if err := h.startSession(c, u); err != nil {
		return err
	}
	// Signed in, the console speaks the member's language; so does the welcome.
	team, err := h.dir.Team(c.Request().Context(), u.TeamID)
	if err != nil {
		return err
	}
	h.flash(c, "success", h.i18n.For(u.EffectiveLocale(team)).T(done, "Name", u.Name))
	return redirect(c, "/")
}

func isLinkError(err error) bool {
	ae, ok := apperr.From(err)
	return ok && strings.HasPrefix(ae.Key, "link.")
}

// linkProblem explains a link that no longer works, with what to do for its purpose.
func (h *Handler) linkProblem(c echo.Context, purpose models.TokenPurpose, err error) error {
	if !isLinkError(err) {
		return err
	}
	ae, _ := apperr.From(err)
	r := req(c)
	vm := auth.LinkProblemVM{Title: r.Loc.T("link.title"), Message: r.Loc.T(ae.Key)}
	if purpose == models.TokenInvite {
		vm.WhatToDo = r.Loc.T("link.invite_todo")
		vm.ActionHref, vm.ActionText = "/login", r.Loc.T("password.back_to_login")
	} else {
		vm.WhatToDo = r.Loc.T("link.reset_todo")
		vm.ActionHref, vm.ActionText = "/password/forgot", r.Loc.T("password.forgot_again")
	}
	return render(c, ae.Status, auth.LinkProblem(h.page(c, "link.title"), vm))
}
