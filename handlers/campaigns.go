package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/views/campaigns"
)

func (h *Handler) campaignList(c echo.Context) error {
	return render(c, http.StatusOK, campaigns.Index(h.page(c, "campaigns.title")))
}
