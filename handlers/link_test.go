package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

const (
	uaIPhoneSafari = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
	uaFBAndroid    = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/242.0.0.43.119;]"
	uaIGiOS        = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 350.0.0.0.0 (iPhone15,2; iOS 18_0; zh_TW)"
	uaDesktop      = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
)

// linkEnv is a team with the sandbox's Instagram account, LINE official account (with its
// LIFF app) and WhatsApp number, and a campaign Instagram → LINE.
type linkEnv struct {
	t        *testing.T
	app      *testutil.TestApp
	team     *models.Team
	ig, line *models.Channel
	wa       *models.Channel
	camp     *models.Campaign
}

func newLinkEnv(t *testing.T, mutate ...func(*config.Config)) *linkEnv {
	t.Helper()
	a := testutil.NewApp(t, append([]func(*config.Config){func(c *config.Config) { c.LinkRatePerMinute = 1_000_000 }}, mutate...)...)
	e := &linkEnv{t: t, app: a, team: a.Team("Bear")}
	e.ig = a.SandboxChannel(e.team.ID, a.Sandbox, a.Meta, models.Instagram, sandbox.BearBakeryIGID, "mei")
	e.line = a.SandboxChannel(e.team.ID, a.Sandbox, a.Meta, models.LINE, sandbox.LINEChannelID, "")
	e.line.Settings.LiffID, e.line.Settings.LoginChannelID = sandbox.LIFFID, sandbox.LINELoginChannelID
	if err := a.Store.SaveChannel(context.Background(), e.line); err != nil {
		t.Fatal(err)
	}
	e.wa = a.SandboxChannel(e.team.ID, a.Sandbox, a.Meta, models.WhatsApp, sandbox.WhatsAppPhoneNumberID, "")
	e.camp = e.campaign(e.ig, e.line)
	return e
}

