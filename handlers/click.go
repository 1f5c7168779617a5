package handlers

import (
	"context"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	qrcode "github.com/skip2/go-qrcode"
	"golang.org/x/time/rate"

	"github.com/omnilink/omnilink/internal/messaging"
	"github.com/omnilink/omnilink/internal/omnilink"
	"github.com/omnilink/omnilink/models"
	clickview "github.com/omnilink/omnilink/views/click"
)

// LinkRuntime is OmniLink on the customer's side and the console's "send the card".
type LinkRuntime interface {
	ClickLink(ctx context.Context, raw, userAgent string) (omnilink.Click, error)
	LinkLIFF(ctx context.Context, in omnilink.LIFFSubmission) (omnilink.LinkResult, error)
	SourceContacts(ctx context.Context, teamID, campaignID int64) ([]omnilink.ContactChoice, error)
	SendCard(ctx context.Context, actor *models.User, campaignID, contactID int64) (messaging.Result, error)
}

// perAddressLimit caps requests per client address on the public link routes.
func perAddressLimit(perMinute int) echo.MiddlewareFunc {
	if perMinute <= 0 {
		perMinute = 120
	}
	store := middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate: rate.Limit(float64(perMinute) / 60), Burst: max(perMinute/4, 10), ExpiresIn: 3 * time.Minute})
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store:               store,
		IdentifierExtractor: func(c echo.Context) (string, error) { return c.RealIP(), nil },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			return c.JSON(http.StatusTooManyRequests, map[string]string{"status": "error", "message": req(c).Loc.T("error.too_many_attempts")})
		},
	})
}

// linkClick is the card's button: record the click, then LIFF, wa.me or an explanation page.
func (h *Handler) linkClick(c echo.Context) error {
	ck, err := h.links.ClickLink(c.Request().Context(), c.Param("token"), c.Request().UserAgent())
	if err != nil {
		return err
	}
	hd := c.Response().Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "same-origin")
	if ck.Kind == omnilink.ClickRedirect {
		return c.Redirect(http.StatusFound, ck.NextURL)
	}
	vm := clickview.VM{Kind: string(ck.Kind), Target: clickview.Target(string(ck.Target)), NextURL: ck.NextURL, LinkURL: ck.LinkURL,
		IntentURL: ck.IntentURL, IsWA: ck.Target == models.WhatsApp}
	if ck.Kind == omnilink.ClickDesktop && h.cfg.Sandbox() {
		vm.SandboxNext = ck.NextURL
	}
	if ck.Kind == omnilink.ClickDesktop || ck.Kind == omnilink.ClickFBAndroid {
		if png, err := qrcode.Encode(ck.LinkURL, qrcode.Medium, 256); err == nil {
			vm.QRDataURI = "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
		}
	}
	status := http.StatusOK
	switch ck.Kind {
	case omnilink.ClickNotExist:
		status = http.StatusNotFound
	case omnilink.ClickExpired:
		status = http.StatusGone
	}
	return render(c, status, clickview.Page(h.barePage(c, "click.title"), vm))
}

func clickNotExist(h *Handler, c echo.Context) templ.Component {
	return clickview.Page(h.barePage(c, "click.title"), clickview.VM{Kind: string(omnilink.ClickNotExist)})
}
