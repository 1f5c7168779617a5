// Package app wires configuration, database, services and the HTTP server together; main and
// the test harness both build the server through it, so tests run the real wiring.
package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/omnilink/omnilink/handlers"
	"github.com/omnilink/omnilink/internal/accounts"
	"github.com/omnilink/omnilink/internal/automation"
	"github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/crypto"
	"github.com/omnilink/omnilink/internal/health"
	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/internal/identity"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/mail"
	"github.com/omnilink/omnilink/internal/mail/capture"
	"github.com/omnilink/omnilink/internal/messaging"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/omnilink"
	"github.com/omnilink/omnilink/internal/outbox"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/teamhook"
	"github.com/omnilink/omnilink/internal/webhooks"
	"github.com/omnilink/omnilink/internal/websession"
	emailviews "github.com/omnilink/omnilink/views/email"
)

// Options adjusts the wiring for tests.
type Options struct {
	BcryptCost int
	Now        func() time.Time
	HTTPClient *http.Client // for platform calls; default has a 30 s timeout
}

// App is the built server with its services.
type App struct {
	Config   config.Config
	Store    *store.Store
	Echo     *echo.Echo
	Accounts *accounts.Service
	I18n     *i18n.Bundle
	Log      *slog.Logger
	Box      *crypto.Box
	Meta     *meta.Client
	Line     *line.Client
	Channels *channels.Service
	Registry *prometheus.Registry
	// Campaigns sets OmniLink campaigns up.
	Campaigns *omnilink.Service
	// Modules keeps and sends bot modules; Triggers answer customers with them.
	Modules  *automation.Modules
	Triggers *automation.Triggers
	// Links runs OmniLink for customers: card links, clicks, LIFF and WhatsApp linking.
	Links *omnilink.Runtime
	// Webhooks receives platform webhooks; WebhookProcessor applies what it stored.
	Webhooks         *webhooks.Service
	WebhookProcessor *webhooks.Processor
	// Health checks every channel on a schedule; Outbox delivers what it (and others) queue.
	Health *health.Monitor
	Outbox *outbox.Outbox
	Mailer mail.Mailer
	// Messaging is the one path for messages to contacts; its sends go out through Outbox.
	Messaging *messaging.Service
	// Tags applies tags and runs their effects; Journeys advances journey runs.
	Tags     *automation.Tags
	Journeys *automation.Scheduler
	// TeamHooks posts link, merge and undo events to each team's own endpoint.
	TeamHooks *teamhook.Service
	// Profiles names the contacts webhooks make without a name, from the platforms' profiles.
	Profiles *channels.Profiles
	// Sandbox is the provider emulator and Mailbox its SMTP catcher (when SMTP_URL is empty);
	// both nil in live mode.
	Sandbox *sandbox.World
	Mailbox *capture.Server

	stop    context.CancelFunc // ends what Run started
	workers sync.WaitGroup
	work    *store.Store // the outbox's own connection pool
}

