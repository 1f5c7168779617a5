package handlers

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	chsvc "github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/views/channels"
)

// oauthConnect connects the accounts ticked in the Facebook Login dialog. When nothing can be
// done (nothing ticked) the dialog is shown again with the reason, never an error page.
func (h *Handler) oauthConnect(c echo.Context) error {
	r := req(c)
	ctx := c.Request().Context()
	form, err := c.FormParams()
	if err != nil {
		return apperr.Invalid("account", "error.bad_request")
	}
	chosen := form["account"]
	st, err := h.channels.Dialog(ctx, r.User, sessionHash(c))
	var authorizedBy string
	if err == nil {
		authorizedBy = h.authorizerName(ctx, r.User.TeamID, st.AuthorizationID)
	}
	res, err := h.channels.Connect(ctx, r.User, c.Param("state"), chosen)
	if err != nil {
		ae, ok := apperr.From(err)
		if !ok {
			return err
		}
		if errors.Is(err, chsvc.ErrNothingChosen) {
			// Shown again exactly as submitted: nothing ticked.
			d, derr := h.dialogFor(c, append([]string{}, chosen...))
			if derr != nil {
				return derr
			}
			if d != nil && d.StateID == c.Param("state") {
				d.Error = r.Loc.TMap(ae.Key, ae.Args)
				return h.renderChannelList(c, ae.Status, d)
			}
		}
		h.flash(c, "error", r.Loc.TMap(ae.Key, ae.Args))
		return redirect(c, "/channels")
	}
	for _, ok := range res.Connected {
		if authorizedBy != "" {
			h.flash(c, "success", r.Loc.T("channels.connected_by_flash", "Platform", platformName(r.Loc, ok.Platform), "Name", ok.Name, "User", authorizedBy))
		} else {
			h.flash(c, "success", r.Loc.T("channels.connected_flash", "Platform", platformName(r.Loc, ok.Platform), "Name", ok.Name))
		}
	}
	for _, bad := range res.Failed {
		h.flash(c, "error", r.Loc.T("channels.connect_failed_flash", "Name", bad.Name, "Reason", channels.ResultText(r.Loc, bad.Problem, bad.MessageArgs())))
	}
	return redirect(c, "/channels")
}
