package health_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/health"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// The walk-through on the fully wired app: its own sandbox over HTTP, its outbox delivering to
// the sandbox mailbox in the background. Break the Instagram token, sweep: one email and a
// banner; sweep again: still one email; reauthorise: the banner is gone.
func TestWalkThroughOnTheWiredApp(t *testing.T) {
	a := testutil.NewApp(t)
	ctx := context.Background()
	team := a.Team("小熊烘焙坊 Bear Bakery")
	admin := a.User(team.ID, models.RoleAdmin, "owner@bear.test")
	ch := a.SandboxChannel(team.ID, a.Sandbox, a.Meta, models.Instagram, sandbox.BearBakeryIGID, "mei")
	if err := a.Sandbox.BreakToken(sandbox.Target{Kind: sandbox.TargetPage, ID: sandbox.BearBakeryIGID}, sandbox.CausePasswordChanged); err != nil {
		t.Fatal(err)
	}
	rep, err := a.Health.Sweep(ctx, health.SweepOptions{Force: true, Wait: true})
	if err != nil || rep.Broken != 1 || rep.AlertsQueued != 1 {
		t.Fatalf("sweep: %+v %v", rep, err)
	}
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	msgs, err := a.Mailbox.Wait(wait, 1)
	if err != nil {
		t.Fatalf("no email in the sandbox mailbox: %v", err)
	}
	if !strings.Contains(msgs[0].Text, fmt.Sprintf("/channels/%d/reauthorize", ch.ID)) || msgs[0].To[0] != admin.Email {
		t.Fatalf("email: to %v\n%s", msgs[0].To, msgs[0].Text)
	}
	c := a.Client()
	c.Login(admin.Email, testutil.Password)
	if home := c.Get("/"); !strings.Contains(home.Body, `class="banner"`) || !strings.Contains(home.Body, ch.DisplayName) {
		t.Fatalf("no banner:\n%s", home.Body)
	}

	if rep, err := a.Health.Sweep(ctx, health.SweepOptions{Force: true, Wait: true}); err != nil || rep.AlertsQueued != 0 {
		t.Fatalf("second sweep: %+v %v", rep, err)
	}
	if _, err := a.Outbox.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(a.Mailbox.Messages()); n != 1 {
		t.Fatalf("%d emails after the second sweep, want 1", n)
	}

	if err := a.Sandbox.Repair(sandbox.Target{Kind: sandbox.TargetPage, ID: sandbox.BearBakeryIGID}); err != nil {
		t.Fatal(err)
	}
	a.Health.ChannelRepaired(ctx, ch)
	if home := c.Get("/"); strings.Contains(home.Body, `class="banner"`) {
		t.Fatalf("banner still shown after the repair:\n%s", home.Body)
	}
}
