package handlers

import (
	"crypto/rand"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/identity"
	"github.com/omnilink/omnilink/models"
	customerviews "github.com/omnilink/omnilink/views/customers"
)

// customerShow is one customer's profile; a customer merged into another moves there.
func (h *Handler) customerShow(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	return h.renderCustomer(c, http.StatusOK, id, nil, nil, customerviews.ReplyForm{})
}

// renderCustomer draws the profile; memberNo, when given, is what was typed in a refused edit.
func (h *Handler) renderCustomer(c echo.Context, status int, id int64, memberNo *string, problems customerviews.Problems, reply customerviews.ReplyForm) error {
	r := req(c)
	prof, err := h.customers.Profile(c.Request().Context(), r.User.TeamID, id)
	var moved *identity.MovedError
	if errors.As(err, &moved) {
		return redirect(c, "/customers/"+idString(moved.To))
	}
	if err != nil {
		return err
	}
	no := ""
	if prof.Customer.MemberNo != nil {
		no = *prof.Customer.MemberNo
	}
	if memberNo != nil {
		no = *memberNo
	}
	if reply.Key == "" {
		reply.Key = rand.Text()
	}
	vm := customerviews.NewProfile(prof, no, problems, reply, teamZone(r.Team), r.User.Role.Can(models.CapCustomerEdit))
	p := h.page(c, "customers.title")
	p.Title = prof.Customer.DisplayName
	return render(c, status, customerviews.Profile(p, vm))
}
