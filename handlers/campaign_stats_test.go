package handlers_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// statsEnv is the link environment after three participations in its campaign: 王小明 linked
// (a new LINE contact), 陳怡君 refused for a member-number conflict, Alice clicked and left,
// 志豪 reached the LIFF page but has blocked the LINE account.
func newStatsEnv(t *testing.T) (*linkEnv, *testutil.Client) {
	t.Helper()
	e := newLinkEnv(t)
	ctx := context.Background()
	pool := e.app.SQL()

	ming := e.cardLink(e.camp.ID, e.customer(e.ig, "xiaoming"))
	if s, _, _ := e.get("/l/"+ming, uaIGiOS); s >= 400 {
		t.Fatalf("click: %d", s)
	}
	if a := e.post(map[string]any{"token": ming, "idToken": e.idToken(sandbox.LINEUserXiaoming), "friend": true}); a.Status != "linked" {
		t.Fatalf("link: %+v", a)
	}

	yijunIG := e.customer(e.ig, "yijun")
	yi := e.cardLink(e.camp.ID, yijunIG)
	if s, _, _ := e.get("/l/"+yi, uaFBAndroid); s >= 500 {
		t.Fatalf("click: %d", s)
	}
	// The Android Facebook page does not send the customer on; the LIFF page is reached anyway.
	pool.Exec(ctx, `UPDATE customers SET member_no = 'M1' WHERE id = (SELECT customer_id FROM contacts WHERE id = $1)`, yijunIG)
	yijunLINE := e.customer(e.line, "yijun")
	pool.Exec(ctx, `UPDATE customers SET member_no = 'M2' WHERE id = (SELECT customer_id FROM contacts WHERE id = $1)`, yijunLINE)
	if a := e.post(map[string]any{"token": yi, "idToken": e.idToken(sandbox.LINEUserYijun), "friend": true}); a.Reason != "member_conflict" {
		t.Fatalf("conflict: %+v", a)
	}

	al := e.cardLink(e.camp.ID, e.customer(e.ig, "alice"))
	if s, _, _ := e.get("/l/"+al, uaDesktop); s >= 400 {
		t.Fatalf("click: %d", s)
	}
	now := time.Now()
	zhIG, _, err := e.app.Store.UpsertContact(ctx, store.ContactActivity{TeamID: e.team.ID, ChannelID: e.ig.ID, ExternalUserID: "17842000000000099", Name: "zhihao", InboundAt: &now})
	if err != nil {
		t.Fatal(err)
	}
	zh := e.cardLink(e.camp.ID, zhIG)
	if s, _, _ := e.get("/l/"+zh, uaIGiOS); s >= 400 {
		t.Fatalf("click: %d", s)
	}
	if a := e.post(map[string]any{"token": zh, "idToken": e.idToken(sandbox.LINEUserZhihao), "friend": false}); a.Status != "friend_required" {
		t.Fatalf("blocked: %+v", a)
	}
	e.app.User(e.team.ID, models.RoleMarketer, "marketer@bear.test")
	c := e.app.Client()
	c.Login("marketer@bear.test", testutil.Password)
	return e, c
}

