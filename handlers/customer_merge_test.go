package handlers_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

func customerOf(t *testing.T, e *linkEnv, contact int64) int64 {
	t.Helper()
	var id int64
	if err := e.app.SQL().QueryRow(context.Background(), `SELECT customer_id FROM contacts WHERE id = $1`, contact).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestCampaignMergeUndoneFromTheProfile(t *testing.T) {
	e := newLinkEnv(t)
	cu, ig := linkedCustomer(t, e)
	var line int64
	e.app.SQL().QueryRow(context.Background(), `SELECT id FROM contacts WHERE customer_id = $1 AND id <> $2`, cu, ig).Scan(&line)
	e.app.User(e.team.ID, models.RoleMarketer, "m@bear.test")
	c := e.app.Client()
	c.Login("m@bear.test", testutil.Password)
	prof := c.Get("/customers/" + itoa(cu))
	// The campaign is named, in the merge list, on the timeline and in the merge's line.
	if strings.Count(prof.Body, "由 OmniLink 活動「link line」合併") != 2 || !strings.Contains(prof.Body, "個渠道身分已併入此顧客") ||
		!regexp.MustCompile(`/stats">\s*link line\s*</a>`).MatchString(prof.Body) {
		t.Fatalf("merge not shown with its campaign:\n%s", prof.Body)
	}
	// A deleted campaign is still told apart, by number.
	e.app.SQL().Exec(context.Background(), `UPDATE campaigns SET deleted_at = now() WHERE id = $1`, e.camp.ID)
	if r := c.Get("/customers/" + itoa(cu)); !strings.Contains(r.Body, "由 OmniLink 活動 #"+itoa(e.camp.ID)+" 合併") {
		t.Fatal("a deleted campaign's merge lost its actor")
	}
	e.app.SQL().Exec(context.Background(), `UPDATE campaigns SET deleted_at = NULL WHERE id = $1`, e.camp.ID)
	var mergeID int64
	e.app.SQL().QueryRow(context.Background(), `SELECT id FROM merges`).Scan(&mergeID)
	r := prof.Form("#undo-" + itoa(mergeID)).Submit()
	if r.Status != http.StatusSeeOther || r.Location != "/customers/"+itoa(cu) {
		t.Fatalf("undo: %d %s", r.Status, r.Location)
	}
	if customerOf(t, e, ig) == customerOf(t, e, line) {
		t.Fatal("undo left them together")
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'customer.merge_undo'`); n != 1 {
		t.Fatal("undo not audited")
	}
	prof = c.Get("/customers/" + itoa(cu))
	if !strings.Contains(prof.Body, "已於") || strings.Contains(prof.Body, `id="undo-`+itoa(mergeID)+`"`) {
		t.Error("undone merge still offers undo")
	}
	// A second undo of the same merge is refused with the reason, nothing changes.
	o := c.Post("/customers/merges/"+itoa(mergeID)+"/undo", map[string][]string{"_csrf": {c.CSRF()}})
	if o.Status != http.StatusSeeOther || !strings.Contains(c.Get(o.Location).Body, "這次合併已經還原過了") {
		t.Fatalf("second undo: %d", o.Status)
	}
}

func TestManualMergePreviewRulesAndUndoOrder(t *testing.T) {
	e := newLinkEnv(t)
	ctx := context.Background()
	pool := e.app.SQL()
	yiIG, yiWA := e.customer(e.ig, "yijun"), e.customer(e.wa, "yijun")
	alIG := e.customer(e.ig, "alice")
	a, b := customerOf(t, e, yiIG), customerOf(t, e, yiWA)
	pool.Exec(ctx, `UPDATE customers SET member_no = 'M-7', display_name = '陳怡君' WHERE id = $1`, a)
	tag := &models.Tag{TeamID: e.team.ID, Name: "WhatsApp 詢問"}
	e.app.Store.CreateTeamTag(ctx, tag)
	pool.Exec(ctx, `INSERT INTO contact_tags (team_id, contact_id, tag_id, source) VALUES ($1, $2, $3, 'user')`, e.team.ID, yiWA, tag.ID)
	e.app.User(e.team.ID, models.RoleAdmin, "admin@bear.test")
	c := e.app.Client()
	c.Login("admin@bear.test", testutil.Password)

	// Search, then preview: the member number, both identities and the tag of the result.
	page := c.Get("/customers/" + itoa(a) + "/merge?q=886922345002")
	if !strings.Contains(page.Body, `id="preview-`+itoa(b)+`"`) {
		t.Fatalf("candidate not found: %d", page.Status)
	}
	pv := c.Get("/customers/" + itoa(a) + "/merge?with=" + itoa(b))
	for _, want := range []string{`id="preview-member-no">M-7<`, "886922345002", "17842000000000002", "WhatsApp 詢問", `id="merge-form"`} {
		if !strings.Contains(pv.Body, want) {
			t.Errorf("preview lacks %q", want)
		}
	}
	if n := e.count(`SELECT count(*) FROM merges`); n != 0 {
		t.Fatal("preview merged")
	}
	r := pv.Form("#merge-form").Submit()
	if r.Status != http.StatusSeeOther || customerOf(t, e, yiWA) != a {
		t.Fatalf("merge: %d %s", r.Status, r.Body)
	}
	// The absorbed customer's page moves to the survivor.
	if r := c.Get("/customers/" + itoa(b)); r.Status != http.StatusSeeOther || r.Location != "/customers/"+itoa(a) {
		t.Errorf("absorbed page: %d %s", r.Status, r.Location)
	}

	// Member-number conflict: preview refuses, a forced post merges nothing.
	cAl := customerOf(t, e, alIG)
	pool.Exec(ctx, `UPDATE customers SET member_no = 'M-8' WHERE id = $1`, cAl)
	pv = c.Get("/customers/" + itoa(a) + "/merge?with=" + itoa(cAl))
	if !strings.Contains(pv.Body, "會員編號衝突") || strings.Contains(pv.Body, `id="merge-form"`) {
		t.Fatal("member conflict not refused in the preview")
	}
	if r := c.Post("/customers/"+itoa(a)+"/merge", map[string][]string{"_csrf": {c.CSRF()}, "with": {itoa(cAl)}}); r.Status != http.StatusConflict {
		t.Fatalf("forced conflicting merge: %d", r.Status)
	}
	// One identity per channel: 陳怡君 and Alice both have Instagram.
	pool.Exec(ctx, `UPDATE customers SET member_no = NULL WHERE id = $1`, cAl)
	pv = c.Get("/customers/" + itoa(a) + "/merge?with=" + itoa(cAl))
	if !strings.Contains(pv.Body, "同一個渠道各有不同的身分") || !strings.Contains(pv.Body, "17842000000000004") {
		t.Fatal("channel clash not refused with the holder")
	}
	if n := e.count(`SELECT count(*) FROM merges`); n != 1 {
		t.Fatal("refusals merged")
	}

	// A later merge of the same customer depends on the first: undo newest first.
	first := int64(e.count(`SELECT max(id) FROM merges`))
	solo := e.customer(e.line, "alice")
	r = c.Get("/customers/" + itoa(a) + "/merge?with=" + itoa(customerOf(t, e, solo))).Form("#merge-form").Submit()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("second merge: %d", r.Status)
	}
	second := int64(e.count(`SELECT max(id) FROM merges`))
	prof := c.Get("/customers/" + itoa(a))
	r = prof.Form("#undo-" + itoa(first)).Submit()
	if msg := c.Get(r.Location).Body; !strings.Contains(msg, "之後還有合併 #"+itoa(second)) {
		t.Fatal("undo out of order not refused with the later merge")
	}
	if customerOf(t, e, yiWA) != a {
		t.Fatal("refused undo changed something")
	}
	c.Get("/customers/" + itoa(a)).Form("#undo-" + itoa(second)).Submit()
	c.Get("/customers/" + itoa(a)).Form("#undo-" + itoa(first)).Submit()
	if customerOf(t, e, yiWA) != b || customerOf(t, e, yiIG) != a {
		t.Fatal("undo in order did not split")
	}
	var memberA, memberB *string
	pool.QueryRow(ctx, `SELECT member_no FROM customers WHERE id = $1`, a).Scan(&memberA)
	pool.QueryRow(ctx, `SELECT member_no FROM customers WHERE id = $1`, b).Scan(&memberB)
	if memberA == nil || *memberA != "M-7" || memberB != nil {
		t.Fatalf("member numbers after undo: %v %v", memberA, memberB)
	}
	if n := e.count(`SELECT count(*) FROM contact_tags WHERE contact_id = $1 AND tag_id = $2`, yiWA, tag.ID); n != 1 {
		t.Fatal("tag did not go back with its identity")
	}

	// Another team: 404 for the customers and the merge.
	ot := e.app.Team("Other")
	e.app.User(ot.ID, models.RoleAdmin, "admin@other.test")
	o := e.app.Client()
	o.Login("admin@other.test", testutil.Password)
	o.Get("/customers")
	if r := o.Get("/customers/" + itoa(a) + "/merge?with=" + itoa(b)); r.Status != http.StatusNotFound {
		t.Errorf("other team preview: %d", r.Status)
	}
	if r := o.Post("/customers/merges/"+itoa(first)+"/undo", map[string][]string{"_csrf": {o.CSRF()}}); r.Status != http.StatusNotFound {
		t.Errorf("other team undo: %d", r.Status)
	}
	if r := c.Get("/customers/" + itoa(a) + "/merge?with=999999"); r.Status != http.StatusNotFound {
		t.Errorf("unknown customer preview: %d", r.Status)
	}
}
