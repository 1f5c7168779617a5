// Package handlers is the HTTP layer: Echo routes, middleware, and handlers that turn requests
// into service calls and service results into templ views.
package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/internal/websession"
	"github.com/omnilink/omnilink/models"
)

// Directory loads the signed-in user and their team for every request.
type Directory interface {
	UserByIDSystem(ctx context.Context, id int64) (*models.User, error)
	TeamSystem(ctx context.Context, id int64) (*models.Team, error)
}

// Accounts is the login and user-management service the console needs.
type Accounts interface {
	Login(ctx context.Context, email, password, ip string) (*models.User, error)
	ChangeRole(ctx context.Context, actor *models.User, userID int64, role models.Role) (*models.User, error)
	SetDisabled(ctx context.Context, actor *models.User, userID int64, disabled bool) (*models.User, error)
	SetLocale(ctx context.Context, userID int64, locale string) error
}

// TeamUsers lists a team's users for the users page.
type TeamUsers interface {
	TeamUsers(ctx context.Context, teamID int64) ([]models.User, error)
}

// Pinger tells whether the database answers, for /readyz.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps are the services the HTTP layer is built from.
type Deps struct {
	Config    config.Config
	Log       *slog.Logger
	I18n      *i18n.Bundle
	Sessions  *websession.Store
	CSRFKey   []byte
	Directory Directory
	Accounts  Accounts
	Members   Members // invitations, password links, names, alert recipients
	Users     TeamUsers
	DB        Pinger
	Registry  *prometheus.Registry
	Channels  Channels
	Webhooks  WebhookReceiver
	Broken    BrokenChannels  // banner on every console page
	Health    HealthReports   // channel health panels
	Campaigns CampaignSetup   // OmniLink campaign setup
	Modules   BotModules      // bot modules
	Triggers  BotTriggers     // keyword and postback triggers
	Tags      TagService      // tags, tag rules and journeys
	Links     LinkRuntime     // OmniLink for customers: clicks, LIFF, cards
	Stats     CampaignStats   // OmniLink campaign statistics
	Customers CustomerService // customers: list, profile, replies, merges
	TeamHooks TeamHooks       // the team's outbound webhook
	Sandbox   Sandbox         // nil unless OMNILINK_PROVIDERS=sandbox
	Teams     TeamSettings

	// Now is the clock pages compare against (tests move it); nil means time.Now.
	Now func() time.Time
}

// Handler holds the dependencies shared by all handlers.
type Handler struct {
	cfg       config.Config
	log       *slog.Logger
	i18n      *i18n.Bundle
	sessions  *websession.Store
	csrfKey   []byte
	dir       Directory
	accounts  Accounts
	members   Members
	users     TeamUsers
	db        Pinger
	registry  *prometheus.Registry
	channels  Channels
	webhooks  WebhookReceiver
	broken    BrokenChannels
	health    HealthReports
	sandbox   Sandbox
	teams     TeamSettings
	now       func() time.Time
	campaigns CampaignSetup
	uploads   map[string]bool // "METHOD /route/path" of upload routes, filled as routes are added
	modules   BotModules
	triggers  BotTriggers
	tags      TagService
	links     LinkRuntime
	linkRate  echo.MiddlewareFunc
	stats     CampaignStats
	customers CustomerService
	teamHooks TeamHooks
}

// New builds the Echo server with the middleware chain and every route.
func New(d Deps) *echo.Echo {
	h := &Handler{
		cfg: d.Config, log: d.Log, i18n: d.I18n, sessions: d.Sessions, csrfKey: d.CSRFKey,
		dir: d.Directory, accounts: d.Accounts, members: d.Members, users: d.Users, db: d.DB, registry: d.Registry, channels: d.Channels,
		webhooks: d.Webhooks, broken: d.Broken, health: d.Health, sandbox: d.Sandbox, teams: d.Teams, campaigns: d.Campaigns, modules: d.Modules, triggers: d.Triggers, tags: d.Tags, links: d.Links, stats: d.Stats, customers: d.Customers, teamHooks: d.TeamHooks, now: d.Now, uploads: map[string]bool{},
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.linkRate = perAddressLimit(d.Config.LinkRatePerMinute)
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = h.handleError
	e.OnAddRouteHandler = h.noteUploadRoute
	if d.Config.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	} else {
		e.IPExtractor = echo.ExtractIPDirect()
	}
	metrics := NewMetrics(d.Registry)
	// Order: recover, secure headers, request id, logging, metrics, the body limit (before
	// anything can read a body), then session, user, locale, CSRF. Echo runs these after routing,
	// so the route (and whether it is an upload route) is known to each of them.
	e.Use(middleware.Recover())
	e.Use(secureHeaders(d.Config.SecureCookies()))
	e.Use(middleware.RequestID())
	e.Use(requestLogger(d.Log))
	e.Use(metrics.middleware)
	e.Use(h.limitBody)
	e.Use(h.sessionAndUser)
	e.Use(h.locale)
	e.Use(h.csrf)
	h.routes(e)
	return e
}
