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
)

// machinePrefixes are routes called by platforms or scripts, not by a signed-in browser:
// they carry their own authentication (signatures, tokens) instead of cookies and CSRF.
var machinePrefixes = []string{"/webhooks/", "/liff/api/", "/sandbox/api/", "/healthz", "/readyz", "/metrics", "/static/", "/media/"}

// sessionlessPrefixes are public pages that need no session and post no forms: a card's link
// (/l/) is a redirect, or a page of plain links, for customers who never sign in. Reading a
// session and minting a CSRF cookie there would only cost every tap time.
var sessionlessPrefixes = []string{"/l/"}

// isSessionless reports whether p needs neither the session nor a CSRF token.
func isSessionless(p string) bool {
	if isMachinePath(p) {
		return true
	}
	for _, m := range sessionlessPrefixes {
		if strings.HasPrefix(p, m) {
			return true
		}
	}
	return false
}

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
		if isSessionless(c.Request().URL.Path) {
			return next(c)
		}
		// Console pages carry personal data and CSRF tokens: no browser or proxy may keep a copy
		// (the back button after logout must not show them either).
		c.Response().Header().Set("Cache-Control", "no-store")
		r := req(c)
		sess, err := h.sessions.Get(c.Request(), sessionName)
		if err != nil {
			return err
		}
		r.Session = sess
		if uid, ok := sess.Values[websession.KeyUserID].(int64); ok {
			ctx := c.Request().Context()
			u, err := h.dir.UserByIDSystem(ctx, uid)
			if err != nil || u.Disabled() {
				sess.Options.MaxAge = -1
				if err := sess.Save(c.Request(), c.Response()); err != nil {
					return err
				}
				r.Session, _ = h.sessions.New(c.Request(), sessionName)
			} else {
				team, err := h.dir.TeamSystem(ctx, u.TeamID)
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

// csrf guards every state-changing console request.
//
// The token is an HMAC of a value no other site can set or read: the session's own id once
// signed in, otherwise a random pre-session cookie (anonymous forms such as login still need a
// token) that is replaced at login and at logout. A cookie planted from a sibling host can
// therefore only ever match an anonymous form, never a signed-in session, and a token seen
// before login is worthless after it.
//
// The request's origin must be ours exactly (scheme, host and port: the configured base URL or
// the origin the request was sent to); "null" is refused. When a browser leaves Origin out,
// the Referer's origin is compared instead; when both are absent (old browsers, privacy tools)
// the token alone decides, since pages send Referrer-Policy strict-origin-when-cross-origin.
// The token is taken from the X-CSRF-Token header or the posted form body, never the query
// string. A multipart body (upload routes only) is not parsed here: upload checks its _csrf
// field once the route's limit is set.
func (h *Handler) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if isSessionless(c.Request().URL.Path) {
			return next(c)
		}
		r := req(c)
		r.CSRF = h.csrfToken(h.csrfBinding(c))
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if !h.sameOriginRequest(c) {
			return apperr.Forbidden("error.csrf")
		}
		sent := c.Request().Header.Get("X-CSRF-Token")
		if sent == "" && isMultipart(c.Request()) && h.uploads[c.Request().Method+" "+c.Path()] {
			// The token is inside a body only the upload route may read, under its own limit.
			r.csrfPending = true
			return next(c)
		}
		if sent == "" {
			if err := c.Request().ParseForm(); err != nil {
				return bodyError(err)
			}
			sent = c.Request().PostForm.Get("_csrf")
		}
		if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(r.CSRF)) != 1 {
			return apperr.Forbidden("error.csrf")
		}
		return next(c)
	}
}

// csrfBinding is what this request's token is derived from: the session when signed in, the
// pre-session cookie otherwise (set now when missing).
func (h *Handler) csrfBinding(c echo.Context) string {
	r := req(c)
	if r.User != nil && r.Session != nil && r.Session.ID != "" {
		return "session:" + r.Session.ID
	}
	if ck, err := c.Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 {
		return "anonymous:" + ck.Value
	}
	return "anonymous:" + h.rotatePreSession(c)
}

// rotatePreSession gives the browser a new pre-session value (at first visit, login and logout).
func (h *Handler) rotatePreSession(c echo.Context) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	c.SetCookie(&http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true, Secure: h.cfg.SecureCookies(), SameSite: http.SameSiteLaxMode})
	return v
}

func (h *Handler) csrfToken(binding string) string {
	m := hmac.New(sha256.New, h.csrfKey)
	m.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// origin is a URL origin compared as browsers do: scheme, host and port (defaults filled in).
type origin struct{ scheme, host, port string }

func parseOrigin(s string, pathAllowed bool) (origin, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return origin{}, false
	}
	if !pathAllowed && (u.Path != "" || u.RawQuery != "" || u.Fragment != "") {
		return origin{}, false
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return origin{scheme: u.Scheme, host: strings.ToLower(u.Hostname()), port: port}, true
}

// sameOriginRequest tells whether a POST comes from one of our own pages (see csrf).
func (h *Handler) sameOriginRequest(c echo.Context) bool {
	hdr := c.Request().Header
	from, ok := origin{}, false
	switch o, ref := hdr.Get("Origin"), hdr.Get("Referer"); {
	case o != "":
		from, ok = parseOrigin(o, false) // "null" fails here too
	case ref != "":
		from, ok = parseOrigin(ref, true)
	default:
		return true
	}
	if !ok {
		return false
	}
	if base, ok := parseOrigin(h.cfg.BaseURL, true); ok && from == base {
		return true
	}
	scheme := "http"
	if c.Request().TLS != nil || (h.cfg.TrustProxy && strings.EqualFold(hdr.Get("X-Forwarded-Proto"), "https")) {
		scheme = "https"
	}
	self, ok := parseOrigin(scheme+"://"+c.Request().Host, false)
	return ok && from == self
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

func isHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

// safeNext keeps redirects on our own site. It first reads next as a browser's URL parser would
// (leading and trailing C0 controls and spaces stripped, tabs and newlines removed anywhere),
// then accepts only a path on this origin: one leading slash, no scheme, no authority, no
// backslash anywhere (browsers read it as a slash), no other control character, and no slash or
// backslash percent-encoded (even behind an encoded tab or newline) right after the first one,
// which a proxy or a later decode would turn into "//". Anything else becomes "/". The cleaned value is returned, never the raw input.
func safeNext(next string) string {
	next = strings.TrimFunc(next, func(r rune) bool { return r <= 0x20 })
	dropTabs := strings.NewReplacer("\t", "", "\n", "", "\r", "")
	next = dropTabs.Replace(next)
	if next == "" || next[0] != '/' || strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	if p := dropTabs.Replace(u.Path); strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.HasPrefix(next, "//") {
		return "/"
	}
	return next
}
