package handlers_test

import (
	"context"
	"net/http"
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

func phone(ua string) device.Info {
	return device.Info{Name: "phone", UserAgent: ua, Width: 390, Height: 844, Scale: 3, Mobile: true, Touch: true}
}

// TestBrowserLinkPagesAtPhoneSize opens every page a customer can meet after tapping a card,
// at 390×844 with the browser the page is meant for, and checks nothing is wider than the phone.
func TestBrowserLinkPagesAtPhoneSize(t *testing.T) {
	e := newLinkEnv(t)
	tok := e.cardLink(e.camp.ID, e.customer(e.ig, "xiaoming"))
	waCamp := e.campaign(e.ig, e.wa)
	waTok := e.cardLink(waCamp.ID, e.customer(e.ig, "yijun"))
	_, waLoc, _ := e.get("/l/"+waTok, uaIPhoneSafari)
	e.app.User(e.team.ID, models.RoleAdmin, "owner@bear.test")
	ctx := testutil.Browser(t)

	pages := []struct {
		name string
		dev  device.Info
		path string
		sel  string
	}{
		{"click-fb-android", phone(uaFBAndroid), "/l/" + tok, `[data-kind="fb_android"]`},
		{"click-ios-instagram", phone(uaIGiOS), "/l/" + tok, `[data-kind="ios_in_app"]`},
		{"click-not-exist", phone(uaIPhoneSafari), "/l/AAAAAAAAAAAAAAAAAAAAAA", `[data-kind="not_exist"]`},
		{"click-desktop", device.Info{Name: "desktop", UserAgent: uaDesktop, Width: 1280, Height: 900, Scale: 1}, "/l/" + tok, `[data-kind="desktop"] img.qr`},
	}
	for _, p := range pages {
		err := chromedp.Do(ctx, chromedp.Emulate(p.dev), chromedp.Navigate(e.app.URL+p.path), chromedp.WaitVisible(p.sel))
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		if p.dev.Mobile {
			w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			if err != nil || w > 390 {
				t.Errorf("%s is %d px wide on a 390 px phone (%v)", p.name, w, err)
			}
		}
		testutil.Screenshot(t, ctx, "omnilink-page-"+p.name)
	}

	// A LINE user who blocked the account (LINE's unfollow event came in) is told to unblock it,
	// and nothing else happens.
	c := e.app.Client()
	c.Login("owner@bear.test", testutil.Password)
	sim := url.Values{"account": {strconv.FormatInt(e.line.ID, 10)}, "customer": {sandbox.LINEUserZhihao}}
	if r := c.Submit("/sandbox/simulator?"+sim.Encode(), "/sandbox/simulator/send", url.Values{"account": sim["account"],
		"customer": sim["customer"], "kind": {"unfollow"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("unfollow: %d", r.Status)
	}
	for deadline := time.Now().Add(10 * time.Second); e.count(`SELECT count(*) FROM contacts WHERE line_friendship = 'blocked'`) != 1; {
		if time.Now().After(deadline) {
			t.Fatal("the unfollow event was not recorded")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The sandbox's LINE app plays LINE for a team member signed in to the console.
	browserLogin(t, ctx, e.app.URL, "owner@bear.test")
	err := chromedp.Do(ctx,
		chromedp.Emulate(phone(uaIPhoneSafari)),
		chromedp.Navigate(e.app.URL+"/sandbox/liff/"+sandbox.LIFFID+"?t="+tok),
		chromedp.WaitVisible(`#line-app`),
	)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Screenshot(t, ctx, "omnilink-page-line-app")
	if err := chromedp.Do(ctx, chromedp.Click(`input[value="`+sandbox.LINEUserZhihao+`"]`), chromedp.Click(`#line-app-open`)); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	err = chromedp.Do(wctx, chromedp.WaitVisible(`section[data-state="unblock_required"] [data-add-friend]`))
	cancel()
	if err != nil {
		t.Fatalf("blocked user: no unblock screen: %v", err)
	}
	href, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('section[data-state="unblock_required"] [data-add-friend]').href`))
	if title, _ := chromedp.Run(ctx, chromedp.Text(`section[data-state="unblock_required"] h1`)); title != "請先解除封鎖" {
		t.Errorf("the LIFF page is not in the LINE user's language (zh-TW): %q", title)
	}
	if href != e.app.URL+"/sandbox/line/account/%40bearbakery" {
		t.Errorf("account link %q", href)
	}
	testutil.Screenshot(t, ctx, "omnilink-page-liff-unblock")
	if n := e.count(`SELECT count(*) FROM merges`); n != 0 {
		t.Fatal("a blocked user was linked")
	}
	// The button opens the account's page in (the sandbox's) LINE, as the same LINE user; unblocking
	// there sends LINE's follow webhook and returns to the chat.
	err = chromedp.Do(ctx,
		chromedp.Click(`section[data-state="unblock_required"] [data-add-friend]`),
		chromedp.WaitVisible(`#line-account`),
	)
	if err != nil {
		t.Fatal(err)
	}
	if checked, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('input[value="`+sandbox.LINEUserZhihao+`"]').checked`)); !checked {
		t.Error("the account page is not opened as the LINE user of the LIFF page")
	}
	testutil.Screenshot(t, ctx, "omnilink-page-line-account")
	if err := chromedp.Do(ctx, chromedp.Click(`#line-account-follow`), chromedp.WaitVisible(`#conversation`)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); e.count(`SELECT count(*) FROM contacts WHERE external_user_id = '`+sandbox.LINEUserZhihao+`' AND line_friendship = 'friend'`) != 1; {
		if time.Now().After(deadline) {
			t.Fatal("unblocking on the account page did not reach the LINE contact")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := e.count(`SELECT count(*) FROM merges`); n != 0 {
		t.Fatal("a blocked user was linked")
	}

	// A LINE user who never added the account gets the add-friend screen; the sandbox plays
	// LINE's add-friend sub-window for a team member signed in to the console: the user adds
	// the account (LINE's follow webhook arrives), and linking waits for the next tap on the card.
	err = chromedp.Do(ctx,
		chromedp.Navigate(e.app.URL+"/sandbox/liff/"+sandbox.LIFFID+"?t="+tok),
		chromedp.WaitVisible(`#line-app`),
		chromedp.Click(`input[value="`+sandbox.LINEUserAlice+`"]`),
		chromedp.Click(`#line-app-open`),
	)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel = context.WithTimeout(ctx, 20*time.Second)
	err = chromedp.Do(wctx, chromedp.WaitVisible(`section[data-state="friend_required"] [data-add-friend]`))
	if err == nil {
		// Alice's LINE speaks English.
		if title, _ := chromedp.Run(ctx, chromedp.Text(`section[data-state="friend_required"] h1`)); title != "Add us as a friend first" {
			t.Errorf("add-friend screen title %q", title)
		}
		testutil.Screenshot(t, ctx, "omnilink-page-liff-add-friend")
		err = chromedp.Do(wctx, chromedp.Click(`section[data-state="friend_required"] [data-add-friend]`), chromedp.WaitVisible(`section[data-state="friend_added"]`))
	}
	cancel()
	if err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.getAttribute('data-liff-state') + ' ' + document.body.innerText`))
		t.Fatalf("adding the friend from the LIFF page: %v (%s)", err, state)
	}
	if body, _ := chromedp.Run(ctx, chromedp.Text(`section[data-state="friend_added"]`)); !strings.Contains(body, "tap the card again") || strings.Contains(body, "After adding") {
		t.Errorf("after adding the friend the page says %q", body)
	}
	testutil.Screenshot(t, ctx, "omnilink-page-liff-friend-added")
	deadline := time.Now().Add(10 * time.Second)
	for e.count(`SELECT count(*) FROM contacts WHERE channel_id = `+itoa(e.line.ID)+` AND external_user_id = '`+sandbox.LINEUserAlice+`' AND line_friendship = 'friend'`) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the follow webhook never made the LINE user a friend")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := e.count(`SELECT count(*) FROM merges`); n != 0 {
		t.Fatal("adding the friend linked at once")
	}

	// WhatsApp: the prefilled draft with the code, sent as the WhatsApp customer, links.
	u, _ := url.Parse(waLoc)
	err = chromedp.Do(ctx,
		chromedp.Navigate(e.app.URL+u.RequestURI()),
		chromedp.WaitVisible(`#wa-send`),
	)
	if err != nil {
		t.Fatal(err)
	}
	draft, _ := chromedp.Run(ctx, chromedp.Value(`#wa-text`))
	if draft != u.Query().Get("text") {
		t.Errorf("draft %q, want %q", draft, u.Query().Get("text"))
	}
	testutil.Screenshot(t, ctx, "omnilink-page-whatsapp-draft")
	// No sender is chosen for the tester: 陳怡君 tapped this card.
	if picked, _ := chromedp.Run(ctx, chromedp.Value(`#wa-from`)); picked != "" {
		t.Errorf("the draft is preset to send as %q", picked)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(s => (s.value = "`+mustCustomer(t, e, "yijun")+`", true))(document.querySelector('#wa-from'))`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#wa-send`), chromedp.WaitVisible(`#conversation`)); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for e.count(`SELECT count(*) FROM link_attempts WHERE status = 'linked' AND campaign_id = $1`, waCamp.ID) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the WhatsApp draft did not link")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := chromedp.Do(ctx, waitText(`#conversation`, "整合成功，歡迎！")); err != nil {
		t.Fatalf("WhatsApp success message not in the simulator: %v", err)
	}
	testutil.Screenshot(t, ctx, "omnilink-page-whatsapp-success")
}
