package handlers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// TestBrowserConsoleWalk logs in through the real page in chromium, switches the language, and
// visits every page the role may open, saving a screenshot of each.
func TestBrowserConsoleWalk(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("小熊烘焙坊")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	ctx := testutil.Browser(t)

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.URL+"/login"),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.SendKeys(`input[name=email]`, "boss@t.test"),
		chromedp.SendKeys(`input[name=password]`, testutil.Password),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`main#main h1`),
	)
	if err != nil {
		t.Fatal(err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(`main#main h1`))
	if err != nil {
		t.Fatal(err)
	}
	if heading != "總覽" {
		t.Fatalf("after login the heading is %q, want the zh-TW overview", heading)
	}
	testutil.Screenshot(t, ctx, "console-overview-zh-TW")

	// Switch to English with the sidebar button.
	if err := chromedp.Do(ctx, chromedp.Click(`form.lang-switch button[value=en]`), chromedp.WaitVisible(`html[lang=en]`)); err != nil {
		t.Fatal(err)
	}
	if heading, err = chromedp.Run(ctx, chromedp.Text(`main#main h1`)); err != nil {
		t.Fatal(err)
	}
	if heading != "Overview" {
		t.Fatalf("after switching, heading %q", heading)
	}

	hrefs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('aside nav a')).map(a => a.getAttribute('href'))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(hrefs) < 3 {
		t.Fatalf("admin navigation: %v", hrefs)
	}
	for _, href := range hrefs {
		if err := chromedp.Do(ctx, chromedp.Navigate(a.URL+href), chromedp.WaitVisible(`main#main h1`)); err != nil {
			t.Fatalf("visit %s: %v", href, err)
		}
		title, err := chromedp.Run(ctx, chromedp.Title())
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(title, "Not found") || strings.Contains(title, "Not allowed") || strings.Contains(title, "error") {
			t.Errorf("%s shows %q", href, title)
		}
		name := "console-" + strings.Trim(strings.ReplaceAll(href, "/", "-"), "-")
		if href == "/" {
			name = "console-home-en"
		}
		testutil.Screenshot(t, ctx, name)
	}
	// At phone size the navigation hides behind the menu button, which opens it with a click
	// or from the keyboard, and Escape closes it again.
	navShown := func() bool {
		shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('aside nav').getClientRects().length > 0`))
		if err != nil {
			t.Fatal(err)
		}
		return shown
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(a.URL+"/users"), chromedp.WaitVisible(`label.menu-button`)); err != nil {
		t.Fatal(err)
	}
	if navShown() {
		t.Error("at phone size the navigation is open before the menu button is pressed")
	}
	if err := chromedp.Do(ctx, chromedp.Click(`label.menu-button`), chromedp.WaitVisible(`aside nav a[href="/channels"]`)); err != nil {
		t.Fatalf("the menu button does not open the navigation: %v", err)
	}
	testutil.Screenshot(t, ctx, "console-users-phone-menu")
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\x1b")); err != nil {
		t.Fatal(err)
	}
	if navShown() {
		t.Error("Escape does not close the menu")
	}
	if err := chromedp.Do(ctx, chromedp.Focus(`#nav-toggle`), chromedp.KeyEvent(" "), chromedp.WaitVisible(`aside nav a[href="/channels"]`)); err != nil {
		t.Fatalf("Space on the focused menu button does not open the navigation: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`aside nav a[href="/channels"]`), chromedp.WaitVisible(`.channel-list, #section-instagram`)); err != nil {
		t.Fatalf("a menu link does not lead to its page: %v", err)
	}
	// The menu needs no script.
	noScript := func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return chromedp.Void{}, err
	}
	if err := chromedp.Do(ctx, noScript, chromedp.Navigate(a.URL+"/users"), chromedp.WaitVisible(`label.menu-button`),
		chromedp.Click(`label.menu-button`), chromedp.WaitVisible(`aside nav a[href="/channels"]`)); err != nil {
		t.Fatalf("without script the menu button does not open the navigation: %v", err)
	}
}

// TestBrowserLineFormErrors submits the LINE form with several mistakes in chromium: every
// error shows beside its field at once, what was typed stays, the secrets are asked for again,
// and nothing scrolls sideways on a phone.
func TestBrowserLineFormErrors(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("小熊烘焙坊")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	ctx := testutil.Browser(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.URL+"/login"),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.SendKeys(`input[name=email]`, "boss@t.test"),
		chromedp.SendKeys(`input[name=password]`, testutil.Password),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`main#main h1`),
		chromedp.Navigate(a.URL+"/channels"),
		chromedp.Click(`#connect-line`),
		chromedp.WaitVisible(`#line-form`),
		chromedp.SendKeys(`input[name=channel_id]`, "123"),
		chromedp.SendKeys(`input[name=channel_secret]`, "not-a-secret"),
		chromedp.SendKeys(`input[name=login_channel_id]`, "12-34"),
		chromedp.SendKeys(`input[name=liff_id]`, "nope"),
		chromedp.Click(`#line-form button[type=submit]`),
		chromedp.WaitVisible(`.field-error`),
	)
	if err != nil {
		t.Fatal(err)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.field-error').length`))
	if err != nil || n != 5 {
		t.Fatalf("%d field errors after one submit, want 5: %v", n, err)
	}
	typed, _ := chromedp.Run(ctx, chromedp.Value(`input[name=liff_id]`))
	secret, _ := chromedp.Run(ctx, chromedp.Value(`input[name=channel_secret]`))
	if typed != "nope" || secret != "" {
		t.Errorf("after the failed submit liff_id=%q (want what was typed) and the secret is %q (want empty)", typed, secret)
	}
	if _, err := chromedp.Run(ctx, chromedp.Text(`#retype-note`)); err != nil {
		t.Error("no note asking to paste the secrets again")
	}
	testutil.Screenshot(t, ctx, "channels-line-errors-zh-TW")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(`#line-form`)); err != nil {
		t.Fatal(err)
	}
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil || wide {
		t.Errorf("the LINE form scrolls sideways on a phone: %v", err)
	}
	testutil.Screenshot(t, ctx, "channels-line-form-phone")
}
