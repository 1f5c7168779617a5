// Package ui is the page logic of the sandbox's own screens: the fake Facebook Login dialog,
// the control panel, the customer simulator and the mailbox. It turns the emulator's state into
// the view-models of views/sandbox, so the HTTP handlers only adapt requests.
package ui

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/omnilink/omnilink/internal/mail/capture"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/models"
)

// APIMount is where the emulator's platform APIs are served; the configuration derives
// META_GRAPH_URL and LINE_API_URL from it in sandbox mode.
const APIMount = "/sandbox/api"

// Channels reads connected channels: a team's, to find the accounts the simulator writes to
// and the panel may damage, and any team's live one for an account, so the panel never shows
// credentials another team connected.
type Channels interface {
	TeamChannels(ctx context.Context, teamID int64) ([]models.Channel, error)
	Channel(ctx context.Context, teamID, id int64) (*models.Channel, error)
	LiveChannelByAccountSystem(ctx context.Context, p models.Platform, externalID string) (*models.Channel, error)
}

// Teams reads a team and its people, to show a team only the mail sent to it, in its time zone.
type Teams interface {
	TeamSystem(ctx context.Context, id int64) (*models.Team, error)
	TeamUsers(ctx context.Context, teamID int64) ([]models.User, error)
}

// Deps are what the sandbox screens are built from.
type Deps struct {
	World    *sandbox.World
	Channels Channels
	Teams    Teams
	// Mailbox is the in-process SMTP catcher; nil when SMTP_URL sends mail elsewhere.
	Mailbox *capture.Server
	// BaseURL is omnilink's public origin: the dialog only redirects there, and the simulator
	// delivers webhooks to it.
	BaseURL string
	// HTTP delivers simulated webhooks; the default has a 15 s timeout.
	HTTP *http.Client
}

// Service serves the sandbox screens.
type Service struct {
	w       *sandbox.World
	chans   Channels
	teams   Teams
	mailbox *capture.Server
	base    string
	http    *http.Client
	api     http.Handler
}

// New builds the service.
func New(d Deps) *Service {
	if d.HTTP == nil {
		d.HTTP = &http.Client{Timeout: 15 * time.Second}
	}
	return &Service{w: d.World, chans: d.Channels, teams: d.Teams, mailbox: d.Mailbox, base: strings.TrimRight(d.BaseURL, "/"), http: d.HTTP,
		api: http.StripPrefix(APIMount, d.World.APIHandler())}
}

// API serves the platform APIs at their full path under APIMount.
func (s *Service) API() http.Handler { return s.api }

// zone is the team's time zone, the one its sandbox screens show times in.
func (s *Service) zone(ctx context.Context, teamID int64) models.TimeZone {
	if s.teams == nil {
		return models.DefaultTimeZone
	}
	t, err := s.teams.TeamSystem(ctx, teamID)
	if err != nil {
		return models.DefaultTimeZone
	}
	return t.TimeZone
}
