package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/i18n"
	errviews "github.com/omnilink/omnilink/views/errors"
)

// handleError is the one place errors become responses: typed service errors keep their
// status and message, unknown errors become a logged 500 that reveals nothing.
func (h *Handler) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, key := http.StatusInternalServerError, "error.internal"
	var args map[string]any
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		err = errBodyTooLarge.Wrap(err) // a body read past its limit anywhere is the client's 413
	}
	if ae, ok := apperr.From(err); ok {
		status, key, args = ae.Status, ae.Key, ae.Args
	} else if he := (*echo.HTTPError)(nil); errors.As(err, &he) {
		status = he.Code
		switch status {
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			status, key = http.StatusNotFound, "error.not_found"
		case http.StatusRequestEntityTooLarge:
			key = "error.too_large"
		case http.StatusForbidden:
			key = "error.forbidden"
		case http.StatusBadRequest:
			key = "error.bad_request"
		case http.StatusUnauthorized:
			key = "error.unauthorized"
		case http.StatusServiceUnavailable:
			key = "error.unavailable"
		}
	}
	if status >= 500 {
		h.log.Error("request failed", "request_id", c.Response().Header().Get(echo.HeaderXRequestID), "path", c.Request().URL.Path, "error", err.Error())
	}
	r := req(c)
	if r.Loc == nil {
		r.Loc = h.i18n.For(i18n.Default)
	}
	msg := r.Loc.TMap(key, args)
	path := c.Request().URL.Path
	if strings.HasPrefix(path, "/webhooks/") || strings.HasPrefix(path, "/liff/api/") || strings.Contains(c.Request().Header.Get("Accept"), "application/json") {
		_ = c.JSON(status, map[string]string{"error": key, "message": msg})
		return
	}
	vm := errviews.ErrorVM{Status: status, Title: r.Loc.T(titleFor(status)), Message: msg}
	p := h.page(c, titleFor(status))
	if isHTMX(c) {
		// htmx ignores error statuses by default; the fragment still tells the user what happened.
		c.Response().Header().Set("HX-Retarget", "#main")
		c.Response().Header().Set("HX-Reswap", "afterbegin")
		_ = render(c, status, errviews.Fragment(p, vm))
		return
	}
	_ = render(c, status, errviews.Page(p, vm))
}

func titleFor(status int) string {
	switch status {
	case http.StatusNotFound:
		return "error.title_404"
	case http.StatusForbidden:
		return "error.title_403"
	case http.StatusUnauthorized:
		return "error.title_401"
	case http.StatusTooManyRequests:
		return "error.title_429"
	case http.StatusRequestEntityTooLarge:
		return "error.title_413"
	}
	if status >= 500 {
		return "error.title_500"
	}
	return "error.title_400"
}
