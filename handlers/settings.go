package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/i18n"
)

// setLanguage stores the chosen language on the account (when signed in) and in a cookie.
func (h *Handler) setLanguage(c echo.Context) error {
	lang := c.FormValue("locale")
	if !i18n.Supported(lang) {
		return apperr.Invalid("locale", "error.locale_invalid")
	}
	if u := req(c).User; u != nil {
		if err := h.accounts.SetLocale(c.Request().Context(), u.ID, lang); err != nil {
			return err
		}
	}
	c.SetCookie(&http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, Secure: h.cfg.SecureCookies(), SameSite: http.SameSiteLaxMode})
	return redirect(c, safeNext(c.FormValue("next")))
}
