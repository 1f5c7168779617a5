package handlers_test

import (
	"strings"
	"testing"

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
	// A phone-sized viewport still shows the navigation.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(a.URL+"/users"), chromedp.WaitVisible(`aside nav`)); err != nil {
		t.Fatal(err)
	}
	testutil.Screenshot(t, ctx, "console-users-phone")
}
