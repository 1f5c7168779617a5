package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// editorOp presses one of the editor's block buttons on a served editor page (the form is
// read from the page, the operation posted to the button's formaction) and returns the page.
func editorOp(t *testing.T, page *testutil.Response, set url.Values, op string) *testutil.Response {
	t.Helper()
	f := page.Form("button[name=op][value=" + op + "]")
	for k, v := range set {
		f.Set(k, v...)
	}
	r := f.Submit()
	if r.Status != http.StatusOK {
		t.Fatalf("op %s: %d\n%s", op, r.Status, r.Body)
	}
	return r
}

// saveEditor submits the served editor with set applied to the form's own action.
func saveEditor(t *testing.T, page *testutil.Response, set url.Values) *testutil.Response {
	t.Helper()
	f := page.Form("#module-form")
	for k, v := range set {
		f.Set(k, v...)
	}
	return f.Submit()
}

// forgeEditor submits the served editor with fields no editor offers (more blocks than it
// shows, another platform) forged in, so only the server's rule can refuse them.
func forgeEditor(t *testing.T, page *testutil.Response, forged url.Values) *testutil.Response {
	t.Helper()
	f := page.Form("#module-form")
	for k, v := range forged {
		f.Forge(k, v...)
	}
	return f.Submit()
}

func (ca *campaignApp) campaign(t *testing.T, name string, source, target *models.Channel) *models.Campaign {
	t.Helper()
	admin := ca.User(ca.team.ID, models.RoleAdmin, "admin-"+itoa(source.ID)+"-"+itoa(target.ID)+"@bear.test")
	in := models.NewCampaignInput()
	in.Name, in.SourceChannelID, in.TargetChannelID = name, source.ID, target.ID
	in.Title, in.Text, in.Button = "加入 LINE 好友領折價券", "一鍵完成會員整合", "立即加入"
	in.SuccessTarget = models.Action{Kind: models.ActionText, Text: "歡迎"}
	camp, err := ca.Campaigns.Create(context.Background(), admin, in)
	if err != nil {
		t.Fatal(err)
	}
	return camp
}

func (ca *campaignApp) moduleNamed(t *testing.T, team int64, name string) *models.Module {
	t.Helper()
	list, err := ca.Modules.List(context.Background(), team)
	if err != nil {
		t.Fatal(err)
	}
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}

