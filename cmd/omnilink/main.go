// Command omnilink runs the omnilink server and its maintenance commands.
//
//	omnilink [serve]   run the server (default)
//	omnilink dev       run the server on a private database under ./var (what make run does)
//	omnilink migrate   apply database migrations to DATABASE_URL
//	omnilink seed      seed the demo team into an empty DATABASE_URL
//	omnilink health    check every connected channel now and print the verdicts
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/omnilink/omnilink/internal/app"
	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/seed"
	"github.com/omnilink/omnilink/internal/store"
)

func main() {
	cmd := "serve"
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(false)
	case "dev":
		err = serve(true)
	case "migrate":
		err = migrate()
	case "seed":
		err = seedCmd()
	case "health":
		err = healthCmd()
	case "-h", "--help", "help":
		fmt.Println("usage: omnilink [serve|dev|migrate|seed|health]")
		return
	default:
		err = fmt.Errorf("unknown command %q (serve, dev, migrate, seed, health)", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "omnilink:", err)
		os.Exit(1)
	}
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// loadConfig prints one line per configuration problem.
func loadConfig() (config.Config, error) {
	cfg, err := config.Load()
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(os.Stderr, "config:", line)
		}
		return cfg, errors.New("invalid configuration")
	}
	return cfg, nil
}

// migrate needs only the database, so it does not ask for the rest of the configuration.
func migrate() error {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		return errors.New("DATABASE_URL is required")
	}
	if err := store.Migrate(context.Background(), url); err != nil {
		return err
	}
	fmt.Println("migrations applied")
	return nil
}

func seedCmd() error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	ctx := context.Background()
	a, closeApp, err := openApp(ctx, cfg, newLogger(cfg.LogLevel))
	if err != nil {
		return err
	}
	defer closeApp()
	return runSeed(ctx, a, cfg)
}

// openApp migrates the configured database and builds the app on it; closeApp releases both.
func openApp(ctx context.Context, cfg config.Config, log *slog.Logger) (a *app.App, closeApp func(), err error) {
	if err := store.Migrate(ctx, cfg.DatabaseURL); err != nil {
		return nil, nil, fmt.Errorf("migrate: %w", err)
	}
	st, err := store.Open(cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	a, err = app.Build(cfg, st, log, app.Options{})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return a, func() { a.Close(); st.Close() }, nil
}

func runSeed(ctx context.Context, a *app.App, cfg config.Config) error {
	res, err := seed.Demo(ctx, a.Store, a.Accounts, cfg.AdminPassword)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if !res.Seeded {
		fmt.Println("database already has a team; nothing seeded")
		return nil
	}
	fmt.Printf("seeded the demo team; admin login: %s\n", seed.AdminEmail)
	if res.GeneratedPassword != "" {
		fmt.Printf("generated admin password (shown once): %s\n", res.GeneratedPassword)
	}
	if a.Sandbox != nil {
		// The server is not listening yet, so the sandbox is reached in process.
		if err := seed.SandboxChannels(ctx, a.Store, a.InProcessChannels(), a.Sandbox, res.AdminID); err != nil {
			return err
		}
		fmt.Println("connected the demo team to the sandbox's Instagram, Facebook Page, LINE and WhatsApp accounts")
		if _, err := seed.Campaigns(ctx, a.Store, a.Campaigns, res.AdminID); err != nil {
			return err
		}
		fmt.Println("created the demo OmniLink campaigns (Instagram → LINE, Instagram → WhatsApp)")
		if err := seed.SandboxTagRules(ctx, a.Store, a.Sandbox, res.TeamID, res.AdminID); err != nil {
			return err
		}
		fmt.Printf("added the tag %s, which switches the sandbox LINE user's rich menu and starts a welcome journey\n", seed.DemoTag)
	}
	return nil
}

// serve runs the HTTP server until SIGINT/SIGTERM, then lets in-flight requests finish.
func serve(dev bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if dev {
		cleanup, err := devEnvironment(ctx)
		if err != nil {
			return err
		}
		defer cleanup()
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel)
	a, closeApp, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeApp()
	if dev {
		if err := runSeed(ctx, a, cfg); err != nil {
			return err
		}
	}
	a.Run(ctx)
	srv := &http.Server{Addr: cfg.Addr, Handler: a.Echo, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("omnilink listening", "addr", cfg.Addr, "base_url", cfg.BaseURL, "providers", cfg.Providers)
	if dev {
		fmt.Printf("\n  omnilink is running at %s  (log in as %s; Ctrl-C stops it)\n\n", cfg.BaseURL, seed.AdminEmail)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down; finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}
