package handlers_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// uploadServed posts the import form from the served page with a file, as a browser does.
func uploadServed(t *testing.T, c *testutil.Client, file []byte) *testutil.Response {
	t.Helper()
	page := c.Get("/customers/import")
	form := page.Form("#import-form")
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range form.Values() {
		if k != "file" {
			w.WriteField(k, v[0])
		}
	}
	fw, _ := w.CreateFormFile("file", "members.csv")
	fw.Write(file)
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, form.Action(), &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.Do(req)
}

func TestMemberNumberImportReportsEachRow(t *testing.T) {
	e := newLinkEnv(t)
	ctx := context.Background()
	pool := e.app.SQL()
	ming := e.customer(e.ig, "xiaoming")
	e.customer(e.ig, "yijun")
	yiWA := e.customer(e.wa, "yijun")
	al := e.customer(e.ig, "alice")
	alWA := e.customer(e.wa, "alice")
	pool.Exec(ctx, `UPDATE customers SET member_no = 'M-TAKEN' WHERE id = $1`, customerOf(t, e, yiWA))
	pool.Exec(ctx, `UPDATE customers SET member_no = 'M-OLD' WHERE id = $1`, customerOf(t, e, alWA))

	e.app.User(e.team.ID, models.RoleMarketer, "m@bear.test")
	c := e.app.Client()
	c.Login("m@bear.test", testutil.Password)
	if !strings.Contains(c.Get("/customers").Body, `href="/customers/import"`) {
		t.Fatal("no import link on the list")
	}

	ig, wa := e.ig.ExternalID, e.wa.ExternalID
	csv := "\uFEFFchannel,external_user_id,member_no\n" +
		ig + ",17842000000000001,M-1\n" + // 1 applied
		e.ig.DisplayName + ",17842000000000001,M-3\n" + // 2 a name several channels share names none
		ig + ",99999,M-4\n" + // 3 unknown contact
		ig + ",17842000000000002,M-5\n" + // 4 duplicate number in file
		wa + ",886922345002,M-5\n" + // 5 duplicate number in file
		ig + ",17842000000000001,M-6\n" + // 6 repeated contact
		ig + ",17842000000000004,M-TAKEN\n" + // 7 taken by 陳怡君's WhatsApp customer
		wa + ",886933345004,M-NEW\n" + // 8 has M-OLD already
		"a,b\n" + // 9 bad row
		ig + ",17842000000000004,\"\"\n" // 10 empty member number
	r := uploadServed(t, c, []byte(csv))
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "已套用 1 列，拒絕 9 列") {
		t.Fatalf("import: %d\n%s", r.Status, r.Body)
	}
	want := map[string]string{"1": "已套用", "2": "找不到這個渠道", "3": "這個渠道沒有這位顧客", "4": "同一個會員編號", "5": "同一個會員編號",
		"6": "已有這位顧客的另一列", "7": "已屬於另一位顧客", "8": "已有會員編號 M-OLD", "9": "剛好有三欄", "10": "會員編號空白"}
	for line, msg := range want {
		i := strings.Index(r.Body, `id="import-line-`+line+`"`)
		if i < 0 || !strings.Contains(r.Body[i:i+strings.Index(r.Body[i:], "</tr>")], msg) {
			t.Errorf("line %s lacks %q: %s", line, msg, r.Body[max(i, 0):max(i, 0)+400])
		}
	}
	if n := e.count(`SELECT count(*) FROM customers WHERE member_no = 'M-1' AND id = $1`, customerOf(t, e, ming)); n != 1 {
		t.Fatal("row 1 not applied")
	}
	if n := e.count(`SELECT count(*) FROM customers WHERE member_no IN ('M-3','M-4','M-5','M-6','M-NEW') OR (member_no = 'M-TAKEN' AND id = $1)`, customerOf(t, e, al)); n != 0 {
		t.Fatal("a refused row was applied")
	}

	// A file that is not UTF-8 (Big5 from an old Excel) applies nothing and says how to fix it.
	big5 := []byte(ig + ",17842000000000002,\xb7\x7c\xad\xfb\n")
	r = uploadServed(t, c, big5)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "CSV UTF-8") {
		t.Fatalf("big5: %d", r.Status)
	}
	if r = uploadServed(t, c, []byte("channel,external_user_id,member_no\n")); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "沒有資料列") {
		t.Fatalf("empty: %d", r.Status)
	}
	if r = uploadServed(t, c, []byte("a,\"b\n")); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "無法讀取 CSV") {
		t.Fatalf("broken quotes: %d", r.Status)
	}

	// Another team's import cannot name this team's channels.
	ot := e.app.Team("Other")
	e.app.User(ot.ID, models.RoleAdmin, "admin@other.test")
	o := e.app.Client()
	o.Login("admin@other.test", testutil.Password)
	r = uploadServed(t, o, []byte(ig+",17842000000000002,X-1\n"))
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "找不到這個渠道") {
		t.Fatalf("other team: %d", r.Status)
	}
	if n := e.count(`SELECT count(*) FROM customers WHERE member_no = 'X-1'`); n != 0 {
		t.Fatal("other team wrote a member number")
	}
	// Customer service may not import.
	e.app.User(e.team.ID, models.RoleAgent, "agent@bear.test")
	a := e.app.Client()
	a.Login("agent@bear.test", testutil.Password)
	if r := a.Get("/customers/import"); r.Status != http.StatusForbidden {
		t.Errorf("agent import page: %d", r.Status)
	}
}
