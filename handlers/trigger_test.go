package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/automation"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// waitOutbound waits until the sandbox has recorded want messages from the business to the
// customer and returns them.
func waitOutbound(t *testing.T, a *testutil.TestApp, p sandbox.Platform, account, customer string, want int) []sandbox.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var out []sandbox.Message
		for _, m := range a.Sandbox.Conversation(p, account, customer) {
			if m.Direction == sandbox.Outbound {
				out = append(out, m)
			}
		}
		if len(out) >= want || time.Now().After(deadline) {
			if len(out) < want {
				t.Fatalf("%s: %d messages from the business, want %d", p, len(out), want)
			}
			return out
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func countSQL(t *testing.T, a *testutil.TestApp, q string, args ...any) int {
	t.Helper()
	var n int
	if err := a.SQL().QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestKeywordTriggerRepliesThroughTheSandboxAndPostbacksSendModules(t *testing.T) {
	a := testutil.NewApp(t)
	team, admin := sbTeam(t, a)
	ctx := context.Background()
	c := a.Client()
	c.Login(admin.Email, testutil.Password)
	ig := sbChannel(t, a, team.ID, models.Instagram)
	lineCh := sbChannel(t, a, team.ID, models.LINE)

	menu, err := a.Modules.Create(ctx, admin, models.ModuleInput{Name: "IG 菜單", Platform: models.Instagram,
		Blocks: models.ModuleBlocks{{Block: models.Block{Kind: models.BlockText, Text: "今日菜單：可頌、司康"}}}})
	if err != nil {
		t.Fatal(err)
	}
	welcome, err := a.Modules.Create(ctx, admin, models.ModuleInput{Name: "IG 歡迎", Platform: models.Instagram, Blocks: models.ModuleBlocks{
		{Block: models.Block{Kind: models.BlockText, Text: "歡迎光臨小熊烘焙坊"}},
		{Block: models.Block{Kind: models.BlockButtons, Text: "想看什麼？", Buttons: []models.Button{
			{Kind: models.ButtonPostback, Label: "看菜單", Payload: models.ModulePayload(menu.ID)},
			{Kind: models.ButtonURL, Label: "官網", URL: "https://bear.example/"}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	flex, err := a.Modules.Create(ctx, admin, models.ModuleInput{Name: "LINE 綁定", Platform: models.LINE, Blocks: models.ModuleBlocks{
		{Block: models.Block{Kind: models.BlockButtons, Text: "綁定會員享好禮", Buttons: []models.Button{{Kind: models.ButtonURL, Label: "前往綁定", URL: "https://bear.example/bind"}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []url.Values{
		{"channel_id": {itoa(ig.ID)}, "kind": {"exact"}, "pattern": {"Link"}, "module_id": {itoa(welcome.ID)}},
		{"channel_id": {itoa(lineCh.ID)}, "kind": {"contains"}, "pattern": {"綁定"}, "module_id": {itoa(flex.ID)}},
	} {
		if r := c.Submit("/triggers", "/triggers", v); r.Status != http.StatusSeeOther {
			t.Fatalf("trigger: %d\n%s", r.Status, r.Body)
		}
	}
	say := func(ch *models.Channel, customer, text string) {
		t.Helper()
		from := "/sandbox/simulator?" + url.Values{"account": {itoa(ch.ID)}, "customer": {customer}}.Encode()
		r := c.Submit(from, "/sandbox/simulator/send", url.Values{"account": {itoa(ch.ID)}, "customer": {customer}, "kind": {"text"}, "text": {text}})
		if r.Status != http.StatusSeeOther || r.Header.Get("X-Sandbox-Webhook-Status") != "200" {
			t.Fatalf("simulate %q: %d / webhook %s", text, r.Status, r.Header.Get("X-Sandbox-Webhook-Status"))
		}
	}

	// Instagram: the keyword in full-width capitals still matches; the module goes out as a
	// text and a generic template whose postback names the menu module.
	igsid, ok := a.Sandbox.CustomerID("xiaoming", sandbox.PlatformInstagram, ig.ExternalID)
	if !ok {
		t.Fatal("no Instagram customer")
	}
	say(ig, igsid, "ＬＩＮＫ")
	out := waitOutbound(t, a, sandbox.PlatformInstagram, ig.ExternalID, igsid, 2)
	if out[0].Text != "歡迎光臨小熊烘焙坊" || out[1].Kind != "template" || !strings.Contains(string(out[1].Payload), `"template_type":"generic"`) ||
		!strings.Contains(string(out[1].Payload), `"payload":"module:`+itoa(menu.ID)+`"`) {
		t.Fatalf("Instagram reply: %+v / %s", out, out[1].Payload)
	}
	// Another word does not match an exact keyword.
	say(ig, igsid, "link please")

	// The simulator shows the template as a card; tapping its postback button (the served
	// form) sends the signed postback webhook, and the trigger path sends the menu module.
	convPath := "/sandbox/simulator/conversation?" + url.Values{"account": {itoa(ig.ID)}, "customer": {igsid}}.Encode()
	conv := c.Get(convPath)
	if !strings.Contains(conv.Body, `class="sim-card"`) || !strings.Contains(conv.Body, `href="https://bear.example/"`) {
		t.Fatalf("the simulator does not show the card with its link button:\n%s", conv.Body)
	}
	tap := conv.Form("form[action=/sandbox/simulator/send]")
	if tap.Get("kind") != "postback" || tap.Get("payload") != models.ModulePayload(menu.ID) {
		t.Fatalf("postback button form: %v", tap.Values())
	}
	if r := tap.Submit(); r.Status != http.StatusSeeOther || r.Header.Get("X-Sandbox-Webhook-Status") != "200" {
		t.Fatalf("tap: %d / webhook %s", r.Status, r.Header.Get("X-Sandbox-Webhook-Status"))
	}
	// A payload the business never sent cannot be tapped.
	forged := url.Values{"_csrf": {c.CSRF()}, "account": {itoa(ig.ID)}, "customer": {igsid}, "kind": {"postback"}, "payload": {"module:999"}}
	if r := c.Post("/sandbox/simulator/send", forged); r.Status == http.StatusSeeOther && r.Header.Get("X-Sandbox-Webhook-Status") != "" {
		t.Error("a postback nobody was offered was delivered")
	}
	out = waitOutbound(t, a, sandbox.PlatformInstagram, ig.ExternalID, igsid, 3)
	if out[2].Text != "今日菜單：可頌、司康" {
		t.Fatalf("postback reply: %+v", out[2])
	}

	// LINE: contains-match inside a sentence; the reply is a flex bubble with the button.
	say(lineCh, sandbox.LINEUserXiaoming, "我想要綁定會員")
	lo := waitOutbound(t, a, sandbox.PlatformLINE, lineCh.ExternalID, sandbox.LINEUserXiaoming, 1)
	if lo[0].Kind != "flex" || !strings.Contains(string(lo[0].Payload), `"type":"bubble"`) || !strings.Contains(string(lo[0].Payload), "前往綁定") {
		t.Fatalf("LINE reply: %+v / %s", lo[0], lo[0].Payload)
	}
	lconv := c.Get("/sandbox/simulator/conversation?" + url.Values{"account": {itoa(lineCh.ID)}, "customer": {sandbox.LINEUserXiaoming}}.Encode())
	if !strings.Contains(lconv.Body, `sim-card sim-flex`) || !strings.Contains(lconv.Body, `href="https://bear.example/bind"`) {
		t.Error("the simulator does not show the flex bubble with its button")
	}
	// A fresh event is answered with its reply token, not a push.
	if n := countSQL(t, a, `SELECT count(*) FROM outbox WHERE payload ? 'reply_token'`); n != 1 {
		t.Errorf("%d sends carried the reply token, want 1", n)
	}

	// A storm: the customer repeats the keyword; replies stop at the per-contact limit.
	for range automation.StormLimit + 2 {
		say(ig, igsid, "link")
	}
	deadline := time.Now().Add(10 * time.Second)
	for countSQL(t, a, `SELECT count(*) FROM webhook_events WHERE processed_at IS NULL`) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := countSQL(t, a, `SELECT count(*) FROM message_sends WHERE team_id = $1 AND cause LIKE 'trigger:%' AND channel_id = $2`, team.ID, ig.ID); n != automation.StormLimit {
		t.Errorf("%d trigger replies on Instagram, want the limit %d", n, automation.StormLimit)
	}
}
