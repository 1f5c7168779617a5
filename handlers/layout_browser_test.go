package handlers_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/omnilink/omnilink/internal/health"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// TestBrowserLayoutEveryPage walks every console page at laptop and phone size in both
// languages, with a broken channel's banner showing and mail in the mailbox, and fails on
// sideways scrolling, squeezed text and controls narrower than their labels.
func TestBrowserLayoutEveryPage(t *testing.T) {
	a := testutil.NewApp(t)
	ctx := context.Background()
	team, admin := sbTeam(t, a)
	ids := map[models.Platform]int64{}
	for _, p := range models.Platforms {
		ids[p] = sbChannel(t, a, team.ID, p).ID
	}
	// A broken channel puts its banner on every page and an alert in the mailbox.
	if err := a.Sandbox.BreakToken(sandbox.Target{Kind: sandbox.TargetPage, ID: sandbox.BearBakeryIGID}, sandbox.CausePasswordChanged); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Health.Sweep(ctx, health.SweepOptions{Force: true, Wait: true}); err != nil {
		t.Fatal(err)
	}
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := a.Mailbox.Wait(wait, 1); err != nil {
		t.Fatalf("no alert mail: %v", err)
	}
	c := a.Client()
	c.Login(admin.Email, testutil.Password)
	mail := regexp.MustCompile(`href="/sandbox/mailbox/([0-9a-f]+)"`).FindStringSubmatch(c.Get("/sandbox/mailbox").Body)
	if mail == nil {
		t.Fatal("the mailbox lists no message")
	}

	b := testutil.Browser(t)
	browserLogin(t, b, a.URL, admin.Email)
	healthLoaded := chromedp.WaitVisible(`.channel-health`)
	settleHealth := []chromedp.Action[chromedp.Void]{healthLoaded}
	checkLayoutInBothLanguages(t, b, a.URL, []layoutPage{
		{"overview", "/", nil},
		{"campaigns", "/campaigns", nil},
		{"channels", "/channels", nil},
		{"channel-facebook", fmt.Sprintf("/channels/%d", ids[models.Facebook]), settleHealth},
		{"channel-instagram", fmt.Sprintf("/channels/%d", ids[models.Instagram]), settleHealth},
		{"channel-line", fmt.Sprintf("/channels/%d", ids[models.LINE]), settleHealth},
		{"channel-whatsapp", fmt.Sprintf("/channels/%d", ids[models.WhatsApp]), settleHealth},
		{"connect-line", "/channels/line/new", nil},
		{"connect-whatsapp", "/channels/whatsapp/new", nil},
		{"reauthorize-instagram", fmt.Sprintf("/channels/%d/reauthorize", ids[models.Instagram]), nil},
		{"reauthorize-line", fmt.Sprintf("/channels/%d/reauthorize", ids[models.LINE]), nil},
		{"users", "/users", nil},
		{"users-invite", "/users/invite", nil},
		{"team-settings", "/settings/team", nil},
		{"sandbox-panel", "/sandbox", nil},
		{"sandbox-simulator", "/sandbox/simulator", nil},
		{"sandbox-mailbox", "/sandbox/mailbox", nil},
		{"sandbox-mail", "/sandbox/mailbox/" + mail[1], []chromedp.Action[chromedp.Void]{chromedp.Sleep(500 * time.Millisecond)}},
	})
}
