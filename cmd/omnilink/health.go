package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/omnilink/omnilink/internal/health"
	"github.com/omnilink/omnilink/models"
)

// healthCmd runs one health sweep over every live channel now and prints each verdict. Alert
// emails go to the outbox, which the running server delivers (in development, to the sandbox
// mailbox), so running it twice never sends a second email for the same failure.
func healthCmd() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cleanup, err := healthDevEnvironment(ctx)
	if err != nil {
		return err
	}
	defer cleanup()
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	a, closeApp, err := openApp(ctx, cfg, newLogger("warn"))
	if err != nil {
		return err
	}
	defer closeApp()
	fmt.Println("checking every connected channel…")
	rep, err := a.Health.Sweep(ctx, health.SweepOptions{Force: true, Wait: true, Collect: true})
	if err != nil {
		return err
	}
	printHealth(rep)
	return nil
}

func printHealth(rep health.SweepReport) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tTEAM\tPLATFORM\tCHANNEL\tVERDICT\tCAUSE\tCHANGE\tDETAIL")
	sort.Slice(rep.Results, func(i, j int) bool { return rep.Results[i].Channel.ID < rep.Results[j].Channel.ID })
	for _, r := range rep.Results {
		name := r.Channel.DisplayName
		if r.Channel.Username != "" {
			name += " (" + r.Channel.Username + ")"
		}
		fmt.Fprintf(w, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Channel.ID, r.Channel.TeamID, r.Channel.Platform, name,
			r.Verdict.State, r.Verdict.Cause, change(r.Transition), oneLine(r.Verdict.Detail, 90))
	}
	_ = w.Flush()
	fmt.Printf("\n%d checked in %s: %d healthy, %d broken, %d unknown; %d episodes opened, %d closed; %d emails queued (%d platform calls)\n",
		rep.Checked, rep.Finished.Sub(rep.Started).Round(time.Millisecond), rep.Healthy, rep.Broken, rep.Unknown,
		rep.Opened, rep.Closed, rep.AlertsQueued, rep.Calls)
	if rep.AlertsQueued > 0 {
		fmt.Println("emails are delivered by the running server's outbox (omnilink serve / make run)")
	}
	if rep.Checked > 0 && rep.Unknown == rep.Checked {
		fmt.Println("no platform could be asked; in sandbox mode the platforms are served by the running server (make run)")
	}
}

// change says what a verdict did to the channel's failure episode and its one alert.
func change(t health.Transition) string {
	var parts []string
	switch {
	case t.Opened:
		parts = append(parts, "episode opened")
	case t.Closed:
		parts = append(parts, "episode closed")
	case t.EpisodeID != 0:
		parts = append(parts, "episode continues")
	}
	switch {
	case t.AlertQueued:
		parts = append(parts, "alert email queued")
	case t.AlertPending:
		parts = append(parts, "alert email pending")
	case t.AlertSkipped == models.AlertSkippedPlanEnded:
		parts = append(parts, "no email: plan ended")
	case t.AlertSkipped == models.AlertSkippedNoRecipients:
		parts = append(parts, "no email: no recipients")
	case t.EpisodeID != 0 && !t.Closed:
		parts = append(parts, "already alerted")
	}
	if t.RecoveredQueued {
		parts = append(parts, "recovery email queued")
	}
	if t.ExpiryQueued {
		parts = append(parts, "expiry warning queued")
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	if s == "" {
		return "-"
	}
	return s
}

// healthDevEnvironment lets `go run ./cmd/omnilink health` work next to `make run` with no
// configuration: it reuses the private database under ./var (left running for the server) and
// its secret key. With DATABASE_URL set, or no ./var, it changes nothing.
func healthDevEnvironment(ctx context.Context) (func(), error) {
	noop := func() {}
	if os.Getenv("DATABASE_URL") != "" {
		return noop, nil
	}
	if _, err := os.Stat(filepath.Join("var", "pg", "data")); err != nil {
		return noop, nil
	}
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", devPort), time.Second)
	if err != nil {
		// The server is not running: start the private database for this run only.
		return devEnvironment(ctx)
	}
	_ = conn.Close()
	if os.Getenv("OMNILINK_SECRET_KEY") == "" {
		key, err := devSecret(filepath.Join("var", "secret.key"))
		if err != nil {
			return noop, err
		}
		os.Setenv("OMNILINK_SECRET_KEY", key)
	}
	os.Setenv("DATABASE_URL", fmt.Sprintf("postgres://omnilink@127.0.0.1:%d/omnilink?sslmode=disable", devPort))
	return noop, nil
}
