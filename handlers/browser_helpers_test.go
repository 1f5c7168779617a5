package handlers_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/omnilink/omnilink/internal/testutil"
)

// browserLogin signs in through the login page, as a person would.
func browserLogin(t *testing.T, b context.Context, base, email string) {
	t.Helper()
	err := chromedp.Do(b,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.SendKeys(`input[name=email]`, email),
		chromedp.SendKeys(`input[name=password]`, testutil.Password),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`main#main h1`),
	)
	if err != nil {
		t.Fatal(err)
	}
}

// layoutPage is a console page to check; settle waits for what it loads after it opens.
type layoutPage struct {
	name, path string
	settle     []chromedp.Action[chromedp.Void]
}

// checkLayoutInBothLanguages switches the console's language with its own form (it may sit in a
// closed menu at phone size) and checks every page at laptop and phone size in each.
func checkLayoutInBothLanguages(t *testing.T, b context.Context, base string, pages []layoutPage) {
	t.Helper()
	for _, lang := range []string{"zh-TW", "en"} {
		err := chromedp.Do(b,
			chromedp.EmulateViewport(testutil.Laptop.Width, testutil.Laptop.Height),
			chromedp.Navigate(base+"/"),
			chromedp.WaitReady("body"),
			chromedp.Evaluate[chromedp.Void](`(() => { const b = document.querySelector('form.lang-switch button[value="`+lang+`"]'); if (b) b.click(); })()`),
			chromedp.WaitReady(`html[lang="`+lang+`"]`),
		)
		if err != nil {
			t.Fatalf("switch to %s: %v", lang, err)
		}
		for _, p := range pages {
			testutil.CheckLayout(t, b, base+p.path, "layout-"+p.name+"-"+lang, p.settle...)
		}
	}
}
