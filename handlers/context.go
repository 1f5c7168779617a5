package handlers

import (
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/models"
)

// request is what the middleware learns about a request, kept on the Echo context.
type request struct {
	Nonce   string
	CSRF    string
	Session *sessions.Session
	User    *models.User
	Team    *models.Team
	Loc     *i18n.Localizer

	// csrfPending: a multipart body on an upload route whose token is in the form; upload checks it.
	csrfPending bool
}

const requestKey = "omnilink.request"

func req(c echo.Context) *request {
	if r, ok := c.Get(requestKey).(*request); ok {
		return r
	}
	r := &request{}
	c.Set(requestKey, r)
	return r
}