func TestCampaignStatsShowFiguresListsAndFunnel(t *testing.T) {
	e, c := newStatsEnv(t)
	path := "/campaigns/" + itoa(e.camp.ID) + "/stats"

	// The campaign list links to the statistics.
	if r := c.Get("/campaigns"); !strings.Contains(r.Body, `href="`+path+`"`) {
		t.Fatal("campaign list has no statistics link")
	}
	r := c.Get(path)
	if r.Status != http.StatusOK {
		t.Fatalf("stats: %d\n%s", r.Status, r.Body)
	}
	for id, want := range map[string]string{"fig-participants": "4", "fig-successes": "1", "fig-failures": "3", "fig-new-targets": "1"} {
		if !strings.Contains(r.Body, `id="`+id+`">`+want+`<`) {
			t.Errorf("%s != %s", id, want)
		}
	}
	for _, want := range []string{"會員編號衝突", "因顧客未送出整合訊息或未安裝目標渠道 APP 失敗", "王小明", "17842000000000001", sandbox.LINEUserXiaoming,
		"yijun", "alice", "已開啟 LINE", "需要加好友", "<svg", "polyline", "Facebook App 內", "Instagram App 內", "Asia/Taipei", `id="stats-export-form"`} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("stats page lacks %q", want)
		}
	}
	if strings.Contains(r.Body, "stats.") {
		t.Error("raw message key on the page")
	}
	// Whoever got further reached the target: no step outnumbers the one before it, in any
	// slice (王小明 tapped inside Instagram on iOS, 陳怡君 inside Facebook on Android).
	if n := e.count(`SELECT count(*) FROM (SELECT device, os, in_app FROM link_stats_sent GROUP BY 1, 2, 3
		HAVING sum(linked) > sum(opened) OR sum(friend) > sum(opened) OR sum(opened) > sum(clicked)) x`); n != 0 {
		t.Errorf("%d funnel slices where a later step outnumbers an earlier one", n)
	}
	// A participation without a stored reason says where it stopped; a reason needs no note.
	fail := r.Body[strings.Index(r.Body, `id="failures"`):]
	for who, stage := range map[string]string{"zhihao": "停在加入好友畫面", "alice": "已點擊卡片，但未前往目標渠道", "yijun": ""} {
		row := fail[strings.Index(fail, who):]
		row = row[:strings.Index(row, "</tr>")]
		if stage == "" && strings.Contains(row, `class="muted stage"`) || !strings.Contains(row, stage) {
			t.Errorf("%s stage: %s", who, row)
		}
	}
	// The success list shows only the linked one; the failure list the other three.
	succ := r.Body[strings.Index(r.Body, `id="successes"`):strings.Index(r.Body, `id="failures"`)]
	if !strings.Contains(succ, "王小明") || strings.Contains(succ, "yijun") || strings.Contains(succ, "alice") {
		t.Error("success list wrong")
	}

	// Search by name or id narrows both lists; the figures stay.
	r = c.Get(path + "?q=17842000000000004")
	fail = r.Body[strings.Index(r.Body, `id="failures"`):]
	if !strings.Contains(fail, "alice") || strings.Contains(fail, "yijun") || !strings.Contains(r.Body, `id="fig-participants">4<`) {
		t.Error("search by id")
	}
	// Part of a name finds the participation too.
	r = c.Get(path + "?q=" + url.QueryEscape("小明"))
	if succ := r.Body[strings.Index(r.Body, `id="successes"`):strings.Index(r.Body, `id="failures"`)]; !strings.Contains(succ, "王小明") ||
		strings.Contains(r.Body[strings.Index(r.Body, `id="failures"`):], "alice") {
		t.Error("search by part of a name")
	}
	// A range before the clicks shows nothing.
	r = c.Get(path + "?from=2020-01-01&to=2020-01-31")
	if !strings.Contains(r.Body, `id="fig-participants">0<`) {
		t.Error("range filter ignored")
	}
	// Bad dates: field errors, 422, never a 500.
	r = c.Get(path + "?from=yesterday&to=2020-01-01")
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "請輸入日期") {
		t.Fatalf("bad date: %d", r.Status)
	}
	r = c.Get(path + "?from=2020-02-01&to=2020-01-01")
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "結束日期不能早於開始日期") {
		t.Fatalf("reversed range: %d", r.Status)
	}
	// The hourly counters the page reads agree with the participations, also after a contact
	// (and with it its participation) is deleted.
	counters := func() {
		t.Helper()
		if n := e.count(`SELECT count(*) FROM (SELECT status, reason, target_created, count(*) AS n FROM link_attempts WHERE first_clicked_at IS NOT NULL GROUP BY 1, 2, 3
			EXCEPT SELECT status, reason, target_created, sum(n) FROM link_stats_clicks GROUP BY 1, 2, 3 HAVING sum(n) <> 0) d`); n != 0 {
			t.Fatal("click counters drifted")
		}
		if n := e.count(`SELECT (SELECT count(*) FROM link_attempts WHERE status = 'linked') - (SELECT coalesce(sum(linked), 0) FROM link_stats_sent)`); n != 0 {
			t.Fatal("funnel counters drifted")
		}
	}
	counters()
	e.app.SQL().Exec(context.Background(), `DELETE FROM contacts WHERE external_user_id = '17842000000000004'`)
	counters()
	if r := c.Get(path); !strings.Contains(r.Body, `id="fig-participants">3<`) {
		t.Error("deleted participation still counted")
	}

	// A 120-day range shows the figures but refuses export with the reason.
	r = c.Get(path + "?from=2026-01-01&to=2026-04-30")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `id="export-refused"`) || strings.Contains(r.Body, `id="stats-export-form"`) {
		t.Fatalf("long range: %d", r.Status)
	}
}

