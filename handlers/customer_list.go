package handlers

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/identity"
	"github.com/omnilink/omnilink/internal/messaging"
	"github.com/omnilink/omnilink/models"
	customerviews "github.com/omnilink/omnilink/views/customers"
)

// CustomerService is what the customer pages need (identity.Customers).
type CustomerService interface {
	List(ctx context.Context, teamID int64, q string, page int) ([]identity.ListRow, int64, error)
	Profile(ctx context.Context, teamID, id int64) (*identity.Profile, error)
	SetMemberNo(ctx context.Context, actor *models.User, id int64, value string) error
	AddTag(ctx context.Context, actor *models.User, id, tagID int64) error
	RemoveTag(ctx context.Context, actor *models.User, id, tagID int64) error
	Reply(ctx context.Context, actor *models.User, id, contactID int64, text, key string) (messaging.Result, error)
	Preview(ctx context.Context, teamID, a, b int64) (*identity.MergePreview, error)
	Merge(ctx context.Context, actor *models.User, a, b int64) (identity.Result, error)
	UndoMerge(ctx context.Context, actor *models.User, mergeID int64) (int64, error)
	ImportMemberNumbers(ctx context.Context, actor *models.User, r io.Reader) ([]identity.ImportRow, error)
}

// customerList lists the team's customers, searchable by name, member number, channel id or tag.
func (h *Handler) customerList(c echo.Context) error {
	r := req(c)
	q := strings.TrimSpace(c.QueryParam("q"))
	if len(q) > 100 {
		q = q[:100]
	}
	page, _ := strconv.Atoi(c.QueryParam("page"))
	page = max(page, 1)
	rows, total, err := h.customers.List(c.Request().Context(), r.User.TeamID, q, page)
	if err != nil {
		return err
	}
	p := h.page(c, "customers.title")
	return render(c, http.StatusOK, customerviews.List(p, customerviews.NewList(rows, total, q, page, teamZone(r.Team), r.User.Role.Can(models.CapCustomerEdit))))
}
