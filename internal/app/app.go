// Package app wires configuration, database, services and the HTTP server together; main and
// the test harness both build the server through it, so tests run the real wiring.
package app

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/omnilink/omnilink/handlers"
	"github.com/omnilink/omnilink/internal/accounts"
	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/websession"
)

// Options adjusts the wiring for tests.
type Options struct {
	BcryptCost int
	Now        func() time.Time
}

// App is the built server with its services.
type App struct {
	Config   config.Config
	Store    *store.Store
	Echo     *echo.Echo
	Accounts *accounts.Service
	I18n     *i18n.Bundle
	Log      *slog.Logger
}

// Build constructs the whole server on an open store.
func Build(cfg config.Config, st *store.Store, log *slog.Logger, opt Options) (*App, error) {
	bundle, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	master := cfg.MasterKey()
	sessionKey, err := subkey(master, "omnilink session cookie v1")
	if err != nil {
		return nil, err
	}
	csrfKey, err := subkey(master, "omnilink csrf v1")
	if err != nil {
		return nil, err
	}
	acc := accounts.New(st, opt.BcryptCost, opt.Now)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	e := handlers.New(handlers.Deps{
		Config:    cfg,
		Log:       log,
		I18n:      bundle,
		Sessions:  websession.New(st, websession.Options{HashKey: sessionKey, Secure: cfg.SecureCookies(), Now: opt.Now}),
		CSRFKey:   csrfKey,
		Directory: st,
		Accounts:  acc,
		Users:     st,
		DB:        st,
		Registry:  reg,
	})
	return &App{Config: cfg, Store: st, Echo: e, Accounts: acc, I18n: bundle, Log: log}, nil
}

// Run starts background work that lives as long as ctx.
func (a *App) Run(ctx context.Context) {
	go func() {
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
			}
		}
	}()
}

func subkey(master []byte, purpose string) ([]byte, error) {
	return hkdf.Key(sha256.New, master, nil, purpose, 32)
}
