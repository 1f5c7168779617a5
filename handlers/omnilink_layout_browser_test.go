package handlers_test

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"testing"

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
	browserLogin(t, b, a.URL, admin.Email)
	checkLayoutInBothLanguages(t, b, a.URL, []layoutPage{
		{"overview-campaigns", "/", nil},
		{"campaigns", "/campaigns", nil},
		{"campaign-new", "/campaigns/new", nil},
		{"campaign-edit", "/campaigns/" + cid, nil},
		{"campaign-stats", "/campaigns/" + cid + "/stats", nil},
		{"campaign-history", "/campaigns/" + cid + "/history", nil},
		{"campaign-send", "/campaigns/" + cid + "/send", nil},
		{"modules", "/modules", nil},
		{"module-new", "/modules/new", nil},
		{"module", "/modules/" + module, nil},
		{"module-edit", "/modules/" + module + "/edit", nil},
		{"triggers", "/triggers", nil},
		{"customers", "/customers", nil},
		{"customer", "/customers/" + customer, nil},
		{"customer-merge", "/customers/" + customer + "/merge?with=" + other, nil},
		{"customer-import", "/customers/import", nil},
		{"tags", "/tags", nil},
		{"tag", "/tags/" + tag, nil},
		{"journeys", "/journeys", nil},
		{"journey", "/journeys/" + journey, nil},
		{"settings-webhook", "/settings/webhook", nil},
		{"settings-alerts", "/settings/alerts", nil},
		{"simulator-card", "/sandbox/simulator?" + sim.Encode(), nil},
	})
}
