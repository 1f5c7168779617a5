package handlers_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// TestBrowserSandboxOAuthDialog connects Bear Bakery's Instagram account the way a newcomer
// does in chromium: the channels page, the sandbox's Facebook dialog as mei, the callback, and
// back on the channels page the accounts Facebook Login found.
func TestBrowserSandboxOAuthDialog(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("小熊烘焙坊 Bear Bakery")
	a.User(team.ID, models.RoleAdmin, "owner@bear.test")
	ctx := testutil.Browser(t)

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.URL+"/login"),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.SendKeys(`input[name=email]`, "owner@bear.test"),
		chromedp.SendKeys(`input[name=password]`, testutil.Password),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`main#main h1`),
		chromedp.Navigate(a.URL+"/channels"),
		chromedp.WaitVisible(`#connect-instagram`),
	)
	if err != nil {
		t.Fatal(err)
	}
	label, err := chromedp.Run(ctx, chromedp.Text(`#connect-instagram`))
	if err != nil || label != "串接 Instagram 帳號" {
		t.Fatalf("connect button %q: %v", label, err)
	}
	testutil.Screenshot(t, ctx, "sandbox-oauth-1-channels")

	// The form opens Facebook in a new tab; here the same tab follows it.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#connect-instagram').form.removeAttribute('target'), true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#connect-instagram`), chromedp.WaitVisible(`#fb-user-mei`)); err != nil {
		t.Fatalf("the sandbox dialog did not open: %v", err)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.HasPrefix(loc, a.URL+"/sandbox/dialog/v25.0/dialog/oauth?") {
		t.Errorf("the dialog is at %s", loc)
	}
	testutil.Screenshot(t, ctx, "sandbox-oauth-2-choose-user")

	if err := chromedp.Do(ctx, chromedp.Click(`#fb-user-mei`), chromedp.WaitVisible(`#fb-continue`)); err != nil {
		t.Fatal(err)
	}
	ticked, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('input[name=perm]:checked').length`))
	if err != nil || ticked == 0 {
		t.Fatalf("mei's permissions are not pre-ticked: %d %v", ticked, err)
	}
	testutil.Screenshot(t, ctx, "sandbox-oauth-3-consent-mei")

	if err := chromedp.Do(ctx, chromedp.Click(`#fb-continue`), chromedp.WaitVisible(`#callback-message`)); err != nil {
		t.Fatalf("no callback page after Continue: %v", err)
	}
	testutil.Screenshot(t, ctx, "sandbox-oauth-4-callback")

	if err := chromedp.Do(ctx, chromedp.Navigate(a.URL+"/channels"), chromedp.WaitVisible(`#oauth-result`)); err != nil {
		t.Fatalf("the channels page does not show the Facebook Login result: %v", err)
	}
	dialog, err := chromedp.Run(ctx, chromedp.Text(`#oauth-result`))
	if err != nil || !strings.Contains(dialog, "@bearbakery.tw") {
		t.Fatalf("the result dialog does not offer @bearbakery.tw: %q %v", dialog, err)
	}
	// The only connectable account starts ticked, the dialog and the tab say what happened.
	box := `#candidates-form input[value="` + sandbox.BearBakeryIGID + `"]`
	ticked, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('`+box+`:checked').length`))
	if err != nil || ticked != 1 {
		t.Fatalf("the single valid Instagram account is not pre-ticked: %d %v", ticked, err)
	}
	if title, _ := chromedp.Run(ctx, chromedp.Text(`#oauth-result-title`)); title != "選擇要串接的 Instagram 帳號" {
		t.Errorf("dialog title %q", title)
	}
	testutil.Screenshot(t, ctx, "sandbox-oauth-5-choose-account")

	if err := chromedp.Do(ctx, chromedp.Click(`#connect-chosen`), chromedp.WaitVisible(`#section-instagram table`)); err != nil {
		t.Fatalf("connecting did not list the account: %v", err)
	}
	section, err := chromedp.Run(ctx, chromedp.Text(`#section-instagram`))
	if err != nil || !strings.Contains(section, "@bearbakery.tw") {
		t.Errorf("the Instagram section shows %q", section)
	}
	testutil.Screenshot(t, ctx, "sandbox-oauth-6-connected")
}
