package handlers

import (
	"net/http"
	"regexp"

	"github.com/labstack/echo/v4"

	liffview "github.com/omnilink/omnilink/views/liff"
)

// LINE's hosts the LIFF SDK loads from and calls.
const (
	liffScriptHosts  = "https://static.line-scdn.net"
	liffConnectHosts = "https://api.line.me https://liff.line.me https://access.line.me https://liffsdk.line-scdn.net"
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
	if lang := liffLanguage(c.QueryParam("lang")); lang != "" {
		req(c).Loc = h.i18n.For(lang)
	}
	hd := c.Response().Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "same-origin")
	// The official SDK talks to LINE from the page (and may be loaded from LINE's CDN); the
	// policy stays nonce-based and names only LINE's hosts besides our own.
	hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'nonce-"+req(c).Nonce+"' "+liffScriptHosts+
		"; style-src 'self'; img-src 'self' data: https:; connect-src 'self' "+liffConnectHosts+
		"; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'")
	return render(c, http.StatusOK, liffview.Page(h.barePage(c, "liff.title"), liffview.NewVM(id, h.cfg.LiffSDKURL)))
}