func (e *linkEnv) campaign(src, tgt *models.Channel) *models.Campaign {
	c := &models.Campaign{TeamID: e.team.ID, Name: "link " + string(tgt.Platform), Status: models.CampaignEnabled, SourceChannelID: src.ID, TargetChannelID: tgt.ID,
		Card: models.CardContent{Title: "加入 LINE", Text: "領取折價券", Button: "立即加入"}, WAMessage: "我要綁定",
		SuccessTarget: models.Action{Kind: models.ActionText, Text: "整合成功，歡迎！"},
		SuccessSource: models.Action{Kind: models.ActionText, Text: "已完成整合"},
		FailureSource: models.Action{Kind: models.ActionNone}, TokenTTLDays: 7}
	if err := e.app.Store.CreateCampaign(context.Background(), c); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// customer is the sandbox customer's contact on a channel, as a message to it would create.
func (e *linkEnv) customer(ch *models.Channel, key string) int64 {
	e.t.Helper()
	p := sandbox.Platform(ch.Platform)
	ext, ok := e.app.Sandbox.CustomerID(key, p, ch.ExternalID)
	if !ok {
		e.t.Fatalf("sandbox customer %s has no %s id", key, p)
	}
	now := time.Now()
	id, _, err := e.app.Store.UpsertContact(context.Background(), store.ContactActivity{TeamID: e.team.ID, ChannelID: ch.ID, ExternalUserID: ext, Name: key, InboundAt: &now})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *linkEnv) cardLink(campID, contactID int64) string {
	e.t.Helper()
	var link string
	err := e.app.Store.WithTx(context.Background(), func(tx *store.Store) error {
		var err error
		link, err = e.app.Links.CardLink(context.Background(), tx, e.team.ID, campID, contactID)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return strings.TrimPrefix(link, e.app.URL+"/l/")
}

func (e *linkEnv) get(path, ua string) (int, string, string) {
	e.t.Helper()
	r, _ := http.NewRequest(http.MethodGet, e.app.URL+path, nil)
	r.Header.Set("User-Agent", ua)
	r.Header.Set("Accept-Language", "zh-TW")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

type apiAnswer struct {
	HTTP         int
	Status       string `json:"status"`
	Reason       string `json:"reason"`
	Message      string `json:"message"`
	AddFriendURL string `json:"addFriendUrl"`
	Blocked      bool   `json:"blocked"`
}

func (e *linkEnv) post(body any) apiAnswer {
	e.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(e.app.URL+"/liff/api/link", "application/json", bytes.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var a apiAnswer
	_ = json.NewDecoder(resp.Body).Decode(&a)
	a.HTTP = resp.StatusCode
	return a
}

func (e *linkEnv) idToken(user string) string {
	return e.app.Sandbox.IssueIDToken(user, sandbox.LINELoginChannelID)
}

func (e *linkEnv) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.app.SQL().QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestLinkClickDevicesAndNotExist(t *testing.T) {
	e := newLinkEnv(t)
	src := e.customer(e.ig, "xiaoming")
	tok := e.cardLink(e.camp.ID, src)

	status, loc, _ := e.get("/l/"+tok, uaIPhoneSafari)
	if status != http.StatusFound || loc != e.app.URL+"/sandbox/liff/"+sandbox.LIFFID+"?t="+tok {
		t.Fatalf("click = %d %q", status, loc)
	}
	if n := e.count(`SELECT count(*) FROM link_attempts WHERE first_clicked_at IS NOT NULL AND os = 'ios' AND device = 'mobile' AND opened_at IS NOT NULL`); n != 1 {
		t.Fatalf("participation not recorded with the device: %d", n)
	}
	for _, c := range []struct{ ua, kind string }{{uaFBAndroid, "fb_android"}, {uaIGiOS, "ios_in_app"}, {uaDesktop, "desktop"}} {
		status, _, body := e.get("/l/"+tok, c.ua)
		if status != http.StatusOK || !strings.Contains(body, `data-kind="`+c.kind+`"`) {
			t.Fatalf("%s: %d, page kind missing", c.kind, status)
		}
		if strings.Contains(body, "xiaoming") || strings.Contains(body, e.ig.DisplayName) {
			t.Fatalf("%s page reveals whose link it is", c.kind)
		}
		if c.kind == "fb_android" && (!strings.Contains(body, "intent://") || !strings.Contains(body, "data:image/png;base64,")) {
			t.Fatal("Facebook on Android: no intent hand-off or no QR fallback")
		}
		// In the sandbox a desktop browser can play the phone instead of scanning the code.
		if sandboxNext := `id="sandbox-continue" href="` + e.app.URL + "/sandbox/liff/" + sandbox.LIFFID + "?t=" + tok + `"`; (c.kind == "desktop") != strings.Contains(body, sandboxNext) {
			t.Errorf("%s: the sandbox's way on from the desktop page is wrong", c.kind)
		}
	}

	// The "does not exist" cases answer the same page and record nothing.
	other := e.cardLink(e.campaign(e.ig, e.line).ID, src)
	before := e.count(`SELECT count(*) FROM link_attempts WHERE first_clicked_at IS NOT NULL`)
	bad := []string{"nope", tok[:21], tok + "A", strings.Repeat("A", 22), "%00%00"}
	pool := e.app.SQL()
	pool.Exec(context.Background(), `UPDATE campaigns SET status = 'disabled' WHERE id = (SELECT campaign_id FROM link_tokens ORDER BY id DESC LIMIT 1)`)
	bad = append(bad, other)
	for _, b := range bad {
		status, _, body := e.get("/l/"+b, uaIPhoneSafari)
		if status != http.StatusNotFound || !strings.Contains(body, "此連結不存在，請洽客服詢問") || !strings.Contains(body, "This link does not exist") {
			t.Fatalf("%q: %d, want the does-not-exist page", b, status)
		}
	}
	// The target LINE channel loses its LIFF id: the first campaign's link does not exist either.
	pool.Exec(context.Background(), `UPDATE channels SET settings = settings - 'liff_id' WHERE id = $1`, e.line.ID)
	if status, _, _ := e.get("/l/"+tok, uaIPhoneSafari); status != http.StatusNotFound {
		t.Fatalf("LINE target without LIFF id: %d", status)
	}
	if after := e.count(`SELECT count(*) FROM link_attempts WHERE first_clicked_at IS NOT NULL`); after != before {
		t.Fatal("a link that does not exist recorded a click")
	}
}

func TestLIFFLinkCompletesOnceWithOutcomes(t *testing.T) {
	e := newLinkEnv(t)
	src := e.customer(e.ig, "xiaoming")
	tok := e.cardLink(e.camp.ID, src)
	idt := e.idToken(sandbox.LINEUserXiaoming)

	// Bad input: clear 4xx, nothing written.
	for _, b := range []any{map[string]any{"token": tok}, map[string]any{"token": tok, "idToken": "x.y.z", "friend": true},
		map[string]any{"token": "short", "idToken": idt, "friend": true},
		map[string]any{"token": tok, "idToken": e.app.Sandbox.IssueIDToken(sandbox.LINEUserXiaoming, "2000000099"), "friend": true}} {
		if a := e.post(b); a.HTTP < 400 || a.HTTP >= 500 || a.Message == "" {
			t.Fatalf("%v: %+v, want a 4xx with a message", b, a)
		}
	}
	if n := e.count(`SELECT count(*) FROM merges`); n != 0 {
		t.Fatal("bad input merged")
	}

	var wg sync.WaitGroup
	answers := make(chan apiAnswer, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers <- e.post(map[string]any{"token": tok, "idToken": idt, "friend": true, "lang": "zh-TW"})
		}()
	}
	wg.Wait()
	close(answers)
	for a := range answers {
		if a.HTTP != http.StatusOK || a.Status != "linked" {
			t.Fatalf("concurrent submit: %+v", a)
		}
	}
	if n := e.count(`SELECT count(*) FROM merges`); n != 1 {
		t.Fatalf("merges = %d, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM message_sends WHERE cause LIKE 'campaign:%:success_%'`); n != 2 {
		t.Fatalf("success sends = %d, want target + source", n)
	}
	// The LINE push reaches the sandbox exactly once.
	deadline := time.Now().Add(10 * time.Second)
	for {
		msgs := e.app.Sandbox.Conversation(sandbox.PlatformLINE, sandbox.LINEChannelID, sandbox.LINEUserXiaoming)
		pushes := 0
		for _, m := range msgs {
			if strings.Contains(m.Text, "整合成功，歡迎！") {
				pushes++
			}
		}
		if pushes == 1 {
			break
		}
		if pushes > 1 || time.Now().After(deadline) {
			t.Fatalf("LINE success pushes = %d", pushes)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The used link says so; a second LINE identity is refused; the ID token cannot be replayed.
	// It is no dead end: it opens the LINE account.
	if status, _, body := e.get("/l/"+tok, uaIPhoneSafari); status != http.StatusOK || !strings.Contains(body, `data-kind="used"`) ||
		!strings.Contains(body, `href="`+e.app.URL+`/sandbox/line/account/%40bearbakery"`) || !strings.Contains(body, "開啟 LINE") {
		t.Fatalf("used link: %d\n%s", status, body)
	}
	if a := e.post(map[string]any{"token": tok, "idToken": e.idToken(sandbox.LINEUserYijun), "friend": true}); a.HTTP != http.StatusConflict {
		t.Fatalf("second identity: %+v", a)
	}
	other := e.cardLink(e.camp.ID, e.customer(e.ig, "yijun"))
	if a := e.post(map[string]any{"token": other, "idToken": idt, "friend": true}); a.HTTP != http.StatusConflict || a.Reason != "liff.id_token_replayed" {
		t.Fatalf("replayed id token: %+v", a)
	}
	if n := e.count(`SELECT count(*) FROM merges`); n != 1 {
		t.Fatalf("refusals merged: %d", n)
	}
}

// A link applies the campaign's tags to both contacts (recorded as the campaign's doing) and sends
// the source success module through the one outbound path; a module that no longer exists is
// written to the campaign's activity log, never faked.
func TestLinkAppliesTagsAndSendsModules(t *testing.T) {
	e := newLinkEnv(t)
	ctx := context.Background()
	admin := e.app.User(e.team.ID, models.RoleAdmin, "boss@bear.test")
	src, err := e.app.Tags.Create(ctx, admin, models.TagInput{Name: "IG 會員"})
	if err != nil {
		t.Fatal(err)
	}
	tgt, err := e.app.Tags.Create(ctx, admin, models.TagInput{Name: "已綁定"})
	if err != nil {
		t.Fatal(err)
	}
	mod, err := e.app.Modules.Create(ctx, admin, models.ModuleInput{Name: "感謝", Platform: models.Instagram,
		Blocks: models.ModuleBlocks{{Block: models.Block{Kind: models.BlockText, Text: "謝謝您完成綁定"}}}})
	if err != nil {
		t.Fatal(err)
	}
	e.app.SQL().Exec(ctx, `UPDATE campaigns SET tags_source = $2, tags_target = $3, success_source_kind = 'module', success_source_module_id = $4,
		success_source_text = '' WHERE id = $1`, e.camp.ID, fmt.Sprintf("[%d]", src.ID), fmt.Sprintf("[%d]", tgt.ID), mod.ID)
	source := e.customer(e.ig, "xiaoming")
	tok := e.cardLink(e.camp.ID, source)
	if a := e.post(map[string]any{"token": tok, "idToken": e.idToken(sandbox.LINEUserXiaoming), "friend": true}); a.Status != "linked" {
		t.Fatalf("link: %+v", a)
	}
	if n := e.count(`SELECT count(*) FROM contact_tags WHERE contact_id = $1 AND tag_id = $2 AND source = 'campaign' AND source_id = $3`, source, src.ID, e.camp.ID); n != 1 {
		t.Errorf("the source contact's tag: %d rows", n)
	}
	if n := e.count(`SELECT count(*) FROM contact_tags ct JOIN contacts c ON c.id = ct.contact_id
		WHERE c.channel_id = $1 AND ct.tag_id = $2 AND ct.source = 'campaign'`, e.line.ID, tgt.ID); n != 1 {
		t.Errorf("the target contact's tag: %d rows", n)
	}
	if n := e.count(`SELECT count(*) FROM message_sends WHERE contact_id = $1 AND cause LIKE '%success_source'`, source); n != 1 {
		t.Errorf("the source success module: %d sends", n)
	}

	// A module deleted after the campaign was saved is logged, not sent.
	e.app.SQL().Exec(ctx, `UPDATE campaigns SET success_source_module_id = 999999 WHERE id = $1`, e.camp.ID)
	other := e.customer(e.ig, "yijun")
	tok = e.cardLink(e.camp.ID, other)
	if a := e.post(map[string]any{"token": tok, "idToken": e.idToken(sandbox.LINEUserYijun), "friend": true}); a.Status != "linked" {
		t.Fatalf("second link: %+v", a)
	}
	if n := e.count(`SELECT count(*) FROM message_sends WHERE contact_id = $1 AND cause LIKE '%success_source'`, other); n != 0 {
		t.Error("a module that does not exist was sent")
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'campaign.activity' AND detail->>'what' = 'success_source'`); n != 1 {
		t.Errorf("the missing module is not in the campaign's activity log: %d lines", n)
	}
	// The campaign's history says what went wrong in the marketer's words, not as an edit by a
	// removed member.
	c := e.app.Client()
	c.Login("boss@bear.test", testutil.Password)
	page := c.Get("/campaigns/" + itoa(e.camp.ID) + "/history")
	if page.Status != http.StatusOK || !strings.Contains(page.Body, "活動自動執行") || !strings.Contains(page.Body, "來源渠道成功訊息：傳送失敗") ||
		strings.Contains(page.Body, "已移除的成員") {
		t.Fatalf("campaign history (%d):\n%s", page.Status, page.Body)
	}
}

func TestLIFFBlockedUserGetsAddFriendOnly(t *testing.T) {
	e := newLinkEnv(t)
	tok := e.cardLink(e.camp.ID, e.customer(e.ig, "xiaoming"))
	a := e.post(map[string]any{"token": tok, "idToken": e.idToken(sandbox.LINEUserZhihao), "friend": false})
	if a.HTTP != http.StatusOK || a.Status != "friend_required" || a.AddFriendURL != e.app.URL+"/sandbox/line/account/%40bearbakery" {
		t.Fatalf("blocked user: %+v", a)
	}
	// LINE says "not a friend" alike for a user who never added the account and one who blocked
	// it; with no unfollow event kept, the page covers both.
	if a.Blocked || !strings.Contains(a.Message, "解除封鎖") {
		t.Errorf("unknown friendship: %+v", a)
	}
	if n := e.count(`SELECT count(*) FROM link_attempts WHERE friend_required_at IS NOT NULL AND status = 'open'`); n != 1 {
		t.Fatal("friend required not recorded")
	}
	if n := e.count(`SELECT count(*) FROM merges`) + e.count(`SELECT count(*) FROM message_sends`); n != 0 {
		t.Fatal("a non-friend was linked or messaged")
	}

	// Once LINE's unfollow event has come in, the customer is told to unblock the account.
	u := e.app.User(e.team.ID, models.RoleAdmin, "blocker@bear.test")
	c := e.app.Client()
	c.Login(u.Email, testutil.Password)
	sim := url.Values{"account": {strconv.FormatInt(e.line.ID, 10)}, "customer": {sandbox.LINEUserZhihao}}
	if r := c.Submit("/sandbox/simulator?"+sim.Encode(), "/sandbox/simulator/send", url.Values{"account": sim["account"],
		"customer": sim["customer"], "kind": {"unfollow"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("unfollow: %d", r.Status)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.count(`SELECT count(*) FROM contacts WHERE external_user_id = '`+sandbox.LINEUserZhihao+`' AND line_friendship = 'blocked'`) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the unfollow event was not recorded")
		}
		time.Sleep(50 * time.Millisecond)
	}
	a = e.post(map[string]any{"token": tok, "idToken": e.idToken(sandbox.LINEUserZhihao), "friend": false, "lang": "en"})
	if a.Status != "friend_required" || !a.Blocked || !strings.Contains(a.Message, "Unblock") {
		t.Errorf("known blocker: %+v", a)
	}

	// A page that reports a friend is overruled by LINE: the Messaging API has no profile of a
	// user who never added the account, so Alice gets the add-friend screen too.
	alice := e.cardLink(e.camp.ID, e.customer(e.ig, "alice"))
	a = e.post(map[string]any{"token": alice, "idToken": e.idToken(sandbox.LINEUserAlice), "friend": true})
	if a.HTTP != http.StatusOK || a.Status != "friend_required" {
		t.Fatalf("a non-friend reported as a friend: %+v", a)
	}
	if n := e.count(`SELECT count(*) FROM merges`) + e.count(`SELECT count(*) FROM message_sends`); n != 0 {
		t.Fatal("a non-friend was linked or messaged")
	}
}

// The target contact takes the account's view of the user from the Messaging API: the LINE
// display name and a friendship the profile page can show.
func TestLIFFLinkReadsTheTargetProfile(t *testing.T) {
	e := newLinkEnv(t)
	tok := e.cardLink(e.camp.ID, e.customer(e.ig, "xiaoming"))
	if a := e.post(map[string]any{"token": tok, "idToken": e.idToken(sandbox.LINEUserXiaoming), "friend": true}); a.Status != "linked" {
		t.Fatalf("link: %+v", a)
	}
	var name, friendship string
	if err := e.app.SQL().QueryRow(context.Background(), `SELECT name, line_friendship FROM contacts WHERE channel_id = $1 AND external_user_id = $2`,
		e.line.ID, sandbox.LINEUserXiaoming).Scan(&name, &friendship); err != nil {
		t.Fatal(err)
	}
	if name != "王小明" || friendship != string(models.FriendshipFriend) {
		t.Fatalf("target contact: name %q, friendship %q", name, friendship)
	}
}

// A LINE channel whose token stopped working is found out by the LIFF page's profile read, as a
// send would find it: the channel breaks at once (its alert goes out), the link still completes
// with the ID token's name, and the success push is recorded as skipped, not attempted.
func TestLIFFProfileReadReportsABrokenChannel(t *testing.T) {
	e := newLinkEnv(t)
	tok := e.cardLink(e.camp.ID, e.customer(e.ig, "xiaoming"))
	if err := e.app.Sandbox.BreakToken(sandbox.Target{Kind: sandbox.TargetLINE, ID: sandbox.LINEChannelID}, sandbox.CauseTokenRevoked); err != nil {
		t.Fatal(err)
	}
	if a := e.post(map[string]any{"token": tok, "idToken": e.idToken(sandbox.LINEUserXiaoming), "friend": true}); a.Status != "linked" {
		t.Fatalf("link: %+v", a)
	}
	if n := e.count(`SELECT count(*) FROM channels WHERE id = ` + itoa(e.line.ID) + ` AND status = 'active'`); n != 0 {
		t.Fatal("the LINE channel whose token was revoked is still active")
	}
	if n := e.count(`SELECT count(*) FROM health_episodes WHERE channel_id = ` + itoa(e.line.ID) + ` AND closed_at IS NULL`); n != 1 {
		t.Fatalf("open health episodes on the LINE channel: %d", n)
	}
	if n := e.count(`SELECT count(*) FROM message_sends WHERE channel_id = ` + itoa(e.line.ID) + ` AND outcome = 'skipped_broken_channel'`); n != 1 {
		t.Fatal("the success push was not recorded as skipped on the broken channel")
	}
}

func TestLinkFailureReasonsAreRecorded(t *testing.T) {
	e := newLinkEnv(t)
	src := e.customer(e.ig, "xiaoming")
	tok := e.cardLink(e.camp.ID, src)
	pool := e.app.SQL()
	ctx := context.Background()
	// Both customers carry different member numbers.
	pool.Exec(ctx, `UPDATE customers SET member_no = 'M1' WHERE id = (SELECT customer_id FROM contacts WHERE id = $1)`, src)
	target := e.customer(e.line, "xiaoming")
	pool.Exec(ctx, `UPDATE customers SET member_no = 'M2' WHERE id = (SELECT customer_id FROM contacts WHERE id = $1)`, target)
	a := e.post(map[string]any{"token": tok, "idToken": e.idToken(sandbox.LINEUserXiaoming), "friend": true, "lang": "en"})
	if a.HTTP != http.StatusOK || a.Status != "failed" || a.Reason != "member_conflict" || a.Message != "Member ID conflict." {
		t.Fatalf("member conflict: %+v", a)
	}
	if n := e.count(`SELECT count(*) FROM link_attempts WHERE status = 'failed' AND reason = 'member_conflict'`); n != 1 {
		t.Fatal("reason not recorded")
	}
	if n := e.count(`SELECT count(*) FROM merges`); n != 0 {
		t.Fatal("conflict merged")
	}
}

func TestWhatsAppCodeLinksSender(t *testing.T) {
	e := newLinkEnv(t)
	camp := e.campaign(e.ig, e.wa)
	tok := e.cardLink(camp.ID, e.customer(e.ig, "xiaoming"))
	status, loc, _ := e.get("/l/"+tok, uaIPhoneSafari)
	if status != http.StatusFound || !strings.HasPrefix(loc, e.app.URL+"/sandbox/wa/") {
		t.Fatalf("click = %d %q", status, loc)
	}
	u, _ := url.Parse(loc)
	text := u.Query().Get("text")
	if !strings.HasPrefix(text, "我要綁定\nOL-") {
		t.Fatalf("prefilled text %q", text)
	}
	// The same code sent to another number links nothing.
	if err := e.app.Store.WithTx(context.Background(), func(tx *store.Store) error {
		return e.app.Links.MatchWhatsApp(context.Background(), tx, e.line, e.customer(e.line, "xiaoming"), text)
	}); err != nil {
		t.Fatal(err)
	}
	if n := e.count(`SELECT count(*) FROM merges`); n != 0 {
		t.Fatal("a code on another channel linked")
	}
	u2 := e.app.User(e.team.ID, models.RoleAdmin, "admin@bear.test")
	c := e.app.Client()
	c.Login(u2.Email, testutil.Password)
	r := c.Submit(loc[len(e.app.URL):], loc[len(e.app.URL):strings.Index(loc, "?")], url.Values{
		"account": {strconv.FormatInt(e.wa.ID, 10)}, "customer": {mustCustomer(t, e, "xiaoming")}, "text": {text}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("WhatsApp stand-in send: %d %s", r.Status, r.Body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.count(`SELECT count(*) FROM link_attempts WHERE status = 'linked'`) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the WhatsApp message with the code did not link")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := e.count(`SELECT count(*) FROM link_tokens WHERE used_at IS NULL AND wa_code IS NOT NULL`); n != 0 {
		t.Fatal("code not consumed")
	}
	// The message with the code made the WhatsApp contact: a new target contact.
	if n := e.count(`SELECT count(*) FROM link_attempts WHERE status = 'linked' AND target_created`); n != 1 {
		t.Fatal("the WhatsApp contact made by the code message is not counted as new")
	}
	// The used link opens a chat with the number, without the spent code.
	wa := loc[:strings.Index(loc, "?")]
	if status, _, body := e.get("/l/"+tok, uaIPhoneSafari); status != http.StatusOK || !strings.Contains(body, `data-kind="used"`) ||
		!strings.Contains(body, `href="`+wa+`"`) || !strings.Contains(body, "開啟 WhatsApp") {
		t.Fatalf("used WhatsApp link: %d\n%s", status, body)
	}
}

func mustCustomer(t *testing.T, e *linkEnv, key string) string {
	id, ok := e.app.Sandbox.CustomerID(key, sandbox.PlatformWhatsApp, sandbox.WhatsAppPhoneNumberID)
	if !ok {
		t.Fatalf("no wa_id for %s", key)
	}
	return id
}

func TestLinkRoutesAreRateLimited(t *testing.T) {
	e := newLinkEnv(t, func(c *config.Config) { c.LinkRatePerMinute = 20 })
	limited := false
	for range 40 {
		if status, _, _ := e.get("/l/nope", uaIPhoneSafari); status == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("40 clicks in a row from one address were never limited")
	}
}

func TestLinkExpiredDisabledAndSendPage(t *testing.T) {
	e := newLinkEnv(t)
	src := e.customer(e.ig, "xiaoming")
	tok := e.cardLink(e.camp.ID, src)
	pool := e.app.SQL()
	ctx := context.Background()

	// The LIFF page: nonce-based CSP that lets the SDK reach LINE, nothing else.
	r, _ := http.Get(e.app.URL + "/liff/link/" + sandbox.LIFFID + "?t=" + tok)
	csp := r.Header.Get("Content-Security-Policy")
	r.Body.Close()
	if !strings.Contains(csp, "script-src 'self' 'nonce-") || !strings.Contains(csp, "connect-src 'self' https://api.line.me") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("LIFF page CSP %q", csp)
	}
	if status, _, _ := e.get("/liff/link/not-a-liff-id!", uaIPhoneSafari); status != http.StatusNotFound {
		t.Fatalf("bad LIFF id: %d", status)
	}

	// Disabled after the click: the submission fails with that reason, recorded.
	pool.Exec(ctx, `UPDATE campaigns SET status = 'disabled' WHERE id = $1`, e.camp.ID)
	if a := e.post(map[string]any{"token": tok, "idToken": e.idToken(sandbox.LINEUserXiaoming), "friend": true}); a.HTTP != http.StatusOK ||
		a.Status != "failed" || a.Reason != "disabled" || a.Message != "跨社群一鍵整合已停用" {
		t.Fatalf("disabled campaign: %+v", a)
	}
	if n := e.count(`SELECT count(*) FROM link_attempts WHERE status = 'failed' AND reason = 'disabled'`); n != 1 {
		t.Fatal("disabled not recorded as the reason")
	}
	pool.Exec(ctx, `UPDATE campaigns SET status = 'enabled' WHERE id = $1`, e.camp.ID)

	// Expired: a clear page and a 410, nothing linked.
	pool.Exec(ctx, `UPDATE link_tokens SET expires_at = now() - interval '1 minute'`)
	if status, _, body := e.get("/l/"+tok, uaIPhoneSafari); status != http.StatusGone || !strings.Contains(body, "此連結已過期") {
		t.Fatalf("expired click: %d", status)
	}
	if a := e.post(map[string]any{"token": tok, "idToken": e.idToken(sandbox.LINEUserXiaoming), "friend": true}); a.HTTP != http.StatusGone {
		t.Fatalf("expired submit: %+v", a)
	}
	// Clicked, never completed, every card expired: a failure without a stored reason.
	pool.Exec(ctx, `UPDATE link_attempts SET status = 'open', reason = '', first_clicked_at = now()`)
	if n, err := e.app.Links.FailUnfinished(ctx); err != nil || n != 1 {
		t.Fatalf("FailUnfinished = %d, %v", n, err)
	}
	if n := e.count(`SELECT count(*) FROM link_attempts WHERE status = 'failed' AND reason = 'none'`); n != 1 {
		t.Fatal("no-reason failure not recorded")
	}

	// Send to a contact: a missing choice re-renders with the field error; another team's
	// campaign is not found; a disabled campaign refuses with the spec's reason.
	u := e.app.User(e.team.ID, models.RoleMarketer, "m@bear.test")
	c := e.app.Client()
	c.Login(u.Email, testutil.Password)
	page := "/campaigns/" + strconv.FormatInt(e.camp.ID, 10) + "/send"
	if r := c.Submit(page, page, url.Values{"contact": {""}}); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "請選擇來源渠道的一位聯絡人") {
		t.Fatalf("empty choice: %d", r.Status)
	}
	other := e.app.Team("Other")
	otherIG := e.app.Channel(other.ID, models.Instagram, "ig-other", models.Credentials{AccessToken: "x"})
	otherLine := e.app.Channel(other.ID, models.LINE, "U-other", models.Credentials{AccessToken: "x", ChannelSecret: "y"})
	oc := &models.Campaign{TeamID: other.ID, Name: "x", Status: models.CampaignEnabled, SourceChannelID: otherIG.ID, TargetChannelID: otherLine.ID,
		Card: models.CardContent{Title: "t", Button: "b"}, SuccessTarget: models.Action{Kind: models.ActionText, Text: "x"},
		SuccessSource: models.Action{Kind: models.ActionNone}, FailureSource: models.Action{Kind: models.ActionNone}, TokenTTLDays: 7}
	if err := e.app.Store.CreateCampaign(ctx, oc); err != nil {
		t.Fatal(err)
	}
	if r := c.Get("/campaigns/" + strconv.FormatInt(oc.ID, 10) + "/send"); r.Status != http.StatusNotFound {
		t.Fatalf("another team's campaign: %d", r.Status)
	}
	pool.Exec(ctx, `UPDATE campaigns SET status = 'disabled' WHERE id = $1`, e.camp.ID)
	before := e.count(`SELECT count(*) FROM link_tokens`)
	if r := c.Submit(page, page, url.Values{"contact": {strconv.FormatInt(src, 10)}}); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "跨社群一鍵整合已停用") {
		t.Fatalf("disabled campaign send: %d", r.Status)
	}
	if e.count(`SELECT count(*) FROM link_tokens`) != before {
		t.Fatal("a refused card minted a token")
	}
}

func TestLINEFollowCompletesWhenCampaignOptsIn(t *testing.T) {
	e := newLinkEnv(t)
	pool := e.app.SQL()
	ctx := context.Background()
	tok := e.cardLink(e.camp.ID, e.customer(e.ig, "xiaoming"))
	if a := e.post(map[string]any{"token": tok, "idToken": e.idToken(sandbox.LINEUserZhihao), "friend": false}); a.Status != "friend_required" {
		t.Fatalf("blocked user: %+v", a)
	}
	u := e.app.User(e.team.ID, models.RoleAdmin, "a@bear.test")
	c := e.app.Client()
	c.Login(u.Email, testutil.Password)
	follow := func() {
		page := "/sandbox/simulator?" + url.Values{"account": {strconv.FormatInt(e.line.ID, 10)}, "customer": {sandbox.LINEUserZhihao}}.Encode()
		if r := c.Submit(page, "/sandbox/simulator/send", url.Values{"account": {strconv.FormatInt(e.line.ID, 10)},
			"customer": {sandbox.LINEUserZhihao}, "kind": {"follow"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("follow: %d", r.Status)
		}
	}
	// Off by default: following links nothing (the spec: adding the friend sends nothing).
	follow()
	time.Sleep(1500 * time.Millisecond)
	if n := e.count(`SELECT count(*) FROM merges`); n != 0 {
		t.Fatal("a follow linked with the option off")
	}
	pool.Exec(ctx, `UPDATE campaigns SET link_on_follow = true WHERE id = $1`, e.camp.ID)
	c.Submit("/sandbox/simulator?"+url.Values{"account": {strconv.FormatInt(e.line.ID, 10)}, "customer": {sandbox.LINEUserZhihao}}.Encode(),
		"/sandbox/simulator/send", url.Values{"account": {strconv.FormatInt(e.line.ID, 10)}, "customer": {sandbox.LINEUserZhihao}, "kind": {"unfollow"}})
	follow()
	deadline := time.Now().Add(10 * time.Second)
	for e.count(`SELECT count(*) FROM link_attempts WHERE status = 'linked'`) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the follow within 30 minutes did not complete the link")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestTwoCardsOfOnePairMergeOnce(t *testing.T) {
	e := newLinkEnv(t)
	src := e.customer(e.ig, "xiaoming")
	toks := []string{e.cardLink(e.camp.ID, src), e.cardLink(e.camp.ID, src)}
	var wg sync.WaitGroup
	answers := make(chan apiAnswer, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers <- e.post(map[string]any{"token": toks[i%2], "idToken": e.idToken(sandbox.LINEUserXiaoming), "friend": true})
		}()
	}
	wg.Wait()
	close(answers)
	linked := 0
	for a := range answers {
		if a.Status == "linked" {
			linked++
		} else if a.HTTP != http.StatusConflict {
			t.Fatalf("unexpected answer %+v", a)
		}
	}
	if linked == 0 || e.count(`SELECT count(*) FROM merges`) != 1 || e.count(`SELECT count(*) FROM message_sends WHERE cause LIKE '%success_target'`) != 1 {
		t.Fatalf("linked answers %d, merges %d, target messages %d", linked, e.count(`SELECT count(*) FROM merges`),
			e.count(`SELECT count(*) FROM message_sends WHERE cause LIKE '%success_target'`))
	}
	if n := e.count(`SELECT count(*) FROM link_tokens WHERE used_at IS NULL`); n != 0 {
		t.Fatalf("%d cards of the linked pair still open", n)
	}
}

// A card's link is public and posts nothing: neither the redirect nor the page sets a cookie
// (no session, no CSRF pre-session), so a tap costs no more than it must.
func TestLinkClickSetsNoCookie(t *testing.T) {
	e := newLinkEnv(t)
	tok := e.cardLink(e.camp.ID, e.customer(e.ig, "xiaoming"))
	for _, ua := range []string{uaIPhoneSafari, uaDesktop} {
		r, _ := http.NewRequest(http.MethodGet, e.app.URL+"/l/"+tok, nil)
		r.Header.Set("User-Agent", ua)
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", ua, resp.StatusCode)
		}
		if c := resp.Header.Values("Set-Cookie"); len(c) != 0 {
			t.Fatalf("%s: the link set cookies %v", ua, c)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("%s: Cache-Control %q", ua, resp.Header.Get("Cache-Control"))
		}
	}
}

// A channel gone between the click and the LIFF submission ends the participation with the
// spec's "contact not found" reasons, recorded and shown in the statistics; before the click
// the same link does not exist.
func TestLinkFailsWhenAChannelIsGoneAfterTheClick(t *testing.T) {
	e := newLinkEnv(t)
	pool := e.app.SQL()
	ctx := context.Background()
	ming := e.cardLink(e.camp.ID, e.customer(e.ig, "xiaoming"))
	yijun := e.cardLink(e.camp.ID, e.customer(e.ig, "yijun"))
	for _, tok := range []string{ming, yijun} {
		if s, _, _ := e.get("/l/"+tok, uaIPhoneSafari); s != http.StatusFound {
			t.Fatalf("click: %d", s)
		}
	}

	pool.Exec(ctx, `UPDATE channels SET status = 'disconnected' WHERE id = $1`, e.ig.ID)
	if a := e.post(map[string]any{"token": ming, "idToken": e.idToken(sandbox.LINEUserXiaoming), "friend": true}); a.HTTP != http.StatusOK ||
		a.Status != "failed" || a.Reason != "source_not_found" || a.Message != "無法找到來源渠道聯絡人" {
		t.Fatalf("source channel gone: %+v", a)
	}
	if s, _, body := e.get("/l/"+yijun, uaIPhoneSafari); s != http.StatusNotFound || !strings.Contains(body, "此連結不存在") {
		t.Fatalf("click on a gone source channel: %d", s)
	}
	pool.Exec(ctx, `UPDATE channels SET status = 'active' WHERE id = $1`, e.ig.ID)

	pool.Exec(ctx, `UPDATE channels SET status = 'disconnected' WHERE id = $1`, e.line.ID)
	if a := e.post(map[string]any{"token": yijun, "idToken": e.idToken(sandbox.LINEUserYijun), "friend": true, "lang": "en"}); a.HTTP != http.StatusOK ||
		a.Status != "failed" || a.Reason != "target_not_found" || a.Message != "Target contact not found." {
		t.Fatalf("target channel gone: %+v", a)
	}
	pool.Exec(ctx, `UPDATE channels SET status = 'active' WHERE id = $1`, e.line.ID)

	if n := e.count(`SELECT count(*) FROM link_attempts WHERE status = 'failed' AND reason IN ('source_not_found', 'target_not_found')`); n != 2 {
		t.Fatalf("reasons recorded: %d", n)
	}
	if n := e.count(`SELECT count(*) FROM contacts WHERE channel_id = $1`, e.line.ID); n != 0 {
		t.Fatalf("a target contact was made on a gone channel: %d", n)
	}
	if n := e.count(`SELECT count(*) FROM merges`); n != 0 {
		t.Fatalf("merged: %d", n)
	}

	e.app.User(e.team.ID, models.RoleMarketer, "marketer@bear.test")
	c := e.app.Client()
	c.Login("marketer@bear.test", testutil.Password)
	page := c.Get("/campaigns/" + itoa(e.camp.ID) + "/stats")
	for _, want := range []string{"無法找到來源渠道聯絡人", "無法找到目標渠道聯絡人"} {
		if !strings.Contains(page.Body, want) {
			t.Fatalf("statistics do not show %q", want)
		}
	}
}

// After liff.closeWindow() the sandbox's LINE app is back in the chat: the page leads to the
// LINE user's conversation with the account in the simulator, in the console's language. A
// browser that never opened the LIFF app has no chat to go back to.
func TestSandboxLIFFClosedLeadsBackToTheChat(t *testing.T) {
	e := newLinkEnv(t)
	u := e.app.User(e.team.ID, models.RoleAdmin, "closer@bear.test")
	c := e.app.Client()
	c.Login(u.Email, testutil.Password)
	closed := "/sandbox/liff/" + sandbox.LIFFID + "/closed"
	page := c.Get(closed)
	if page.Status != http.StatusOK || !strings.Contains(page.Body, "LIFF 視窗已關閉") || strings.Contains(page.Body, "line-closed-back") {
		t.Fatalf("closed without a LIFF session (%d):\n%s", page.Status, page.Body)
	}
	if r := c.Get("/sandbox/liff/" + sandbox.LIFFID + "/open?user=" + sandbox.LINEUserXiaoming); r.Status != http.StatusSeeOther {
		t.Fatalf("opening the LIFF app: %d", r.Status)
	}
	page = c.Get(closed)
	want := "/sandbox/simulator?account=" + itoa(e.line.ID) + "&amp;customer=" + sandbox.LINEUserXiaoming
	if page.Status != http.StatusOK || !strings.Contains(page.Body, want) || !strings.Contains(page.Body, "回到與") {
		t.Fatalf("closed page does not lead back to the chat %s:\n%s", want, page.Body)
	}
	if _, err := e.app.SQL().Exec(context.Background(), `UPDATE users SET locale = 'en' WHERE id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if page = c.Get(closed); !strings.Contains(page.Body, "The LIFF window closed") || !strings.Contains(page.Body, "Back to the chat with") {
		t.Fatalf("closed page in English:\n%s", page.Body)
	}
	if page = c.Get("/sandbox/liff/unknown/closed"); page.Status != http.StatusNotFound {
		t.Errorf("an unknown LIFF app's closed page answered %d", page.Status)
	}
}

// Sending the card from the campaign page says what became of it: on its way, or not sent and
// why (here the Instagram contact last wrote 8 days ago: past the window and the human agent
// tag's 7 days), never "sent: not sent".
func TestSendCardSaysWhetherItWentOut(t *testing.T) {
	e := newLinkEnv(t)
	src := e.customer(e.ig, "xiaoming")
	u := e.app.User(e.team.ID, models.RoleMarketer, "m@bear.test")
	c := e.app.Client()
	c.Login(u.Email, testutil.Password)
	page := "/campaigns/" + itoa(e.camp.ID) + "/send"
	if r := c.Submit(page, page, url.Values{"contact": {itoa(src)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("send: %d", r.Status)
	}
	if r := c.Get(page); !strings.Contains(r.Body, "卡片已排入傳送") || strings.Contains(r.Body, "未傳送") {
		t.Fatalf("a queued card's notice:\n%s", r.Body)
	}
	if _, err := e.app.SQL().Exec(context.Background(), `UPDATE contacts SET last_inbound_at = now() - interval '8 days' WHERE id = $1`, src); err != nil {
		t.Fatal(err)
	}
	if r := c.Submit(page, page, url.Values{"contact": {itoa(src)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("send outside the window: %d", r.Status)
	}
	r := c.Get(page)
	if strings.Contains(r.Body, "卡片已排入傳送") || !strings.Contains(r.Body, "24 小時") {
		t.Fatalf("a card outside the window is not said to be unsent:\n%s", r.Body)
	}
}

// A database failure while queueing a success message fails the link whole: no merge, and the
// participation ends as the spec's "Internal server error", which the customer and the
// statistics are shown; the next try links.
func TestLinkFailsWholeWhenItsMessageCannotBeWritten(t *testing.T) {
	e := newLinkEnv(t)
	pool := e.app.SQL()
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE FUNCTION refuse_send() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'disk full'; END $$;
		CREATE TRIGGER refuse_send BEFORE INSERT ON message_sends FOR EACH ROW EXECUTE FUNCTION refuse_send()`); err != nil {
		t.Fatal(err)
	}
	// The campaign's failure message cannot be written either; the reason is recorded all the same.
	if _, err := pool.Exec(ctx, `UPDATE campaigns SET failure_source_kind = 'text', failure_source_text = '稍後再試' WHERE id = $1`, e.camp.ID); err != nil {
		t.Fatal(err)
	}
	tok := e.cardLink(e.camp.ID, e.customer(e.ig, "xiaoming"))
	body := map[string]any{"token": tok, "idToken": e.idToken(sandbox.LINEUserXiaoming), "friend": true}
	if a := e.post(body); a.HTTP != http.StatusOK || a.Status != "failed" || a.Reason != "internal" || a.Message != "伺服器錯誤" {
		t.Fatalf("link with an unwritable message: %+v", a)
	}
	if n := e.count(`SELECT count(*) FROM merges`); n != 0 {
		t.Fatal("a link whose message could not be written was kept")
	}
	if n := e.count(`SELECT count(*) FROM link_attempts WHERE status = 'failed' AND reason = 'internal' AND reason_detail LIKE '%disk full%'`); n != 1 {
		t.Fatal("the participation does not record the internal error")
	}
	if _, err := pool.Exec(ctx, `DROP TRIGGER refuse_send ON message_sends`); err != nil {
		t.Fatal(err)
	}
	body["idToken"] = e.idToken(sandbox.LINEUserXiaoming)
	if a := e.post(body); a.Status != "linked" {
		t.Fatalf("retry: %+v", a)
	}
	if n := e.count(`SELECT count(*) FROM message_sends`); n == 0 {
		t.Fatal("the retried link sent nothing")
	}
}
