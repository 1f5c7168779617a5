package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/internal/websession"
	"github.com/omnilink/omnilink/models"
)

const (
	sessionName = "omnilink_session"
	csrfCookie  = "omnilink_csrf"
	langCookie  = "omnilink_lang"
	maxFormBody = "1M"
)

// machinePrefixes are routes called by platforms or scripts, not by a signed-in browser:
// they carry their own authentication (signatures, tokens) instead of cookies and CSRF.
var machinePrefixes = []string{"/webhooks/", "/liff/api/", "/sandbox/api/", "/healthz", "/readyz", "/metrics", "/static/", "/media/"}

func isMachinePath(p string) bool {
	for _, m := range machinePrefixes {
		if strings.HasPrefix(p, m) {
			return true
		}
	}
	return false
}

// secureHeaders sets a CSP with a fresh nonce and the other browser protections.
func secureHeaders(secure bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			b := make([]byte, 16)
			_, _ = rand.Read(b)
			nonce := base64.RawStdEncoding.EncodeToString(b)
			req(c).Nonce = nonce
			h := c.Response().Header()
			h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'nonce-"+nonce+"'; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Cross-Origin-Opener-Policy", "same-origin-allow-popups")
			if secure {
				h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
			}
			return next(c)
		}
	}
}

// requestLogger writes one JSON line per request with its id, route, status and duration.
func requestLogger(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			status := c.Response().Status
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			attrs := []any{
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID),
				"method", c.Request().Method,
				"route", c.Path(),
				"path", c.Request().URL.Path,
				"status", status,
				"duration_ms", time.Since(start).Milliseconds(),
				"ip", c.RealIP(),
			}
			if u := req(c).User; u != nil {
				attrs = append(attrs, "user_id", u.ID, "team_id", u.TeamID)
			}
			if err != nil {
				attrs = append(attrs, "error", err.Error())
			}
			log.Log(c.Request().Context(), level, "request", attrs...)
			return nil
		}
	}
}

// Metrics are the HTTP request counters and latency histograms by route.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers the HTTP metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "omnilink_http_requests_total", Help: "HTTP requests by route, method and status."}, []string{"route", "method", "status"}),
		latency:  prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "omnilink_http_request_duration_seconds", Help: "HTTP request latency by route.", Buckets: prometheus.DefBuckets}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

func (m *Metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, c.Request().Method, strconv.Itoa(c.Response().Status)).Inc()
		m.latency.WithLabelValues(route, c.Request().Method).Observe(time.Since(start).Seconds())
		return err
	}
}

// sessionAndUser loads the session and its user; a missing or disabled user ends the session.
func (h *Handler) sessionAndUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if isMachinePath(c.Request().URL.Path) {
			return next(c)
		}
		r := req(c)
		sess, err := h.sessions.Get(c.Request(), sessionName)
		if err != nil {
			return err
		}
		r.Session = sess
		if uid, ok := sess.Values[websession.KeyUserID].(int64); ok {
			ctx := c.Request().Context()
			u, err := h.dir.UserByID(ctx, uid)
			if err != nil || u.Disabled() {
				sess.Options.MaxAge = -1
				if err := sess.Save(c.Request(), c.Response()); err != nil {
					return err
				}
				r.Session, _ = h.sessions.New(c.Request(), sessionName)
			} else {
				team, err := h.dir.Team(ctx, u.TeamID)
				if err != nil {
					return err
				}
				r.User, r.Team = u, team
			}
		}
		return next(c)
	}
}

// locale picks the page language: the user's choice, then the language cookie, then the browser's.
func (h *Handler) locale(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := req(c)
		lang := ""
		if r.User != nil {
			lang = r.User.EffectiveLocale(r.Team)
		} else if ck, err := c.Cookie(langCookie); err == nil && i18n.Supported(ck.Value) {
			lang = ck.Value
		} else {
			lang = i18n.Match(c.Request().Header.Get("Accept-Language"))
		}
		r.Loc = h.i18n.For(lang)
		return next(c)
	}
}

// csrf is a signed double-submit check: the cookie holds a random value, forms carry its HMAC,
// so a cookie planted by another site cannot be paired with a token. Cross-origin requests that
// announce their Origin are refused outright.
func (h *Handler) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if isMachinePath(c.Request().URL.Path) {
			return next(c)
		}
		r := req(c)
		seed := ""
		if ck, err := c.Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 {
			seed = ck.Value
		} else {
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			seed = base64.RawURLEncoding.EncodeToString(b)
			c.SetCookie(&http.Cookie{Name: csrfCookie, Value: seed, Path: "/", HttpOnly: true, Secure: h.cfg.SecureCookies(), SameSite: http.SameSiteLaxMode})
		}
		r.CSRF = h.csrfToken(seed)
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if o := c.Request().Header.Get("Origin"); o != "" && o != "null" && !h.sameOrigin(o, c) {
			return apperr.Forbidden("error.csrf")
		}
		sent := c.Request().Header.Get("X-CSRF-Token")
		if sent == "" {
			sent = c.FormValue("_csrf")
		}
		if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(r.CSRF)) != 1 {
			return apperr.Forbidden("error.csrf")
		}
		return next(c)
	}
}

func (h *Handler) csrfToken(seed string) string {
	m := hmac.New(sha256.New, h.csrfKey)
	m.Write([]byte(seed))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (h *Handler) sameOrigin(origin string, c echo.Context) bool {
	if strings.EqualFold(origin, h.cfg.BaseURL) {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, c.Request().Host)
}

// requireUser sends anonymous visitors to the login page.
func requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if req(c).User == nil {
			target := "/login"
			if p := c.Request().URL.RequestURI(); p != "/" && c.Request().Method == http.MethodGet {
				target += "?next=" + url.QueryEscape(p)
			}
			if isHTMX(c) {
				c.Response().Header().Set("HX-Redirect", target)
				return c.NoContent(http.StatusUnauthorized)
			}
			return c.Redirect(http.StatusSeeOther, target)
		}
		return next(c)
	}
}

// requireCap answers 403 unless the user's role holds capability cap (the one permission table).
func requireCap(cap models.Capability) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !req(c).User.Role.Can(cap) {
				return apperr.ErrForbidden
			}
			return next(c)
		}
	}
}

func bodyLimit() echo.MiddlewareFunc { return middleware.BodyLimit(maxFormBody) }

func isHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

// safeNext keeps redirects on our own site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}
