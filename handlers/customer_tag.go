package handlers

import (
	"github.com/labstack/echo/v4"
)

// customerTagAdd puts a tag on every identity of a customer; another team's tag is a 404.
func (h *Handler) customerTagAdd(c echo.Context) error { return h.customerTag(c, true) }

// customerTagRemove takes a tag off every identity of a customer.
func (h *Handler) customerTagRemove(c echo.Context) error { return h.customerTag(c, false) }

func (h *Handler) customerTag(c echo.Context, add bool) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	tag := formID(c.FormValue("tag_id"))
	key := "tags.applied"
	if add {
		err = h.customers.AddTag(c.Request().Context(), r.User, id, tag)
	} else {
		err = h.customers.RemoveTag(c.Request().Context(), r.User, id, tag)
		key = "tags.removed"
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T(key))
	return redirect(c, "/customers/"+idString(id))
}
