package app

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/omnilink/omnilink/handlers"
	"github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/mail/capture"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/sandbox"
	sbui "github.com/omnilink/omnilink/internal/sandbox/ui"
	"github.com/omnilink/omnilink/internal/store"
)

// worldState keeps the emulator's world in the database, so tokens broken in the control
// panel stay broken and conversations survive a restart.
type worldState struct{ st *store.Store }

func (w worldState) Load(ctx context.Context) ([]byte, error) { return w.st.SandboxState(ctx) }
func (w worldState) Save(ctx context.Context, state []byte) error {
	return w.st.SaveSandboxState(ctx, state)
}

// sandboxParts is the provider emulator with its mailbox and screens; all nil in live mode.
type sandboxParts struct {
	world   *sandbox.World
	mailbox *capture.Server
	screens handlers.Sandbox
}

// buildSandbox starts the emulator when OMNILINK_PROVIDERS=sandbox, and the SMTP catcher when
// no SMTP_URL is configured, so a newcomer's mail lands in /sandbox/mailbox.
func buildSandbox(cfg config.Config, st *store.Store, log *slog.Logger, now func() time.Time) (sandboxParts, error) {
	var p sandboxParts
	if !cfg.Sandbox() {
		return p, nil
	}
	w, err := sandbox.New(sandbox.Options{AppID: cfg.MetaAppID, AppSecret: cfg.MetaAppSecret, Persist: worldState{st}, Clock: now, Logger: log})
	if err != nil {
		return p, err
	}
	p.world = w
	if cfg.SMTPURL == "" {
		if p.mailbox, err = capture.Start("127.0.0.1:0"); err != nil {
			return p, err
		}
	}
	p.screens = sbui.New(sbui.Deps{World: w, Channels: st, Teams: st, Mailbox: p.mailbox, BaseURL: cfg.BaseURL})
	return p, nil
}

// smtpURL is where the mailer sends: the configured server, else the sandbox's catcher, else
// nowhere (mail.New then logs messages instead).
func (p sandboxParts) smtpURL(configured string) string {
	if configured == "" && p.mailbox != nil {
		return p.mailbox.URL()
	}
	return configured
}

// InProcessChannels is a channels service whose platform calls reach the sandbox in process,
// for seeding the demo team before the HTTP server listens; it is nil outside sandbox mode.
// Connecting goes through the same service code as the console; only the transport differs.
func (a *App) InProcessChannels() *channels.Service {
	if a.Sandbox == nil {
		return nil
	}
	cfg := a.Config
	client := &http.Client{Transport: a.Sandbox.InProcessTransport(sbui.APIMount), Timeout: 30 * time.Second}
	metaClient := meta.New(meta.Config{AppID: cfg.MetaAppID, AppSecret: cfg.MetaAppSecret, GraphURL: cfg.MetaGraphURL,
		DialogURL: cfg.MetaDialogURL, GraphVersion: cfg.MetaGraphVersion, HTTPClient: client})
	lineClient := line.New(line.Config{APIURL: cfg.LineAPIURL, HTTPClient: client})
	return channels.New(channels.Deps{Store: a.Store, Box: a.Box, Meta: metaClient, Line: lineClient,
		OAuth: channels.OAuthConfig{RedirectURI: cfg.BaseURL + "/oauth/meta/callback", ConfigID: cfg.MetaLoginConfigID}})
}

// close releases the SMTP catcher when Build fails after starting it.
func (p sandboxParts) close() {
	if p.mailbox != nil {
		_ = p.mailbox.Close()
	}
}
