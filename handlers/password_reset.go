package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
)

func (h *Handler) passwordResetPage(c echo.Context) error {
	return h.linkPage(c, models.TokenReset, http.StatusOK, nil, nil)
}

func (h *Handler) passwordReset(c echo.Context) error {
	return h.linkSubmit(c, models.TokenReset, func(token, password string) (*models.User, error) {
		return h.members.ResetPassword(c.Request().Context(), token, password)
	}, "password.reset_flash")
}
