package handlers

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
)

var mediaName = regexp.MustCompile(`^([0-9a-f]{64})\.(jpg|png)$`)

// mediaServe answers GET /media/{hash}.{ext} from the database. The name is the SHA-256 of the
// bytes, so the answer never changes: an ETag and a year of immutable caching, no session.
func (h *Handler) mediaServe(c echo.Context) error {
	m := mediaName.FindStringSubmatch(c.Param("file"))
	if m == nil {
		return apperr.ErrNotFound
	}
	etag := `"` + m[1] + `"`
	hdr := c.Response().Header()
	if match := c.Request().Header.Get("If-None-Match"); match != "" && (match == etag || strings.Contains(match, etag) || match == "*") {
		hdr.Set("ETag", etag)
		hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
		return c.NoContent(http.StatusNotModified)
	}
	b, err := h.campaigns.PublicImage(c.Request().Context(), m[1])
	if err != nil {
		return err
	}
	if b.Ext() != m[2] {
		return apperr.ErrNotFound
	}
	hdr.Set("ETag", etag)
	hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	return c.Blob(http.StatusOK, b.Mime, b.Data)
}