func TestCampaignExportIsExcelReadyAndRefusesLongRanges(t *testing.T) {
	e, c := newStatsEnv(t)
	path := "/campaigns/" + itoa(e.camp.ID) + "/stats"
	page := c.Get(path)
	// Take the export form's action and inputs from the served page.
	export := page.Form("#stats-export-form")
	served, _ := url.Parse(export.Action())
	served.RawQuery = export.Values().Encode()
	exportURL := served.RequestURI()
	r := export.Submit()
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv; charset=utf-8") ||
		!strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", r.Status, r.Header)
	}
	if !strings.HasPrefix(r.Body, "\uFEFF") {
		t.Fatal("no byte-order mark for Excel")
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.Body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || rows[0][0] != "結果" || !strings.Contains(rows[0][5], "Asia/Taipei") || rows[0][8] != "停留步驟" {
		t.Fatalf("csv: %q", rows)
	}
	if rows[1][0] != "成功" || rows[1][1] != "xiaoming" || rows[1][3] != "王小明" || rows[1][4] != sandbox.LINEUserXiaoming || !strings.HasSuffix(rows[1][6], "+08:00") {
		t.Errorf("success row: %q", rows[1])
	}
	reasons, stages := map[string]string{}, map[string]string{}
	for _, row := range rows[2:] {
		reasons[row[1]], stages[row[1]] = row[7], row[8]
	}
	if reasons["yijun"] != "會員編號衝突" || stages["yijun"] != "" || !strings.Contains(reasons["zhihao"], "因顧客未送出整合訊息") ||
		!strings.Contains(stages["zhihao"], "停在加入好友畫面") || !strings.Contains(stages["alice"], "已點擊卡片") {
		t.Errorf("failure reasons: %q %q", reasons, stages)
	}
	if _, err := time.Parse("2006-01-02 15:04:05 -07:00", rows[2][5]); err != nil {
		t.Errorf("participation time: %v", err)
	}

	// 90 days or more: the page again with the reason, no CSV.
	r = export.Forge("from", "2026-01-01").Forge("to", "2026-03-31").Submit()
	if r.Status != http.StatusUnprocessableEntity || strings.Contains(r.Header.Get("Content-Type"), "csv") || !strings.Contains(r.Body, "少於 90 天") {
		t.Fatalf("90-day export: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	// 89 days is fine.
	if r = export.Forge("from", "2026-01-01").Forge("to", "2026-03-30").Submit(); r.Status != http.StatusOK {
		t.Fatalf("89-day export: %d", r.Status)
	}

	// Another team's campaign is a 404, page and export; the agent role has no statistics.
	other := e.app.Team("Other")
	e.app.User(other.ID, models.RoleAdmin, "admin@other.test")
	o := e.app.Client()
	o.Login("admin@other.test", testutil.Password)
	for _, p := range []string{path, exportURL} {
		if r := o.Get(p); r.Status != http.StatusNotFound || strings.Contains(r.Body, "王小明") {
			t.Errorf("other team %s: %d", p, r.Status)
		}
	}
	e.app.User(e.team.ID, models.RoleAgent, "agent@bear.test")
	a := e.app.Client()
	a.Login("agent@bear.test", testutil.Password)
	if r := a.Get(path); r.Status != http.StatusForbidden && r.Status != http.StatusNotFound {
		t.Errorf("agent: %d", r.Status)
	}
}

func TestOverviewShowsEnabledCampaignsWeekAndChannelHealth(t *testing.T) {
	e, c := newStatsEnv(t)
	ctx := context.Background()
	// A disabled campaign is left out; a channel that lost its authorisation is named.
	off := e.campaign(e.ig, e.wa)
	e.app.SQL().Exec(ctx, `UPDATE campaigns SET status = 'disabled' WHERE id = $1`, off.ID)
	e.app.SQL().Exec(ctx, `UPDATE channels SET status = 'invalid' WHERE id = $1`, e.wa.ID)
	home := c.Get("/")
	card := home.Body[strings.Index(home.Body, `id="overview-campaign-`+itoa(e.camp.ID)+`"`):]
	card = card[:strings.Index(card, "</article>")]
	for _, want := range []string{`class="fig-participants">4<`, `class="fig-successes">1<`, `class="fig-failures">3<`, `class="fig-new-targets">1<`, "/campaigns/" + itoa(e.camp.ID) + "/stats",
		"Instagram · ", "LINE · "} {
		if !strings.Contains(card, want) {
			t.Errorf("overview card lacks %q", want)
		}
	}
	if strings.Contains(home.Body, `id="overview-campaign-`+itoa(off.ID)+`"`) {
		t.Error("disabled campaign on the overview")
	}
	if !strings.Contains(home.Body, "2 個渠道正常，1 個需要處理") || !strings.Contains(home.Body, "授權失效") ||
		!strings.Contains(home.Body, "WhatsApp · ") {
		t.Error("channel health summary")
	}
	// Raw message keys on the page are caught by testutil's page check on every fetch.
	if strings.Contains(home.Body, "nav.") {
		t.Error("raw key on the overview")
	}
	// Customer service sees the health summary and its links, not campaign figures.
	e.app.User(e.team.ID, models.RoleAgent, "agent2@bear.test")
	a := e.app.Client()
	a.Login("agent2@bear.test", testutil.Password)
	if r := a.Get("/"); strings.Contains(r.Body, "overview-campaign-") || !strings.Contains(r.Body, `id="health-summary"`) || !strings.Contains(r.Body, `href="/customers"`) {
		t.Error("agent overview")
	}
}
