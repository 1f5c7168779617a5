package handlers_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// TestBrowserModuleAndTriggerOnAPhone builds an Instagram module with a text and an OmniLink
// card in the editor at phone size in zh-TW, watching the preview follow, adds a keyword
// trigger, and types the keyword as the customer in the simulator to see the reply.
func TestBrowserModuleAndTriggerOnAPhone(t *testing.T) {
	a := testutil.NewApp(t)
	team, admin := sbTeam(t, a)
	ctx0 := context.Background()
	ig := sbChannel(t, a, team.ID, models.Instagram)
	lineCh := sbChannel(t, a, team.ID, models.LINE)
	in := models.NewCampaignInput()
	in.Name, in.SourceChannelID, in.TargetChannelID = "IG 加 LINE", ig.ID, lineCh.ID
	in.Title, in.Text, in.Button = "加入 LINE 好友領折價券", "一鍵完成會員整合", "立即加入"
	in.SuccessTarget = models.Action{Kind: models.ActionText, Text: "歡迎"}
	camp, err := a.Campaigns.Create(ctx0, admin, in)
	if err != nil {
		t.Fatal(err)
	}
	// The reply module is text and buttons: cards need the link runtime to go out live.
	reply, err := a.Modules.Create(ctx0, admin, models.ModuleInput{Name: "IG 歡迎", Platform: models.Instagram, Blocks: models.ModuleBlocks{
		{Block: models.Block{Kind: models.BlockText, Text: "歡迎光臨小熊烘焙坊"}},
		{Block: models.Block{Kind: models.BlockButtons, Text: "想看什麼？", Buttons: []models.Button{{Kind: models.ButtonURL, Label: "官網", URL: "https://bear.example/"}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	igsid, _ := a.Sandbox.CustomerID("xiaoming", sandbox.PlatformInstagram, ig.ExternalID)

	ctx := testutil.Browser(t)
	choose := func(sel, value string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](`(function(){var s=document.querySelector('` + sel + `');s.value="` + value + `";s.dispatchEvent(new Event('change',{bubbles:true}));})()`)
	}
	poll := func(js string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Poll[bool](js)(ctx, tg)
			return chromedp.Void{}, err
		}
	}
	noSideScroll := func(where string) {
		t.Helper()
		wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
		if err != nil || wide {
			testutil.Screenshot(t, ctx, "module-side-scroll")
			t.Fatalf("%s scrolls sideways at phone width (%v)", where, err)
		}
	}
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(a.URL+"/login"),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.SendKeys(`input[name=email]`, admin.Email),
		chromedp.SendKeys(`input[name=password]`, testutil.Password),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`main#main h1`),
	); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		act  chromedp.Action[chromedp.Void]
	}{
		{"modules", chromedp.Navigate(a.URL + "/modules")},
		{"new Instagram module", chromedp.Click(`#new-module-instagram`)},
		{"editor", chromedp.WaitVisible(`#module-form`)},
		{"name", chromedp.SendKeys(`input[name=name]`, "IG 綁定")},
		{"text", chromedp.SendKeys(`textarea[name=b0_text]`, "點下方卡片完成綁定")},
		{"text previewed", poll(`!!document.querySelector('#module-preview .pv-text') && document.querySelector('#module-preview .pv-text').textContent === '點下方卡片完成綁定'`)},
		{"add a card", chromedp.Click(`#add-omnilink_card`)},
		{"card picker", chromedp.WaitVisible(`select[name=b1_campaign_id]`)},
		{"text kept", poll(`document.querySelector('textarea[name=b0_text]').value === '點下方卡片完成綁定'`)},
		{"campaign", choose(`select[name=b1_campaign_id]`, itoa(camp.ID))},
		{"card previewed", poll(`!!document.querySelector('#module-preview .pv-card .card-title') && document.querySelector('#module-preview .pv-card .card-title').textContent === '加入 LINE 好友領折價券'`)},
		// A button block: choosing "send another module" swaps the URL field for the module picker.
		{"add buttons", chromedp.Click(`#add-buttons`)},
		{"buttons block", chromedp.WaitVisible(`textarea[name=b2_text]`)},
		{"campaign kept", poll(`document.querySelector('select[name=b1_campaign_id]').value === '` + itoa(camp.ID) + `'`)},
		{"url field first", poll(`getComputedStyle(document.querySelector('input[name=b2_btn0_url]')).display !== 'none'`)},
		{"button sends a module", choose(`select[name=b2_btn0_kind]`, "module")},
		{"module picker shown", poll(`getComputedStyle(document.querySelector('input[name=b2_btn0_url]')).display === 'none' && getComputedStyle(document.querySelector('select[name=b2_btn0_module]')).display !== 'none'`)},
		{"move it up", chromedp.Click(`button[value="up:2"]`)},
		{"moved", chromedp.WaitVisible(`textarea[name=b1_text]`)},
		{"remove it", chromedp.Click(`button[value="remove:1"]`)},
		{"reloaded", chromedp.WaitVisible(`select[name=b1_campaign_id]`)},
		{"removed", poll(`!document.querySelector('textarea[name=b1_text]') && document.querySelector('select[name=b1_campaign_id]').value === '` + itoa(camp.ID) + `'`)},
	}
	run := func(name string, act chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := chromedp.Do(sctx, act)
		cancel()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			testutil.Screenshot(t, ctx, "module-phone-failed")
			t.FailNow()
		}
	}
	for _, st := range steps {
		run(st.name, st.act)
	}
	noSideScroll("the module editor")
	testutil.Screenshot(t, ctx, "module-editor-phone")
	run("save", chromedp.Click(`#save-module`))
	run("saved", chromedp.WaitVisible(`.flash-success`))
	run("saved message", poll(`document.body.textContent.includes('已建立模組「IG 綁定」')`))

	// A keyword trigger on Instagram answering with the reply module.
	for _, st := range []struct {
		name string
		act  chromedp.Action[chromedp.Void]
	}{
		{"triggers", chromedp.Navigate(a.URL + "/triggers")},
		{"channel", choose(`select[name=channel_id]`, itoa(ig.ID))},
		{"kind", choose(`select[name=kind]`, "exact")},
		{"keyword", chromedp.SendKeys(`input[name=pattern]`, "link")},
		{"module", choose(`select[name=module_id]`, itoa(reply.ID))},
		{"add", chromedp.Click(`#save-trigger`)},
		{"listed", chromedp.WaitVisible(`#trigger-list`)},
		{"listed keyword", poll(`document.querySelector('#trigger-list').textContent.includes('link')`)},
		{"simulator", chromedp.Navigate(a.URL + "/sandbox/simulator?" + url.Values{"account": {itoa(ig.ID)}, "customer": {igsid}}.Encode())},
		{"type the keyword", chromedp.SendKeys(`#simulator-send input[name=text]`, "ＬＩＮＫ")},
		{"send", chromedp.Click(`#simulator-send button[type=submit]`)},
		{"sent", chromedp.WaitVisible(`.flash-success`)},
		{"reply shown", poll(`!!document.querySelector('#conversation .sim-card') && document.querySelector('#conversation').textContent.includes('歡迎光臨小熊烘焙坊')`)},
	} {
		run(st.name, st.act)
	}
	noSideScroll("the simulator")
	testutil.Screenshot(t, ctx, "module-trigger-simulator-phone")
	body, err := chromedp.Run(ctx, chromedp.Text(`#conversation`))
	if err != nil || !strings.Contains(body, "官網") {
		t.Fatalf("the card's button is not shown: %q %v", body, err)
	}
}