// Build constructs the whole server on an open store.
func Build(cfg config.Config, st *store.Store, log *slog.Logger, opt Options) (*App, error) {
	bundle, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	master := cfg.MasterKey()
	sessionKey := crypto.DeriveKey(master, "omnilink session cookie v1", 32)
	csrfKey := crypto.DeriveKey(master, "omnilink csrf v1", 32)
	box, err := crypto.NewBox(crypto.DeriveKey(master, "omnilink secrets at rest v1", 32))
	if err != nil {
		return nil, err
	}
	acc := accounts.New(st, opt.BcryptCost, opt.Now)
	httpClient := opt.HTTPClient
	if httpClient == nil {
		// The outbox calls each platform host with many requests at once; keeping that many
		// connections idle spares a TLS handshake per send.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = max(cfg.OutboxConcurrency, tr.MaxIdleConnsPerHost)
		tr.MaxIdleConns = max(2*cfg.OutboxConcurrency, tr.MaxIdleConns)
		httpClient = &http.Client{Timeout: 30 * time.Second, Transport: tr}
	}
	metaClient := meta.New(meta.Config{AppID: cfg.MetaAppID, AppSecret: cfg.MetaAppSecret, GraphURL: cfg.MetaGraphURL,
		DialogURL: cfg.MetaDialogURL, GraphVersion: cfg.MetaGraphVersion, HTTPClient: httpClient})
	lineClient := line.New(line.Config{APIURL: cfg.LineAPIURL, HTTPClient: httpClient})
	chans := channels.New(channels.Deps{Store: st, Box: box, Meta: metaClient, Line: lineClient, Now: opt.Now, Log: log,
		OAuth: channels.OAuthConfig{RedirectURI: cfg.BaseURL + "/oauth/meta/callback", ConfigID: cfg.MetaLoginConfigID}})
	sbx, err := buildSandbox(cfg, st, log, opt.Now)
	if err != nil {
		return nil, err
	}
	mailer, err := mail.New(sbx.smtpURL(cfg.SMTPURL), cfg.MailFrom, log)
	if err != nil {
		sbx.close()
		return nil, err
	}
	// The outbox and the sends it delivers use a pool of their own: under a burst of requests
	// they still get connections, and a backlog of deliveries leaves the requests theirs.
	work, err := store.OpenPool(cfg.DatabaseURL, cfg.OutboxDBConns)
	if err != nil {
		sbx.close()
		return nil, err
	}
	deliveries := outbox.New(work, outbox.Options{Now: opt.Now, Log: log, Concurrency: cfg.OutboxConcurrency})
	deliveries.Handle(outbox.KindEmail, outbox.EmailHandler(mailer))
	deliveries.Handle(accounts.KindResetRequest, acc.ResetRequestHandler())
	acc.SetMail(accounts.Mail{Compose: accounts.NewComposer(bundle, emailviews.AccountEmail), BaseURL: cfg.BaseURL, Notify: deliveries.Notify})
	monitor := health.New(health.Deps{Store: st, Credentials: chans, Line: lineClient, Outbox: deliveries, BaseURL: cfg.BaseURL, Log: log, Now: opt.Now,
		MetaConfig: meta.Config{AppID: cfg.MetaAppID, AppSecret: cfg.MetaAppSecret, GraphURL: cfg.MetaGraphURL,
			GraphVersion: cfg.MetaGraphVersion, HTTPClient: httpClient},
		Compose: health.NewComposer(bundle, emailviews.HealthAlert)}, health.Options{Interval: cfg.HealthCheckInterval})
	chans.SetEvents(monitor)
	deliveries.OnSettled(outbox.KindEmail, monitor.AlertSettled)
	sender := messaging.New(messaging.Deps{Store: work, Credentials: chans, Line: lineClient, Health: monitor, Outbox: deliveries, Log: log, Now: opt.Now,
		MetaConfig: meta.Config{AppID: cfg.MetaAppID, AppSecret: cfg.MetaAppSecret, GraphURL: cfg.MetaGraphURL,
			GraphVersion: cfg.MetaGraphVersion, HTTPClient: httpClient}}, messaging.Options{})
	sender.Register(deliveries)
	tags := automation.NewTags(automation.TagsDeps{Store: st, Messaging: sender, Line: lineClient, Credentials: chans,
		Health: monitor, Outbox: deliveries, Log: log, Now: opt.Now})
	tags.Register(deliveries)
	monitor.OnRecovered(tags.ChannelRecovered)
	journeys := tags.Scheduler(automation.SchedulerOptions{})
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	monitor.SetMetrics(health.NewMetrics(reg))
	hookMetrics := webhooks.NewMetrics(reg)
	hooks := webhooks.New(webhooks.Deps{Store: st, Credentials: chans, AppSecret: cfg.MetaAppSecret,
		VerifyToken: cfg.MetaWebhookVerifyToken, Metrics: hookMetrics, Log: log})
	// The team's outbound webhook hears of links, merges and undos in their own transactions.
	hooksOut := teamhook.New(st, box, deliveries, teamhook.Options{AllowPrivate: cfg.Providers == config.ProvidersSandbox, Now: opt.Now})
	hooksOut.Register(deliveries)
	links := omnilink.NewRuntime(omnilink.RuntimeDeps{Store: st, Sender: sender, Verifier: lineClient, Profiles: chans, Health: monitor, Notify: deliveries, Log: log, Now: opt.Now, Tags: tags,
		Events: hooksOut},
		omnilink.RuntimeConfig{BaseURL: cfg.BaseURL, LiffURL: cfg.LiffURL, WAURL: cfg.WAURL, LineAccountURL: cfg.LineAccountURL})
	modules := automation.NewModules(st, sender, links, cfg.BaseURL, opt.Now)
	links.SetModules(modules)
	tags.SetModules(modules)
	triggers := automation.NewTriggers(st, modules, log, opt.Now)
	campaigns := omnilink.New(st, modules, cfg.BaseURL, opt.Now)
	profiles := channels.NewProfiles(st, chans, log, opt.Now, 30*time.Second)
	hookProcessor := webhooks.NewProcessor(st, hookMetrics, log, hooks.Wake(), webhooks.ProcessorOptions{LinkCodes: links, Applied: profiles.Notify})
	hookProcessor.SetAnswerer(triggers)
	customers := identity.NewCustomers(identity.CustomersDeps{Store: st, Sender: sender, Tags: tags, Notify: deliveries, Events: hooksOut, Now: opt.Now})
	e := handlers.New(handlers.Deps{
		Config:    cfg,
		Log:       log,
		I18n:      bundle,
		Sessions:  websession.New(st, websession.Options{HashKey: sessionKey, Secure: cfg.SecureCookies(), Now: opt.Now}),
		CSRFKey:   csrfKey,
		Directory: st,
		Accounts:  acc,
		Members:   acc,
		Users:     st,
		Teams:     st,
		DB:        st,
		Registry:  reg,
		Channels:  chans,
		Webhooks:  hooks,
		Broken:    st,
		Health:    monitor,
		Sandbox:   sbx.screens,
		Now:       opt.Now,
		Campaigns: campaigns,
		Modules:   modules,
		Triggers:  triggers,
		Tags:      tags,
		Links:     links,
		Stats:     omnilink.NewStats(st),
		Customers: customers,
		TeamHooks: hooksOut,
	})
	return &App{Config: cfg, Store: st, Echo: e, Accounts: acc, I18n: bundle, Log: log,
		Box: box, Meta: metaClient, Line: lineClient, Channels: chans, Registry: reg,
		Campaigns: campaigns, Links: links, Modules: modules, Triggers: triggers, Webhooks: hooks, WebhookProcessor: hookProcessor, Health: monitor, Outbox: deliveries, Mailer: mailer, Messaging: sender,
		Tags: tags, Journeys: journeys, TeamHooks: hooksOut, Profiles: profiles, Sandbox: sbx.world, Mailbox: sbx.mailbox, work: work}, nil
}

