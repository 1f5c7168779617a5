package handlers_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// TestBrowserInviteAndJoin invites a member through the form in chromium, follows the link from
// the email in a fresh browser, chooses a password and lands signed in; the pages fit a phone.
func TestBrowserInviteAndJoin(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("小熊烘焙坊")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	ctx := testutil.Browser(t)
	fits := func(what string) {
		t.Helper()
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
		if err != nil || !ok {
			t.Errorf("%s scrolls sideways at phone width (%v)", what, err)
		}
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.URL+"/login"),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.SendKeys(`input[name=email]`, "boss@t.test"),
		chromedp.SendKeys(`input[name=password]`, testutil.Password),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`main#main h1`),
		chromedp.Navigate(a.URL+"/users"),
		chromedp.Click(`a[href="/users/invite"]`),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.SendKeys(`input[name=email]`, "mei@t.test"),
		chromedp.SendKeys(`input[name=name]`, "林美玲"),
		chromedp.SetValue(`select[name=role]`, "supervisor"),
		chromedp.Submit(`input[name=name]`),
		chromedp.WaitVisible(`.badge-warn`),
	)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Screenshot(t, ctx, "members-invited")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(a.URL+"/users"), chromedp.WaitVisible(`.badge-warn`)); err != nil {
		t.Fatal(err)
	}
	fits("the members list")
	testutil.Screenshot(t, ctx, "members-list-phone")
	link := linkPath(t, a, waitMail(t, a, 1)[0])

	// The invitee, in another browser, at phone size.
	ctx = testutil.Browser(t)
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(a.URL+link),
		chromedp.WaitVisible(`input[name=password]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	fits("the invitation page")
	testutil.Screenshot(t, ctx, "members-accept-phone")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(`input[name=password]`, "mei-chooses-this"),
		chromedp.SendKeys(`input[name=password_confirm]`, "mei-chooses-this"),
		chromedp.Submit(`input[name=password_confirm]`),
		chromedp.WaitVisible(`main#main h1`),
	)
	if err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(ctx, chromedp.Text(`body`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "歡迎加入，林美玲") {
		t.Fatalf("after choosing a password the page says:\n%s", body)
	}
	testutil.Screenshot(t, ctx, "members-joined-phone")
}
