package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/identity"
	customerviews "github.com/omnilink/omnilink/views/customers"
)

// customerImportLimit bounds the member-number file (and its multipart envelope).
const customerImportLimit = identity.ImportMaxBytes + 64<<10

// customerImportPage is the member-number CSV import form.
func (h *Handler) customerImportPage(c echo.Context) error {
	return h.renderImport(c, http.StatusOK, nil, "")
}

func (h *Handler) renderImport(c echo.Context, status int, rows []identity.ImportRow, errMsg string) error {
	r := req(c)
	chans, err := h.campaigns.Channels(c.Request().Context(), r.User.TeamID)
	if err != nil {
		return err
	}
	p := h.page(c, "customers.import_title")
	return render(c, status, customerviews.Import(p, customerviews.NewImport(rows, errMsg, chans)))
}

// customerImport applies a member-number CSV row by row and shows what was applied and what
// was refused and why; a file that cannot be read applies nothing.
func (h *Handler) customerImport(c echo.Context) error {
	r := req(c)
	fh, err := c.FormFile("file")
	if err != nil {
		return h.renderImport(c, http.StatusUnprocessableEntity, nil, r.Loc.T("customers.import_error_file"))
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := h.customers.ImportMemberNumbers(c.Request().Context(), r.User, f)
	if ae, ok := apperr.From(err); ok && ae.Field == "file" {
		return h.renderImport(c, http.StatusUnprocessableEntity, nil, r.Loc.TMap(ae.Key, ae.Args))
	}
	if err != nil {
		return err
	}
	return h.renderImport(c, http.StatusOK, rows, "")
}
