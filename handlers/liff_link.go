package handlers

import (
	"net/http"
	"regexp"

	"github.com/labstack/echo/v4"

	liffview "github.com/omnilink/omnilink/views/liff"
)

// liffIDPattern is the shape of a LIFF app id ("{channel id}-{suffix}").
var liffIDPattern = regexp.MustCompile(`^[0-9]{1,20}-[A-Za-z0-9]{1,32}$`)

// liffLink is the LIFF endpoint URL registered in LINE's console as {BASE_URL}/liff/link/{LIFF ID}.
// It runs liff.init on every load; the link token is read by the page only after init.
func (h *Handler) liffLink(c echo.Context) error {
	id := c.Param("liffID")
	if id == "" {
		id = c.QueryParam("liff_id")
	}
	if !liffIDPattern.MatchString(id) {
		return render(c, http.StatusNotFound, clickNotExist(h, c))
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	return render(c, http.StatusOK, liffview.Page(h.barePage(c, "liff.title"), liffview.VM{LiffID: id, SDKURL: h.cfg.LiffSDKURL}))
}
