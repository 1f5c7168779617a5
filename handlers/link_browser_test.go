package handlers_test

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"

	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// TestBrowserOmniLinkInstagramToLINE walks the Instagram → LINE link on a phone-sized
// chromium: the marketer sends the card from the campaign page, the Instagram customer taps it
// in the simulator, the sandbox LINE app opens the LIFF page as that LINE user, the link
// completes, and both conversations show the success messages.
func TestBrowserOmniLinkInstagramToLINE(t *testing.T) {
	e := newLinkEnv(t)
	igsid, _ := e.app.Sandbox.CustomerID("xiaoming", sandbox.PlatformInstagram, sandbox.BearBakeryIGID)
	e.app.User(e.team.ID, models.RoleAdmin, "owner@bear.test")
	ctx := testutil.Browser(t)
	campaign := e.app.URL + "/campaigns/" + strconv.FormatInt(e.camp.ID, 10)

	sim := e.app.URL + "/sandbox/simulator?" + url.Values{"account": {strconv.FormatInt(e.ig.ID, 10)}, "customer": {igsid}}.Encode()

	// The Instagram customer writes first (opening the 24-hour window), then the marketer
	// sends the card from the campaign page.
	err := chromedp.Do(ctx,
		chromedp.Emulate(device.IPhone12),
		chromedp.Navigate(e.app.URL+"/login"),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.SendKeys(`input[name=email]`, "owner@bear.test"),
		chromedp.SendKeys(`input[name=password]`, testutil.Password),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`main#main h1`),
		chromedp.Navigate(sim),
		chromedp.WaitVisible(`#simulator-send input[name=text]`),
		chromedp.SendKeys(`#simulator-send input[name=text]`, "綁定"),
		chromedp.Submit(`#simulator-send input[name=text]`),
		waitText(`#conversation`, "綁定"),
		chromedp.Navigate(campaign),
		chromedp.WaitVisible(`#send-card-link`),
		chromedp.Click(`#send-card-link`),
		chromedp.WaitVisible(`#send-card select`),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(s => (s.selectedIndex = 1, true))(document.querySelector('#send-card select'))`)); err != nil {
		t.Fatal(err)
	}
	testutil.Screenshot(t, ctx, "omnilink-1-send-card")
	if err := chromedp.Do(ctx, chromedp.Submit(`#send-card select`), chromedp.WaitVisible(`.flash`)); err != nil {
		t.Fatalf("sending the card: %v", err)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(sim), waitText(`#conversation`, "立即加入"), chromedp.WaitVisible(`#conversation a.sim-button`)); err != nil {
		t.Fatalf("the card did not reach the Instagram simulator: %v", err)
	}
	testutil.Screenshot(t, ctx, "omnilink-2-instagram-card")

	if err := chromedp.Do(ctx, chromedp.Click(`#conversation a.sim-button`), chromedp.WaitVisible(`#line-app`)); err != nil {
		t.Fatalf("tapping the card did not open the sandbox LINE app: %v", err)
	}
	testutil.Screenshot(t, ctx, "omnilink-3-line-app")
	if err := chromedp.Do(ctx, chromedp.Click(`input[value="`+sandbox.LINEUserXiaoming+`"]`), chromedp.Click(`#line-app-open`)); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	err = chromedp.Do(wctx, chromedp.WaitVisible(`section[data-state="linked"]`))
	cancel()
	if err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.getAttribute('data-liff-state') + ' ' + document.body.innerText`))
		t.Fatalf("the LIFF page did not link: %v (%s)", err, state)
	}
	text, _ := chromedp.Run(ctx, chromedp.Text(`section[data-state="linked"]`))
	if !strings.Contains(text, "整合完成") {
		t.Errorf("LIFF success says %q", text)
	}
	testutil.Screenshot(t, ctx, "omnilink-4-liff-linked")

	// The page closes its LIFF window a moment later, and LINE is back in the chat.
	wctx, cancel = context.WithTimeout(ctx, 20*time.Second)
	err = chromedp.Do(wctx, chromedp.WaitVisible(`#line-closed-back`))
	cancel()
	if err != nil {
		t.Fatalf("the LIFF window did not close: %v", err)
	}
	testutil.Screenshot(t, ctx, "omnilink-5-liff-closed")
	if err := chromedp.Do(ctx, chromedp.Click(`#line-closed-back`), waitText(`#conversation`, "整合成功，歡迎！")); err != nil {
		t.Fatalf("the LINE success push is not in the chat LINE returned to: %v", err)
	}
	lineSim := e.app.URL + "/sandbox/simulator?" + url.Values{"account": {strconv.FormatInt(e.line.ID, 10)}, "customer": {sandbox.LINEUserXiaoming}}.Encode()
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != lineSim {
		t.Errorf("closing the LIFF window returned to %s, want the LINE chat %s", loc, lineSim)
	}
	testutil.Screenshot(t, ctx, "omnilink-6-line-success")
	if err := chromedp.Do(ctx, chromedp.Navigate(sim), waitText(`#conversation`, "已完成整合")); err != nil {
		t.Fatalf("the Instagram success message is not in the simulator: %v", err)
	}
	testutil.Screenshot(t, ctx, "omnilink-7-instagram-success")
}

// waitText reloads until sel contains want (the outbox sends within a moment).
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(15 * time.Second)
		for {
			got, err := chromedp.Text(sel)(ctx, tg)
			if err == nil && strings.Contains(got, want) {
				return chromedp.Void{}, nil
			}
			if time.Now().After(deadline) {
				return chromedp.Void{}, fmt.Errorf("%s never showed %q (last: %q)", sel, want, got)
			}
			time.Sleep(300 * time.Millisecond)
			if _, err := chromedp.Steps(chromedp.Reload(), chromedp.WaitVisible(sel))(ctx, tg); err != nil {
				return chromedp.Void{}, err
			}
		}
	}
}
