package handlers

import (
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/internal/websession"
	"github.com/omnilink/omnilink/models"
)

// fieldMessages turns every field error of a form into its message, the first per field; an
// error about a field the form does not show goes above the form.
func fieldMessages(loc *i18n.Localizer, fe models.FieldErrors, fields ...string) (map[string]string, string) {
	out := map[string]string{}
	var above []string
	for _, e := range fe {
		shown := false
		for _, f := range fields {
			if e.Field == f {
				shown = true
			}
		}
		switch {
		case !shown:
			above = append(above, loc.T(e.Key))
		case out[e.Field] == "":
			out[e.Field] = loc.T(e.Key)
		}
	}
	return out, strings.Join(above, " ")
}

// retyped makes typed text safe to show again in a form: bytes that are not UTF-8 and control
// characters become U+FFFD, so the person sees where the problem was.
func retyped(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) {
			return unicode.ReplacementChar
		}
		return r
	}, strings.ToValidUTF8(s, string(unicode.ReplacementChar)))
}

// startSession signs u in on a fresh session id, so a session planted before is worthless.
func (h *Handler) startSession(c echo.Context, u *models.User) error {
	r := req(c)
	if err := h.sessions.Rotate(c.Request().Context(), r.Session); err != nil {
		return err
	}
	r.Session.Values = map[any]any{websession.KeyUserID: u.ID}
	return r.Session.Save(c.Request(), c.Response())
}
