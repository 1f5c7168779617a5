package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/views/channels"
)

// oauthDialog is polled by the page that started Facebook Login.
func (h *Handler) oauthDialog(c echo.Context) error {
	d, err := h.dialogFor(c, nil)
	if err != nil {
		return err
	}
	if d == nil {
		return c.NoContent(http.StatusOK)
	}
	return render(c, http.StatusOK, channels.Dialog(h.page(c, "channels.title"), *d))
}
