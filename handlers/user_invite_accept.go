package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
)

func (h *Handler) inviteAcceptPage(c echo.Context) error {
	return h.linkPage(c, models.TokenInvite, http.StatusOK, nil, nil)
}

func (h *Handler) inviteAccept(c echo.Context) error {
	return h.linkSubmit(c, models.TokenInvite, func(token, password string) (*models.User, error) {
		return h.members.AcceptInvite(c.Request().Context(), token, password)
	}, "password.joined_flash")
}
