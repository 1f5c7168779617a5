package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/websession"
	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/auth"
)

func (h *Handler) loginPage(c echo.Context) error {
	if req(c).User != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return render(c, http.StatusOK, auth.Login(h.page(c, "login.title"), auth.LoginForm{Next: safeNext(c.QueryParam("next"))}))
}

func (h *Handler) login(c echo.Context) error {
	r := req(c)
	email, next := c.FormValue("email"), safeNext(c.FormValue("next"))
	// Text no account can hold (NUL, bytes that are not UTF-8) never reaches the database.
	if !models.CleanText(email) {
		form := auth.LoginForm{Email: retyped(email), Next: next, Error: r.Loc.T("error.email_invalid")}
		return render(c, http.StatusUnprocessableEntity, auth.Login(h.page(c, "login.title"), form))
	}
	u, err := h.accounts.Login(c.Request().Context(), email, c.FormValue("password"), c.RealIP())
	if err != nil {
		ae, ok := apperr.From(err)
		if !ok {
			return err
		}
		form := auth.LoginForm{Email: email, Next: next, Error: r.Loc.TMap(ae.Key, ae.Args)}
		return render(c, ae.Status, auth.Login(h.page(c, "login.title"), form))
	}
	// A new session id at login, so a session planted before login is worthless.
	if err := h.sessions.Rotate(c.Request().Context(), r.Session); err != nil {
		return err
	}
	r.Session.Values = map[any]any{websession.KeyUserID: u.ID}
	if err := r.Session.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	// Tokens now derive from the new session; the anonymous value seen before login is replaced.
	h.rotatePreSession(c)
	return c.Redirect(http.StatusSeeOther, next)
}

func (h *Handler) logout(c echo.Context) error {
	if s := req(c).Session; s != nil {
		s.Options.MaxAge = -1
		if err := s.Save(c.Request(), c.Response()); err != nil {
			return err
		}
	}
	h.rotatePreSession(c)
	return c.Redirect(http.StatusSeeOther, "/login")
}
