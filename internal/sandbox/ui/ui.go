// Package ui is the page logic of the sandbox's own screens: the fake Facebook Login dialog,
// the control panel, the customer simulator and the mailbox. It turns the emulator's state into
// the view-models of views/sandbox, so the HTTP handlers only adapt requests.
package ui

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/mail/capture"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/models"
)

// APIMount is where the emulator's platform APIs are served; the configuration derives
// META_GRAPH_URL and LINE_API_URL from it in sandbox mode.
const APIMount = "/sandbox/api"

// Channels reads a team's connected channels, to find the accounts the simulator writes to.
type Channels interface {
	TeamChannels(ctx context.Context, teamID int64) ([]models.Channel, error)
	Channel(ctx context.Context, teamID, id int64) (*models.Channel, error)
}

// Deps are what the sandbox screens are built from.
type Deps struct {
	World    *sandbox.World
	Channels Channels
	// Mailbox is the in-process SMTP catcher; nil when SMTP_URL sends mail elsewhere.
	Mailbox *capture.Server
	// BaseURL is omnilink's public origin: the dialog only redirects there, and the simulator
	// delivers webhooks to it.
	BaseURL string
	// HTTP delivers simulated webhooks; the default has a 15 s timeout.
	HTTP *http.Client
	// Location is the time zone times are shown in (default: local).
	Location *time.Location
}

// Service serves the sandbox screens.
type Service struct {
	w       *sandbox.World
	chans   Channels
	mailbox *capture.Server
	base    string
	http    *http.Client
	loc     *time.Location
	api     http.Handler
}

// New builds the service.
func New(d Deps) *Service {
	if d.HTTP == nil {
		d.HTTP = &http.Client{Timeout: 15 * time.Second}
	}
	if d.Location == nil {
		d.Location = time.Local
	}
	return &Service{w: d.World, chans: d.Channels, mailbox: d.Mailbox, base: strings.TrimRight(d.BaseURL, "/"), http: d.HTTP, loc: d.Location,
		api: http.StripPrefix(APIMount, d.World.APIHandler())}
}

// API serves the platform APIs at their full path under APIMount.
func (s *Service) API() http.Handler { return s.api }

// failed turns an emulator refusal into a message the page can show; the emulator's own text
// names the problem precisely, so it is passed along.
func failed(status int, key string, err error) error {
	return &apperr.Error{Status: status, Key: key, Args: map[string]any{"Detail": err.Error()}, Err: err}
}

func (s *Service) format(t time.Time) string { return t.In(s.loc).Format("2006-01-02 15:04:05") }
