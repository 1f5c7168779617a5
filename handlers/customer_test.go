package handlers_test

import (
	"context"
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

// linkedCustomer links 王小明's Instagram contact to his LINE identity through a clicked card
// and the LIFF page, returning the customer both now belong to.
func linkedCustomer(t *testing.T, e *linkEnv) (customerID, igContact int64) {
	t.Helper()
	ig := e.customer(e.ig, "xiaoming")
	tok := e.cardLink(e.camp.ID, ig)
	e.get("/l/"+tok, uaIGiOS)
	if a := e.post(map[string]any{"token": tok, "idToken": e.idToken(sandbox.LINEUserXiaoming), "friend": true}); a.Status != "linked" {
		t.Fatalf("link: %+v", a)
	}
	if err := e.app.SQL().QueryRow(context.Background(), `SELECT customer_id FROM contacts WHERE id = $1`, ig).Scan(&customerID); err != nil {
		t.Fatal(err)
	}
	return customerID, ig
}

func TestCustomerListAndProfileShowBothIdentitiesTagsAndTimeline(t *testing.T) {
	e := newLinkEnv(t)
	cu, _ := linkedCustomer(t, e)
	path := "/customers/" + itoa(cu)
	e.app.User(e.team.ID, models.RoleMarketer, "marketer@bear.test")
	c := e.app.Client()
	c.Login("marketer@bear.test", testutil.Password)
	tag := &models.Tag{TeamID: e.team.ID, Name: "已綁定會員"}
	if err := e.app.Store.CreateTeamTag(context.Background(), tag); err != nil {
		t.Fatal(err)
	}

	list := c.Get("/customers")
	row := list.Body[strings.Index(list.Body, `id="customer-`+itoa(cu)+`"`):]
	row = row[:strings.Index(row, "</tr>")]
	if list.Status != http.StatusOK || !strings.Contains(row, "pf-instagram") || !strings.Contains(row, "pf-line") {
		t.Fatalf("list row: %d %s", list.Status, row)
	}
	if !strings.Contains(list.Body, `href="/customers"`) {
		t.Error("no navigation to customers")
	}
	// A customer known only on Instagram (whose webhooks carry no name) is listed by its id,
	// not as an empty link.
	igsid, _ := e.app.Sandbox.CustomerID("alice", sandbox.PlatformInstagram, e.ig.ExternalID)
	if _, _, err := e.app.Store.UpsertContact(context.Background(), store.ContactActivity{TeamID: e.team.ID, ChannelID: e.ig.ID, ExternalUserID: igsid}); err != nil {
		t.Fatal(err)
	}
	if r := c.Get("/customers?q=" + igsid); !strings.Contains(r.Body, `">`+igsid+`</a></td>`) {
		t.Errorf("the nameless customer's row does not show %s", igsid)
	}
	// Search by a channel id finds him, by an unknown one nobody.
	if r := c.Get("/customers?q=" + sandbox.LINEUserXiaoming); !strings.Contains(r.Body, `id="customer-`+itoa(cu)+`"`) {
		t.Error("search by LINE id")
	}
	if r := c.Get("/customers?q=nobody-here"); !strings.Contains(r.Body, `id="customers-empty"`) {
		t.Error("search matched everyone")
	}

	prof := c.Get(path)
	for _, want := range []string{"17842000000000001", sandbox.LINEUserXiaoming, "好友", "24 小時內可回覆", "點擊整合連結", "整合成功", "合併", `id="undo-`} {
		if !strings.Contains(prof.Body, want) {
			t.Errorf("profile lacks %q", want)
		}
	}
	if strings.Contains(prof.Body, "campaign:") || !strings.Contains(prof.Body, "由 OmniLink 活動「") {
		t.Error("the timeline shows a merge's actor as a raw value")
	}
	// LINE has no 24-hour window: only the Instagram identity shows one.
	if n := strings.Count(prof.Body, `class="badge badge-ok window-open"`) + strings.Count(prof.Body, `class="badge badge-warn window-closed"`); n != 1 {
		t.Errorf("%d window badges for one Instagram and one LINE identity", n)
	}

	// Tags: add through the served form, on every identity; found by tag in the list; removed again.
	r := prof.Form("#tag-add").Set("tag_id", itoa(tag.ID)).Submit()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("tag add: %d %s", r.Status, r.Body)
	}
	if n := e.count(`SELECT count(*) FROM contact_tags x JOIN contacts c ON c.id = x.contact_id WHERE c.customer_id = $1 AND x.tag_id = $2`, cu, tag.ID); n != 2 {
		t.Fatalf("tag on %d identities, want 2", n)
	}
	if r := c.Get("/customers?q=已綁定"); !strings.Contains(r.Body, `id="customer-`+itoa(cu)+`"`) {
		t.Error("search by tag")
	}
	prof = c.Get(path)
	if !strings.Contains(prof.Body, "加上標籤") || !strings.Contains(prof.Body, "已綁定會員") {
		t.Error("tag not on the profile or the timeline")
	}
	if r := prof.Form("#tag-remove-" + itoa(tag.ID)).Submit(); r.Status != http.StatusSeeOther {
		t.Fatalf("tag remove: %d", r.Status)
	}
	if n := e.count(`SELECT count(*) FROM contact_tags WHERE tag_id = $1`, tag.ID); n != 0 {
		t.Fatal("tag not removed")
	}

	// Member number: unique per team; a refused edit keeps what was typed.
	prof = c.Get(path)
	if r := prof.Form("#member-form").Set("member_no", " M-100 ").Submit(); r.Status != http.StatusSeeOther {
		t.Fatalf("member no: %d", r.Status)
	}
	if n := e.count(`SELECT count(*) FROM customers WHERE id = $1 AND member_no = 'M-100'`, cu); n != 1 {
		t.Fatal("member number not saved")
	}
	other := e.customer(e.ig, "yijun")
	e.app.SQL().Exec(context.Background(), `UPDATE customers SET member_no = 'M-200' WHERE id = (SELECT customer_id FROM contacts WHERE id = $1)`, other)
	r = c.Get(path).Form("#member-form").Set("member_no", "M-200").Submit()
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "這個會員編號已屬於另一位顧客") || !strings.Contains(r.Body, `value="M-200"`) {
		t.Fatalf("duplicate member no: %d", r.Status)
	}
	r = c.Get(path).Form("#member-form").Set("member_no", strings.Repeat("長", 65)).Submit()
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "最多 64 個字") {
		t.Fatalf("long member no: %d", r.Status)
	}
	if n := e.count(`SELECT count(*) FROM customers WHERE id = $1 AND member_no = 'M-100'`, cu); n != 1 {
		t.Fatal("refused edit changed the number")
	}
}

