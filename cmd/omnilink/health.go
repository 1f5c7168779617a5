package main

import (
	"context"
	"fmt"
	"io"
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
	printHealth(os.Stdout, rep, cfg.Sandbox())
	return nil
}

func printHealth(out io.Writer, rep health.SweepReport, sandbox bool) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
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
	fmt.Fprintf(out, "\n%d checked in %s: %d healthy, %d broken, %d unknown; %d episodes opened, %d closed; %d emails queued (%d platform calls)\n",
		rep.Checked, rep.Finished.Sub(rep.Started).Round(time.Millisecond), rep.Healthy, rep.Broken, rep.Unknown,
		rep.Opened, rep.Closed, rep.AlertsQueued, rep.Calls)
	if rep.AlertsQueued > 0 {
		fmt.Fprintln(out, "emails are delivered by the running server's outbox (omnilink serve / make run)")
	}
	sealed := 0
	for _, r := range rep.Results {
		if r.Verdict.Unopenable {
			sealed++
		}
	}
	switch {
	case sealed > 0:
		// Our own settings are at fault, not a platform or the server.
		fmt.Fprintf(out, "%d channels' stored credentials cannot be opened with this OMNILINK_SECRET_KEY: run with the server's key (make run keeps it in %s)\n", sealed, devSecretPath)
	case rep.Checked > 0 && rep.Unknown == rep.Checked && sandbox:
		fmt.Fprintln(out, "no platform could be asked; in sandbox mode the platforms are served by the running server (make run)")
	case rep.Checked > 0 && rep.Unknown == rep.Checked:
		fmt.Fprintln(out, "no platform could be asked; see the DETAIL column for what each answered")
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

// healthDevEnvironment lets `go run ./cmd/omnilink health` work next to `make run` with the
// same settings as the server: the secret key make run keeps in ./var/secret.key (used whenever
// OMNILINK_SECRET_KEY is unset, with or without DATABASE_URL, as make run does) and, with
// DATABASE_URL unset, the private database under ./var (left running for the server).
func healthDevEnvironment(ctx context.Context) (func(), error) {
	noop := func() {}
	if err := useDevSecret(false); err != nil {
		return noop, err
	}
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
	os.Setenv("DATABASE_URL", fmt.Sprintf("postgres://omnilink@127.0.0.1:%d/omnilink?sslmode=disable", devPort))
	return noop, nil
}
