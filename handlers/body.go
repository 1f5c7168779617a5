package handlers

import (
	"crypto/subtle"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
)

// Request body limits. Every body is read through one limit set before any middleware or
// handler can touch it (http.MaxBytesReader, so chunked bodies are counted too); a route may
// only raise it by declaring itself an upload route in the route table.
const (
	// maxFormBody bounds console forms and every route without a limit of its own.
	maxFormBody int64 = 1 << 20
	// maxSandboxAPIBody is the emulator API's own bound (internal/sandbox keeps the same figure).
	maxSandboxAPIBody int64 = 2 << 20
	// uploadMemory is how much of a multipart body is kept in memory; the rest of the parts go to
	// temporary files, which the route's limit bounds and the server removes after the request.
	uploadMemory int64 = 1 << 20
)

// Errors of the body limits.
var (
	errBodyTooLarge     = &apperr.Error{Status: http.StatusRequestEntityTooLarge, Key: "error.too_large"}
	errUnsupportedMedia = &apperr.Error{Status: http.StatusUnsupportedMediaType, Key: "error.unsupported_media"}
	errBadBody          = &apperr.Error{Status: http.StatusBadRequest, Key: "error.bad_request"}
)

// bodyLimitFor is the one table of global body limits by path.
func bodyLimitFor(path string) int64 {
	switch {
	case strings.HasPrefix(path, "/webhooks/"):
		return maxWebhookBody
	case strings.HasPrefix(path, "/sandbox/api/"):
		return maxSandboxAPIBody
	}
	return maxFormBody
}

// isMultipart tells whether a request claims a multipart body (any multipart type: the server
// must not parse one anywhere but on an upload route).
func isMultipart(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil {
		return strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get(echo.HeaderContentType))), "multipart/")
	}
	return strings.HasPrefix(mt, "multipart/")
}

// limitedBody is a request body behind http.MaxBytesReader whose limit an upload route may
// still raise as long as nothing has been read.
type limitedBody struct {
	w     http.ResponseWriter
	body  io.ReadCloser
	limit int64
	r     io.ReadCloser // the MaxBytesReader, made at the first read
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.r == nil {
		b.r = http.MaxBytesReader(b.w, b.body, b.limit)
	}
	return b.r.Read(p)
}

func (b *limitedBody) Close() error { return b.body.Close() }

// raise sets a new limit; it fails once reading has begun.
func (b *limitedBody) raise(limit int64) bool {
	if b.r != nil {
		return false
	}
	b.limit = limit
	return true
}

// limitBody runs before everything that could read a body (sessions, CSRF, routes): multipart
// is refused unread (415) except on upload routes, a declared length over the limit is refused
// unread (413), and any other body is read through http.MaxBytesReader at the path's limit.
func (h *Handler) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		multipart := isMultipart(r)
		if multipart && !h.uploads[r.Method+" "+c.Path()] {
			return errUnsupportedMedia
		}
		if r.Body == nil || r.Body == http.NoBody {
			return next(c)
		}
		limit := bodyLimitFor(r.URL.Path)
		if !multipart && r.ContentLength > limit {
			return errBodyTooLarge
		}
		r.Body = &limitedBody{w: c.Response().Writer, body: r.Body, limit: limit}
		return next(c)
	}
}

// bodyError maps a failure to read or parse a body: over the limit is 413, anything else 400.
func bodyError(err error) error {
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		return errBodyTooLarge.Wrap(err)
	}
	return errBadBody.Wrap(err)
}

// upload declares an upload route in the route table, e.g.
//
//	campaigns.POST("/:id/image", h.campaignImage, upload(maxImageBody))
//
// Only such routes accept multipart/form-data, read up to limit bytes (the global limit still
// applies to any other body sent to them). The form is parsed here, after the limit is set and
// after the user and role checks before it in the table, keeping uploadMemory in memory and the
// rest in temporary files. CSRF on a multipart body: the X-CSRF-Token header when sent (htmx
// sends it), otherwise the form's _csrf field, checked here before the handler runs; origins
// are checked by the CSRF middleware as for any POST. The handler reads the parsed form
// (c.FormFile, c.Request().MultipartForm).
func upload(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if next == nil {
			return nil // answers the route table's probe: see noteUploadRoute
		}
		return func(c echo.Context) error {
			r := c.Request()
			if !isMultipart(r) {
				return next(c)
			}
			if b, ok := r.Body.(*limitedBody); ok {
				if !b.raise(limit) {
					return errors.New("upload route: the body was read before its limit was set")
				}
			} else if r.Body != nil && r.Body != http.NoBody {
				return errors.New("upload route: the body is not behind limitBody")
			}
			if r.ContentLength > limit {
				return errBodyTooLarge
			}
			if err := r.ParseMultipartForm(uploadMemory); err != nil {
				return bodyError(err)
			}
			rq := req(c)
			if rq.csrfPending {
				sent := ""
				if v := r.MultipartForm.Value["_csrf"]; len(v) == 1 {
					sent = v[0]
				}
				if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(rq.CSRF)) != 1 {
					return apperr.Forbidden("error.csrf")
				}
				rq.csrfPending = false
			}
			return next(c)
		}
	}
}

// noteUploadRoute is Echo's route hook: it records the routes that carry upload, so limitBody
// knows, before anything reads a body, where multipart may be accepted. A route middleware
// given no next is asked to build nothing; only upload answers that with nil.
func (h *Handler) noteUploadRoute(_ string, route echo.Route, _ echo.HandlerFunc, mws []echo.MiddlewareFunc) {
	for _, m := range mws {
		if m(nil) == nil {
			h.uploads[route.Method+" "+route.Path] = true
		}
	}
}