func TestModuleEditorBuildsInstagramAndLINEModulesWithCards(t *testing.T) {
	ca := newCampaignApp(t)
	c := ca.mkt
	igCamp := ca.campaign(t, "IG 加 LINE", ca.ig, ca.line)

	// Instagram: a text block, then an OmniLink card added with the editor's button.
	path := "/modules/new?platform=instagram"
	page := c.Get(path)
	if page.Status != http.StatusOK || !strings.Contains(page.Body, `id="module-preview"`) {
		t.Fatalf("new module: %d", page.Status)
	}
	page = editorOp(t, page, url.Values{"name": {"IG 綁定"}, "b0_text": {"點下方卡片完成綁定"}}, "add:omnilink_card")
	if !strings.Contains(page.Body, `name="b1_campaign_id"`) || !strings.Contains(page.Body, "點下方卡片完成綁定") {
		t.Fatal("adding a card block lost the text or shows no campaign picker")
	}
	if opts := page.Form("#module-form").Options("b1_campaign_id"); len(opts) != 2 {
		t.Errorf("the card picker offers %v, want only the Instagram-source campaign", opts)
	}
	r := saveEditor(t, page, url.Values{"b1_campaign_id": {itoa(igCamp.ID)}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", r.Status, r.Body)
	}
	ig := ca.moduleNamed(t, ca.team.ID, "IG 綁定")
	if ig == nil || ig.Platform != models.Instagram || len(ig.Blocks) != 2 || ig.Blocks[1].Kind != models.BlockOmniLinkCard || ig.Blocks[1].CampaignID != igCamp.ID {
		t.Fatalf("saved module: %+v", ig)
	}
	// 檢視預覽 shows the campaign's card with a placeholder link, never a minted one.
	view := c.Get("/modules/" + itoa(ig.ID))
	if view.Status != http.StatusOK || !strings.Contains(view.Body, "加入 LINE 好友領折價券") || !strings.Contains(view.Body, "立即加入") ||
		!strings.Contains(view.Body, "/l/preview") {
		t.Errorf("preview page: %d", view.Status)
	}
	// The campaign pickers now list it for Instagram, with the preview and edit links.
	form := c.Get("/campaigns/new")
	if !strings.Contains(form.Body, `<option value="`+itoa(ig.ID)+`" data-platform="instagram"`) {
		t.Error("the campaign form does not offer the module")
	}

	// LINE: a button block whose postback sends the Instagram module is refused (platform).
	path = "/modules/new?platform=line"
	page = c.Get(path)
	page = editorOp(t, page, url.Values{"name": {"LINE 選單"}}, "remove:0")
	page = editorOp(t, page, nil, "add:buttons")
	page = editorOp(t, page, url.Values{"b0_text": {"要做什麼？"}, "b0_btn0_label": {"看菜單"}, "b0_btn0_kind": {"module"}}, "addbtn:0")
	f := page.Form("#module-form")
	if f.Get("b0_btn0_kind") != "module" || f.Get("b0_buttons") != "2" {
		t.Fatalf("button state not kept: %v", f.Values())
	}
	// The picker offers only LINE modules; the Instagram one is forged in.
	r = f.Set("b0_btn1_label", "官網").Set("b0_btn1_url", "https://bear.example/").Forge("b0_btn0_module", itoa(ig.ID)).Submit()
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "屬於其他平台") || ca.moduleNamed(t, ca.team.ID, "LINE 選單") != nil {
		t.Fatalf("postback to another platform's module: %d", r.Status)
	}
	// The same form with a URL button instead saves, and renders as a flex bubble preview.
	r = saveEditor(t, r, url.Values{"b0_btn0_kind": {"url"}, "b0_btn0_url": {"https://bear.example/menu"}, "b0_btn1_label": {"官網"}, "b0_btn1_url": {"https://bear.example/"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("LINE save: %d\n%s", r.Status, r.Body)
	}
	if m := ca.moduleNamed(t, ca.team.ID, "LINE 選單"); m == nil || m.Platform != models.LINE || len(m.Blocks[0].Buttons) != 2 {
		t.Fatalf("LINE module: %+v", m)
	}
}

func TestModuleLimitsArePerPlatformAndNothingIsWrittenOnError(t *testing.T) {
	ca := newCampaignApp(t)
	c := ca.mkt
	lineCamp := ca.campaign(t, "LINE 來源", ca.line, ca.wa)
	save := func(p models.Platform, v url.Values) *testutil.Response {
		t.Helper()
		path := "/modules/new?platform=" + string(p)
		return saveEditor(t, c.Get(path), v)
	}
	forge := func(p models.Platform, v url.Values) *testutil.Response {
		t.Helper()
		return forgeEditor(t, c.Get("/modules/new?platform="+string(p)), v)
	}
	long := strings.Repeat("字", 1001)
	// Instagram takes 1000 characters of text; LINE 5000.
	r := save(models.Instagram, url.Values{"name": {"太長"}, "b0_text": {long}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "1000") || !strings.Contains(r.Body, long) {
		t.Errorf("IG long text: %d (the error and the typed text must show)", r.Status)
	}
	if ca.count(t, "bot_modules") != 0 {
		t.Fatal("a refused module was written")
	}
	if r := save(models.LINE, url.Values{"name": {"長文"}, "b0_text": {long}}); r.Status != http.StatusSeeOther {
		t.Errorf("LINE long text: %d", r.Status)
	}
	// Every problem at once: no name and an empty text.
	r = save(models.Instagram, url.Values{"name": {""}, "b0_text": {""}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="err-name"`) || !strings.Contains(r.Body, "需要文字") {
		t.Errorf("empty module: %d", r.Status)
	}
	// A card of a campaign whose source is LINE cannot go on Instagram.
	r = forge(models.Instagram, url.Values{"name": {"錯平台"}, "blocks": {"1"}, "b0_kind": {"omnilink_card"}, "b0_campaign_id": {itoa(lineCamp.ID)}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "來源渠道不是這個平台") {
		t.Errorf("card of a LINE campaign on Instagram: %d", r.Status)
	}
	// More than five messages is more than one LINE push.
	v := url.Values{"name": {"六則"}, "blocks": {"6"}}
	for i := range 6 {
		v.Set("b"+itoa(int64(i))+"_kind", "text")
		v.Set("b"+itoa(int64(i))+"_text", "第幾則")
	}
	if r := forge(models.LINE, v); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "最多傳送 5 則") {
		t.Errorf("six LINE messages: %d", r.Status)
	}
	// More blocks than the editor offers (a forged form) is a field error.
	v = url.Values{"name": {"十一"}, "blocks": {"11"}}
	for i := range 11 {
		v.Set("b"+itoa(int64(i))+"_kind", "text")
		v.Set("b"+itoa(int64(i))+"_text", "x")
	}
	if r := forge(models.Instagram, v); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "最多 10 個區塊") {
		t.Errorf("eleven blocks: %d", r.Status)
	}
	// A forged platform is a field error, not a 500.
	if r := forge("myspace", url.Values{"platform": {"myspace"}, "name": {"x"}}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("unknown platform: %d", r.Status)
	}
	if n := ca.count(t, "bot_modules"); n != 1 {
		t.Errorf("%d modules written, want only the LINE one", n)
	}
}

func TestModulesAndTriggersAreTeamScopedAndDeleteSaysWhereUsed(t *testing.T) {
	ca := newCampaignApp(t)
	c := ca.mkt
	ctx := context.Background()
	owner := ca.User(ca.team.ID, models.RoleAdmin, "owner@bear.test")
	stranger := ca.User(ca.other.ID, models.RoleAdmin, "owner@other.test")
	mine, err := ca.Modules.Create(ctx, owner, models.ModuleInput{Name: "LINE 歡迎", Platform: models.LINE,
		Blocks: models.ModuleBlocks{{Block: models.Block{Kind: models.BlockText, Text: "歡迎"}}}})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := ca.Modules.Create(ctx, stranger, models.ModuleInput{Name: "別人的", Platform: models.LINE,
		Blocks: models.ModuleBlocks{{Block: models.Block{Kind: models.BlockText, Text: "hi"}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/modules/" + itoa(theirs.ID), "/modules/" + itoa(theirs.ID) + "/edit"} {
		if r := c.Get(p); r.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, r.Status)
		}
	}
	if r := handMade(c, "/modules/"+itoa(theirs.ID)+"/delete", nil); r.Status != http.StatusNotFound {
		t.Errorf("delete another team's module: %d", r.Status)
	}
	if r := handMade(c, "/modules/"+itoa(theirs.ID), url.Values{"name": {"x"}, "blocks": {"1"}, "b0_kind": {"text"}, "b0_text": {"x"}}); r.Status != http.StatusNotFound {
		t.Errorf("update another team's module: %d", r.Status)
	}
	// A button that sends another team's module is refused like an unknown one.
	r := handMade(c, "/modules", url.Values{"platform": {"line"}, "name": {"偷"}, "blocks": {"1"}, "b0_kind": {"buttons"},
		"b0_text": {"x"}, "b0_buttons": {"1"}, "b0_btn0_label": {"go"}, "b0_btn0_kind": {"module"}, "b0_btn0_module": {itoa(theirs.ID)}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "請為回傳按鈕選擇") {
		t.Errorf("postback to another team's module: %d", r.Status)
	}

	// Triggers: another team's channel or module is 404; a wrong-platform module a field error.
	trig := func(v url.Values) *testutil.Response { return c.Submit("/triggers", "/triggers", v) }
	if r := trig(url.Values{"channel_id": {itoa(ca.otherLine.ID)}, "kind": {"exact"}, "pattern": {"hi"}, "module_id": {itoa(mine.ID)}}); r.Status != http.StatusNotFound {
		t.Errorf("trigger on another team's channel: %d", r.Status)
	}
	if r := trig(url.Values{"channel_id": {itoa(ca.line.ID)}, "kind": {"exact"}, "pattern": {"hi"}, "module_id": {itoa(theirs.ID)}}); r.Status != http.StatusNotFound {
		t.Errorf("trigger with another team's module: %d", r.Status)
	}
	if r := trig(url.Values{"channel_id": {itoa(ca.ig.ID)}, "kind": {"exact"}, "pattern": {"hi"}, "module_id": {itoa(mine.ID)}}); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "屬於其他平台") {
		t.Errorf("LINE module on Instagram: %d", r.Status)
	}
	if r := trig(url.Values{"channel_id": {itoa(ca.line.ID)}, "kind": {"exact"}, "pattern": {"  "}, "module_id": {itoa(mine.ID)}}); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "請輸入關鍵字") {
		t.Errorf("blank keyword: %d", r.Status)
	}
	if r := trig(url.Values{"channel_id": {itoa(ca.line.ID)}, "kind": {"exact"}, "pattern": {"綁定"}, "module_id": {itoa(mine.ID)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("trigger: %d\n%s", r.Status, r.Body)
	}
	if r := trig(url.Values{"channel_id": {itoa(ca.line.ID)}, "kind": {"exact"}, "pattern": {"綁定 "}, "module_id": {itoa(mine.ID)}}); r.Status != http.StatusConflict {
		t.Errorf("the same keyword twice: %d", r.Status)
	}
	if ca.count(t, "triggers") != 1 {
		t.Fatal("refused triggers were written")
	}

	// In use by the trigger and by a campaign: not deleted, and both are named.
	camp := ca.campaign(t, "LINE 成功訊息", ca.ig, ca.line)
	in := camp.Input()
	in.SuccessTarget = models.Action{Kind: models.ActionModule, ModuleID: &mine.ID}
	if _, err := ca.Campaigns.Update(ctx, owner, camp.ID, in); err != nil {
		t.Fatal(err)
	}
	r = c.Submit("/modules", "/modules/"+itoa(mine.ID)+"/delete", nil)
	list := c.Get(r.Location)
	if r.Status != http.StatusSeeOther || !strings.Contains(list.Body, "仍在使用中") || !strings.Contains(list.Body, "LINE 成功訊息") || !strings.Contains(list.Body, "綁定") {
		t.Errorf("delete while used: %d", r.Status)
	}
	if ca.moduleNamed(t, ca.team.ID, "LINE 歡迎") == nil {
		t.Fatal("a used module was deleted")
	}
	// Once nothing uses it, it goes.
	rows, _ := ca.Triggers.List(ctx, ca.team.ID)
	c.Submit("/triggers", "/triggers/"+itoa(rows[0].ID)+"/delete", nil)
	in.SuccessTarget = models.Action{Kind: models.ActionText, Text: "歡迎"}
	in.Version++
	if _, err := ca.Campaigns.Update(ctx, owner, camp.ID, in); err != nil {
		t.Fatal(err)
	}
	if r := c.Submit("/modules", "/modules/"+itoa(mine.ID)+"/delete", nil); r.Status != http.StatusSeeOther || ca.moduleNamed(t, ca.team.ID, "LINE 歡迎") != nil {
		t.Errorf("delete unused: %d", r.Status)
	}
}

func TestModulePagesAreForCampaignRolesOnly(t *testing.T) {
	ca := newCampaignApp(t)
	ca.User(ca.team.ID, models.RoleAgent, "agent@bear.test")
	agent := ca.Client()
	agent.Login("agent@bear.test", testutil.Password)
	for _, p := range []string{"/modules", "/modules/new", "/triggers"} {
		if r := agent.Get(p); r.Status != http.StatusForbidden {
			t.Errorf("agent GET %s: %d, want 403", p, r.Status)
		}
	}
	if r := agent.Get("/"); strings.Contains(r.Body, `href="/modules"`) {
		t.Error("the agent's navigation links to modules")
	}
	if r := ca.mkt.Get("/"); !strings.Contains(r.Body, `href="/modules"`) || !strings.Contains(r.Body, `href="/triggers"`) {
		t.Error("the marketer's navigation lacks modules or triggers")
	}
}
