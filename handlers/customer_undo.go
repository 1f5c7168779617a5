package handlers

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/identity"
)

// customerUndo undoes a merge: both customers come back as they were (identities, tags, member
// numbers). Merges are undone newest first; a refusal says which merge to undo before.
func (h *Handler) customerUndo(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	survivor, err := h.customers.UndoMerge(c.Request().Context(), r.User, id)
	if errors.Is(err, identity.ErrLaterMerge) || errors.Is(err, identity.ErrAlreadyUndone) || errors.Is(err, identity.ErrUndoMemberNo) {
		ae, _ := apperr.From(err)
		h.flash(c, "error", r.Loc.TMap(ae.Key, ae.Args))
		return redirect(c, "/customers/"+idString(survivor))
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("customers.undone"))
	return redirect(c, "/customers/"+idString(survivor))
}
