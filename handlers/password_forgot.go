package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/auth"
)

// forgotForm is the forgot-password form as submitted.
type forgotForm struct{ Email string }

// Validate returns every problem with the form.
func (f forgotForm) Validate() models.FieldErrors {
	var fe models.FieldErrors
	fe.Add("email", models.EmailProblem(f.Email))
	return fe
}

func (h *Handler) passwordForgotPage(c echo.Context) error {
	return render(c, http.StatusOK, auth.Forgot(h.page(c, "password.forgot_heading"), auth.ForgotForm{}))
}

// passwordForgot answers the same for every well-formed email, known or not, limited or not.
func (h *Handler) passwordForgot(c echo.Context) error {
	r := req(c)
	f := forgotForm{Email: models.NormalizeEmail(c.FormValue("email"))}
	fail := func(status int, errs map[string]string) error {
		return render(c, status, auth.Forgot(h.page(c, "password.forgot_heading"), auth.ForgotForm{Email: retyped(f.Email), Errors: errs}))
	}
	if fe := f.Validate(); len(fe) > 0 {
		errs, _ := fieldMessages(r.Loc, fe, "email")
		return fail(http.StatusUnprocessableEntity, errs)
	}
	if err := h.members.RequestPasswordReset(c.Request().Context(), f.Email, c.RealIP()); err != nil {
		ae, ok := apperr.From(err)
		if !ok || ae.Field != "email" {
			return err
		}
		return fail(ae.Status, map[string]string{"email": r.Loc.TMap(ae.Key, ae.Args)})
	}
	return render(c, http.StatusOK, auth.Forgot(h.page(c, "password.forgot_heading"), auth.ForgotForm{Email: f.Email, Sent: true}))
}
