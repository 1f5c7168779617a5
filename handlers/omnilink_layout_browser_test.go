package handlers_test

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/seed"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// TestBrowserLayoutOmniLinkPages walks every page of the campaign half at laptop and phone size
// in both languages, on the demo team `make run` seeds, after a customer linked and one was
// refused, and fails on the same problems as the console walk (sideways scrolling, squeezed
// text, raw keys, ASCII colons in Chinese, error pages).
func TestBrowserLayoutOmniLinkPages(t *testing.T) {
	a := testutil.NewApp(t)
	ctx := context.Background()
	team, admin := sbTeam(t, a)
	campIDs, err := seed.Campaigns(ctx, a.Store, a.Campaigns, admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.DemoModules(ctx, a.Store, a.Modules, a.Triggers, admin.ID); err != nil {
		t.Fatal(err)
	}
	if err := seed.SandboxTagRules(ctx, a.Store, a.Sandbox, team.ID, admin.ID); err != nil {
		t.Fatal(err)
	}
	camp, err := a.Store.Campaign(ctx, team.ID, campIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	e := &linkEnv{t: t, app: a, team: team, ig: sbChannel(t, a, team.ID, models.Instagram), line: sbChannel(t, a, team.ID, models.LINE),
		wa: sbChannel(t, a, team.ID, models.WhatsApp), camp: camp}

	// 王小明 links; 陳怡君 is refused for a member-number conflict; Alice only taps the card.
	ming := e.cardLink(camp.ID, e.customer(e.ig, "xiaoming"))
	e.get("/l/"+ming, uaIGiOS)
	if r := e.post(map[string]any{"token": ming, "idToken": e.idToken(sandbox.LINEUserXiaoming), "friend": true}); r.Status != "linked" {
		t.Fatalf("link: %+v", r)
	}
	yijunIG := e.customer(e.ig, "yijun")
	yi := e.cardLink(camp.ID, yijunIG)
	e.get("/l/"+yi, uaFBAndroid)
	pool := a.SQL()
	pool.Exec(ctx, `UPDATE customers SET member_no = 'M1' WHERE id = (SELECT customer_id FROM contacts WHERE id = $1)`, yijunIG)
	yijunLINE := e.customer(e.line, "yijun")
	pool.Exec(ctx, `UPDATE customers SET member_no = 'M2' WHERE id = (SELECT customer_id FROM contacts WHERE id = $1)`, yijunLINE)
	e.post(map[string]any{"token": yi, "idToken": e.idToken(sandbox.LINEUserYijun), "friend": true})
	e.get("/l/"+e.cardLink(camp.ID, e.customer(e.ig, "alice")), uaDesktop)

	id := func(q string) string {
		return strconv.Itoa(e.count(q))
	}
	customer := id(`SELECT customer_id FROM contacts WHERE external_user_id = '` + sandbox.LINEUserXiaoming + `'`)
	other := id(fmt.Sprintf(`SELECT customer_id FROM contacts WHERE id = %d`, yijunIG))
	module := id(`SELECT min(id) FROM bot_modules`)
	tag := id(`SELECT min(id) FROM tags`)
	journey := id(`SELECT min(id) FROM journeys`)
	cid := strconv.FormatInt(camp.ID, 10)
	igsid, _ := a.Sandbox.CustomerID("xiaoming", sandbox.PlatformInstagram, sandbox.BearBakeryIGID)
	sim := url.Values{"account": {strconv.FormatInt(e.ig.ID, 10)}, "customer": {igsid}}

	b := testutil.Browser(t)
	err = chromedp.Do(b,
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
	pages := []struct{ name, path string }{
		{"campaigns", "/campaigns"},
		{"campaign-new", "/campaigns/new"},
		{"campaign-edit", "/campaigns/" + cid},
		{"campaign-stats", "/campaigns/" + cid + "/stats"},
		{"campaign-history", "/campaigns/" + cid + "/history"},
		{"campaign-send", "/campaigns/" + cid + "/send"},
		{"modules", "/modules"},
		{"module-new", "/modules/new"},
		{"module", "/modules/" + module},
		{"module-edit", "/modules/" + module + "/edit"},
		{"triggers", "/triggers"},
		{"customers", "/customers"},
		{"customer", "/customers/" + customer},
		{"customer-merge", "/customers/" + customer + "/merge?other=" + other},
		{"customer-import", "/customers/import"},
		{"tags", "/tags"},
		{"tag", "/tags/" + tag},
		{"journeys", "/journeys"},
		{"journey", "/journeys/" + journey},
		{"settings-webhook", "/settings/webhook"},
		{"settings-alerts", "/settings/alerts"},
		{"simulator-card", "/sandbox/simulator?" + sim.Encode()},
	}
	for _, lang := range []string{"zh-TW", "en"} {
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
			testutil.CheckLayout(t, b, a.URL+p.path, "layout-"+p.name+"-"+lang)
		}
	}
}
