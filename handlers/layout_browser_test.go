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
	err := chromedp.Do(b,
		chromedp.Navigate(a.URL+"/login"),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.SendKeys(`input[name=email]`, admin.Email),
		chromedp.SendKeys(`input[name=password]`, testutil.Password),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`main#main h1`),
	)
	if err != nil {
		t.Fatal(err)
	}
	healthLoaded := chromedp.WaitVisible(`.channel-health`)
	pages := []struct {
		name, path string
		settle     []chromedp.Action[chromedp.Void]
	}{
		{"overview", "/", nil},
		{"campaigns", "/campaigns", nil},
		{"channels", "/channels", nil},
		{"channel-facebook", fmt.Sprintf("/channels/%d", ids[models.Facebook]), []chromedp.Action[chromedp.Void]{healthLoaded}},
		{"channel-instagram", fmt.Sprintf("/channels/%d", ids[models.Instagram]), []chromedp.Action[chromedp.Void]{healthLoaded}},
		{"channel-line", fmt.Sprintf("/channels/%d", ids[models.LINE]), []chromedp.Action[chromedp.Void]{healthLoaded}},
		{"channel-whatsapp", fmt.Sprintf("/channels/%d", ids[models.WhatsApp]), []chromedp.Action[chromedp.Void]{healthLoaded}},
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
	}
	for _, lang := range []string{"zh-TW", "en"} {
		// Switch language with the console's own form (it may sit in a closed menu at phone size).
		err := chromedp.Do(b,
			chromedp.EmulateViewport(testutil.Laptop.Width, testutil.Laptop.Height),
			chromedp.Navigate(a.URL+"/"),
			chromedp.WaitReady("body"),
			chromedp.Evaluate[chromedp.Void](`(() => { const b = document.querySelector('form.lang-switch button[value="`+lang+`"]'); if (b) b.click(); })()`),
			chromedp.WaitReady(`html[lang="`+lang+`"]`),
		)
		if err != nil {
			t.Fatalf("switch to %s: %v", lang, err)
		}
		for _, p := range pages {
			testutil.CheckLayout(t, b, a.URL+p.path, "layout-"+p.name+"-"+lang, p.settle...)
		}
	}
}
