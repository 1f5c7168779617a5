package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/identity"
	customerviews "github.com/omnilink/omnilink/views/customers"
)

// customerMergePage searches for the customer to merge with and previews the result by the
// same rules the merge follows.
func (h *Handler) customerMergePage(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	with, _ := strconv.ParseInt(c.QueryParam("with"), 10, 64)
	return h.renderMerge(c, http.StatusOK, id, with)
}

func (h *Handler) renderMerge(c echo.Context, status int, id, with int64) error {
	r := req(c)
	ctx := c.Request().Context()
	self, err := h.customers.Profile(ctx, r.User.TeamID, id)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(c.QueryParam("q"))
	if len(q) > 100 {
		q = q[:100]
	}
	var candidates []identity.ListRow
	if q != "" {
		if candidates, _, err = h.customers.List(ctx, r.User.TeamID, q, 1); err != nil {
			return err
		}
	}
	var preview *identity.MergePreview
	refusal := ""
	if with > 0 {
		preview, err = h.customers.Preview(ctx, r.User.TeamID, id, with)
		if ae, ok := apperr.From(err); ok && ae.Field == "with" {
			refusal, preview, status = r.Loc.TMap(ae.Key, ae.Args), nil, http.StatusUnprocessableEntity
		} else if err != nil {
			return err
		}
		if preview != nil && preview.Refusal != nil {
			refusal = r.Loc.TMap(preview.Refusal.Key, preview.Refusal.Args)
		}
	}
	vm := customerviews.NewMerge(self, candidates, q, with, preview, refusal, teamZone(r.Team))
	if preview == nil && refusal != "" {
		h.flash(c, "error", refusal)
	}
	p := h.page(c, "customers.merge_manual")
	return render(c, status, customerviews.MergePage(p, vm))
}

// customerMerge merges the customer with the one previewed; a rule that refuses it shows the
// preview again with the reason, nothing merged.
func (h *Handler) customerMerge(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	with := formID(c.FormValue("with"))
	if with <= 0 {
		return apperr.ErrNotFound
	}
	res, err := h.customers.Merge(c.Request().Context(), r.User, id, with)
	if ae, ok := apperr.From(err); ok && ae.Field == "with" {
		return h.renderMerge(c, http.StatusConflict, id, with)
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", r.Loc.T("customers.merged"))
	return redirect(c, "/customers/"+idString(res.CustomerID))
}