// Close stops the background work Run started and waits for it to finish, then stops what
// Build started besides the HTTP server (the outbox's connection pool, the sandbox's SMTP
// catcher). The store is the caller's to close, and only after Close returns: no worker is
// then left to use it.
func (a *App) Close() error {
	if a.stop != nil {
		a.stop()
	}
	a.workers.Wait()
	err := a.work.Close()
	if a.Mailbox != nil {
		err = errors.Join(err, a.Mailbox.Close())
	}
	return err
}

// Run starts background work that lives until ctx ends or Close is called.
func (a *App) Run(ctx context.Context) {
	ctx, a.stop = context.WithCancel(ctx)
	a.workers.Go(func() { a.WebhookProcessor.Run(ctx) })
	a.workers.Go(func() { a.Outbox.Run(ctx) })
	a.workers.Go(func() { a.Health.Run(ctx) })
	a.workers.Go(func() { a.Journeys.Run(ctx) })
	a.workers.Go(func() { a.Profiles.Run(ctx) })
	a.workers.Go(func() { a.housekeeping(ctx) })
}

// housekeeping deletes what has outlived its use, every hour (webhook deliveries also once at
// start-up, so a long-stopped server catches up at once), closes OmniLink participations
// whose cards all expired unused, and folds the statistics counters of past hours.
func (a *App) housekeeping(ctx context.Context) {
	a.pruneWebhooks(ctx, time.Now())
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if _, err := a.Store.DeleteExpiredSessions(ctx, now); err != nil {
				a.Log.Warn("session cleanup failed", "error", err)
			}
			if err := a.Store.PruneLoginFailures(ctx, now.Add(-24*time.Hour)); err != nil {
				a.Log.Warn("login failure cleanup failed", "error", err)
			}
			if err := a.Accounts.PruneResetRequests(ctx); err != nil {
				a.Log.Warn("password reset request cleanup failed", "error", err)
			}
			if _, err := a.Links.FailUnfinished(ctx); err != nil {
				a.Log.Warn("closing unfinished OmniLink participations failed", "error", err)
			}
			if _, err := a.Store.CompactLinkStatsForSweep(ctx, now.Add(-time.Hour)); err != nil {
				a.Log.Warn("compacting OmniLink statistics counters failed", "error", err)
			}
			a.pruneWebhooks(ctx, now)
		}
	}
}

func (a *App) pruneWebhooks(ctx context.Context, now time.Time) {
	n, err := webhooks.Prune(ctx, a.Store, now.Add(-a.Config.WebhookRetention), webhooks.PruneOptions{})
	if err != nil && ctx.Err() == nil {
		a.Log.Warn("webhook delivery pruning failed", "error", err)
	}
	if n > 0 {
		a.Log.Info("pruned processed webhook deliveries", "deleted", n, "retention", a.Config.WebhookRetention.String())
	}
}
