package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	customerviews "github.com/omnilink/omnilink/views/customers"
)

// customerMemberNo edits a customer's member number (unique per team; empty clears it).
func (h *Handler) customerMemberNo(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	typed := c.FormValue("member_no")
	if err := h.customers.SetMemberNo(c.Request().Context(), r.User, id, typed); err != nil {
		if ae, ok := apperr.From(err); ok && ae.Field == "member_no" {
			return h.renderCustomer(c, http.StatusUnprocessableEntity, id, &typed,
				customerviews.Problems{"member_no": r.Loc.TMap(ae.Key, ae.Args)}, customerviews.ReplyForm{})
		}
		return err
	}
	h.flash(c, "success", r.Loc.T("customers.member_saved"))
	return redirect(c, "/customers/"+idString(id))
}
