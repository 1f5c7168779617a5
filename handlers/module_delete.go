package handlers

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/automation"
)

// moduleDelete deletes one of the team's modules, unless campaigns, triggers or other modules
// use it: then it stays and the list says where it is used.
func (h *Handler) moduleDelete(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	err = h.modules.Delete(c.Request().Context(), r.User, id)
	var inUse *automation.InUseError
	if errors.As(err, &inUse) {
		ae := inUse.AppErr()
		h.flash(c, "error", r.Loc.TMap(ae.Key, ae.Args))
		return redirect(c, "/modules")
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("modules.deleted"))
	return redirect(c, "/modules")
}