func TestCustomerReplyIsWindowAwareAndTeamScoped(t *testing.T) {
	e := newLinkEnv(t)
	cu, ig := linkedCustomer(t, e)
	path := "/customers/" + itoa(cu)
	var line int64
	e.app.SQL().QueryRow(context.Background(), `SELECT id FROM contacts WHERE customer_id = $1 AND id <> $2`, cu, ig).Scan(&line)
	// The Instagram customer last wrote ten days ago: past the window, and past the seven days
	// Meta allows a person's reply (HUMAN_AGENT) too.
	e.app.SQL().Exec(context.Background(), `UPDATE contacts SET last_inbound_at = $2 WHERE id = $1`, ig, time.Now().Add(-240*time.Hour))

	// Customer service (客服) has the list, the profile and the reply box, but no edits.
	e.app.User(e.team.ID, models.RoleAgent, "agent@bear.test")
	c := e.app.Client()
	c.Login("agent@bear.test", testutil.Password)
	prof := c.Get(path)
	if prof.Status != http.StatusOK || strings.Contains(prof.Body, `id="member-form"`) || strings.Contains(prof.Body, `id="undo-`) {
		t.Fatalf("agent profile: %d", prof.Status)
	}
	if !strings.Contains(prof.Body, "已超過 24 小時互動期限") {
		t.Error("closed window not shown")
	}

	// Empty text: field error, typed contact kept, nothing sent.
	r := prof.Form("#reply-form").Set("contact_id", itoa(line)).Set("text", "  ").Submit()
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "請輸入訊息") {
		t.Fatalf("empty reply: %d", r.Status)
	}
	before := e.count(`SELECT count(*) FROM message_sends WHERE cause LIKE 'user:%'`)
	if before != 0 {
		t.Fatal("empty reply sent")
	}

	// LINE: sent through the one path, once even when the same form is posted twice.
	prof = c.Get(path)
	reply := prof.Form("#reply-form").Set("contact_id", itoa(line)).Set("text", "您好，已收到您的訂單")
	for range 2 {
		if r := reply.Submit(); r.Status != http.StatusSeeOther {
			t.Fatalf("reply: %d %s", r.Status, r.Body)
		}
	}
	if n := e.count(`SELECT count(*) FROM message_sends WHERE cause LIKE 'user:%:reply' AND contact_id = $1 AND automated = false`, line); n != 1 {
		t.Fatalf("LINE replies = %d, want 1", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(conversationText(e), "您好，已收到您的訂單") {
		if time.Now().After(deadline) {
			t.Fatal("reply never reached the LINE user")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Instagram outside the window: not sent, and the page says why.
	r = c.Get(path).Form("#reply-form").Set("contact_id", itoa(ig)).Set("text", "還在嗎？").Submit()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("reply ig: %d", r.Status)
	}
	if page := c.Get(path); !strings.Contains(page.Body, "訊息沒有送出：未傳送：超過 24 小時互動期限") {
		t.Error("window refusal not explained")
	}
	if n := e.count(`SELECT count(*) FROM message_sends WHERE contact_id = $1 AND outcome = 'skipped_window' AND cause LIKE 'user:%'`, ig); n != 1 {
		t.Fatalf("skipped reply recorded %d times", n)
	}

	// The agent may not edit; another team sees nothing; another customer's contact is refused.
	if r := c.Post(path+"/member", url.Values{"_csrf": {c.CSRF()}, "member_no": {"X"}}); r.Status != http.StatusForbidden {
		t.Errorf("agent member edit: %d", r.Status)
	}
	stranger := e.customer(e.ig, "alice")
	r = c.Get(path).Form("#reply-form").Forge("contact_id", itoa(stranger)).Set("text", "hi").Submit()
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "請選擇這位顧客的一個渠道身分") {
		t.Errorf("foreign contact: %d", r.Status)
	}
	ot := e.app.Team("Other")
	otherIG := e.app.Channel(ot.ID, models.Instagram, "17841499999999999", models.Credentials{AccessToken: "x"})
	otherContact, _, _ := e.app.Store.UpsertContact(context.Background(), store.ContactActivity{TeamID: ot.ID, ChannelID: otherIG.ID, ExternalUserID: "igsid-other"})
	r = c.Get(path).Form("#reply-form").Forge("contact_id", itoa(otherContact)).Set("text", "hi").Submit()
	if r.Status != http.StatusNotFound {
		t.Errorf("another team's contact: %d", r.Status)
	}
	e.app.User(ot.ID, models.RoleAdmin, "admin@other.test")
	o := e.app.Client()
	o.Login("admin@other.test", testutil.Password)
	if r := o.Get(path); r.Status != http.StatusNotFound {
		t.Errorf("other team profile: %d", r.Status)
	}
	o.Get("/customers")
	for _, p := range []string{path + "/reply", path + "/member", path + "/tags"} {
		if r := o.Post(p, url.Values{"_csrf": {o.CSRF()}, "contact_id": {itoa(line)}, "text": {"x"}, "key": {"0123456789abcdef0123"}, "member_no": {"Z"}, "tag_id": {"1"}}); r.Status != http.StatusNotFound {
			t.Errorf("other team %s: %d", p, r.Status)
		}
	}
	if n := e.count(`SELECT count(*) FROM message_sends WHERE cause LIKE 'user:%'`); n != 2 {
		t.Errorf("sends = %d after refusals", n)
	}
}

func conversationText(e *linkEnv) string {
	var b strings.Builder
	for _, m := range e.app.Sandbox.Conversation(sandbox.PlatformLINE, sandbox.LINEChannelID, sandbox.LINEUserXiaoming) {
		b.WriteString(m.Text + "\n")
	}
	return b.String()
}
