package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	chsvc "github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/views/channels"
)

// oauthCallback is Facebook Login's redirect URI. The tab's title and heading say whether the
// authorisation went through; the original tab shows the accounts.
func (h *Handler) oauthCallback(c echo.Context) error {
	r := req(c)
	st, err := h.channels.CompleteOAuth(c.Request().Context(), r.User, sessionHash(c), chsvc.Callback{
		State: c.QueryParam("state"), Code: c.QueryParam("code"), Error: c.QueryParam("error"),
		ErrorReason: c.QueryParam("error_reason"), ErrorDescription: c.QueryParam("error_description"),
	})
	if err != nil {
		ae, ok := apperr.From(err)
		if !ok {
			return err
		}
		p := h.page(c, "channels.callback_failed")
		return render(c, ae.Status, channels.Callback(p, p.Title, r.Loc.TMap(ae.Key, ae.Args), false))
	}
	ok := st.Outcome == "authorized" || st.Outcome == "reauthorized"
	titleKey := "channels.callback_title"
	if !ok {
		titleKey = "channels.callback_failed"
	}
	p := h.page(c, titleKey)
	msg := strings.Join(append([]string{channels.ResultText(r.Loc, st.OutcomeCode, st.OutcomeArgs)}, channels.NoteTexts(r.Loc, st.Notes)...), " ")
	return render(c, http.StatusOK, channels.Callback(p, p.Title, msg, ok))
}
