package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/seed"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

type campaignApp struct {
	*testutil.TestApp
	team, other              *models.Team
	mkt                      *testutil.Client
	ig, fb, line, lineNoLiff *models.Channel
	wa, otherLine            *models.Channel
}

func newCampaignApp(t *testing.T) *campaignApp {
	t.Helper()
	a := testutil.NewApp(t)
	ca := &campaignApp{TestApp: a, team: a.Team("小熊烘焙坊"), other: a.Team("Other")}
	a.User(ca.team.ID, models.RoleMarketer, "mkt@bear.test")
	ca.mkt = a.Client()
	ca.mkt.Login("mkt@bear.test", testutil.Password)
	ch := func(team int64, p models.Platform, ext, name string, s models.ChannelSettings) *models.Channel {
		c := a.Channel(team, p, ext, models.Credentials{AccessToken: "tok-" + ext})
		c.DisplayName, c.Settings = name, s
		if err := a.Store.SaveChannel(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	ca.ig = ch(ca.team.ID, models.Instagram, "17841400000000001", "bear.bakery", models.ChannelSettings{})
	ca.fb = ch(ca.team.ID, models.Facebook, "100000000000001", "小熊烘焙坊粉專", models.ChannelSettings{})
	ca.line = ch(ca.team.ID, models.LINE, "Uline0001", "小熊 LINE", models.ChannelSettings{LiffID: "2000000002-BearBkry", LoginChannelID: "2000000002"})
	ca.lineNoLiff = ch(ca.team.ID, models.LINE, "Uline0002", "舊 LINE", models.ChannelSettings{})
	ca.wa = ch(ca.team.ID, models.WhatsApp, "106540352242922", "+886 912 345 678", models.ChannelSettings{})
	ca.otherLine = ch(ca.other.ID, models.LINE, "Uline0009", "別人的 LINE", models.ChannelSettings{LiffID: "2000000009-x", LoginChannelID: "2000000009"})
	return ca
}

func (ca *campaignApp) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := ca.SQL().QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// campaignForm fetches a campaign page and reads its form as a browser would.
func campaignForm(t *testing.T, c *testutil.Client, path string) *testutil.Form {
	t.Helper()
	page := c.Get(path)
	if page.Status != http.StatusOK {
		t.Fatalf("GET %s: %d", path, page.Status)
	}
	f := page.Form("#campaign-form")
	if f.Method() != http.MethodPost {
		t.Fatalf("the campaign form on %s has method %q", path, f.Method())
	}
	return f
}

// fillGood fills the served create form as a marketer would for Instagram → LINE.
func (ca *campaignApp) fillGood(f *testutil.Form) *testutil.Form {
	f.Set("name", "IG 粉絲加 LINE 好友")
	f.Set("source_channel_id", itoa(ca.ig.ID))
	f.Set("target_channel_id", itoa(ca.line.ID))
	f.Set("title", "加入 LINE 好友領折價券")
	f.Set("text", "點下方按鈕，一鍵完成會員整合")
	f.Set("button", "立即加入")
	f.Set("success_source_kind", "text")
	f.Set("success_source_text", "整合完成！請到 LINE 查看折價券")
	f.Set("success_target_kind", "text")
	f.Set("success_target_text", "歡迎加入小熊烘焙坊 LINE")
	f.Set("tags_source_new", "IG 已整合")
	f.Set("tags_target_new", "來自 IG")
	return f
}

func TestCampaignCreatedThroughTheServedFormWithACroppedImage(t *testing.T) {
	ca := newCampaignApp(t)
	c := ca.mkt
	// The first visit shows what OmniLink does.
	if r := c.Get("/campaigns"); r.Status != 200 || !strings.Contains(r.Body, `id="campaigns-empty"`) || !strings.Contains(r.Body, "LIFF") {
		t.Fatalf("empty state: %d", r.Status)
	}
	page := c.Get("/campaigns/new")
	// Facebook and Instagram cannot be targets: shown, disabled.
	targets := page.Form("#campaign-form").Options("target_channel_id")
	if !targets[itoa(ca.ig.ID)] || !targets[itoa(ca.fb.ID)] || targets[itoa(ca.line.ID)] || targets[itoa(ca.wa.ID)] {
		t.Fatalf("target options %v", targets)
	}
	if _, ok := targets[itoa(ca.otherLine.ID)]; ok {
		t.Fatal("another team's channel is offered")
	}
	up := uploadImage(t, c, ca.URL, "photo.jpg", nil)
	m := mediaIDField.FindStringSubmatch(up.Body)
	if up.Status != 200 || m == nil || up.Header.Get("HX-Trigger") != "campaign-changed" {
		t.Fatalf("upload: %d %s", up.Status, up.Body)
	}
	f := campaignForm(t, c, "/campaigns/new")
	ca.fillGood(f)
	r := f.Forge("media_id", m[1]).Submit() // what the swapped-in image slot carries
	if r.Status != http.StatusSeeOther || r.Location != "/campaigns" {
		t.Fatalf("create: %d\n%s", r.Status, r.Body)
	}
	list := c.Get("/campaigns")
	for _, want := range []string{"IG 粉絲加 LINE 好友", "bear.bakery", "小熊 LINE", "已建立活動", "啟用中", "mkt"} {
		if !strings.Contains(list.Body, want) {
			t.Errorf("list lacks %q", want)
		}
	}
	var id int64
	var title, ssText, stText string
	var tagsSource, tagsTarget string
	err := ca.SQL().QueryRow(context.Background(), `SELECT id, card_title, success_source_text, success_target_text, tags_source::text, tags_target::text
		FROM campaigns WHERE team_id = $1`, ca.team.ID).Scan(&id, &title, &ssText, &stText, &tagsSource, &tagsTarget)
	if err != nil || title != "加入 LINE 好友領折價券" || ssText == "" || stText == "" || tagsSource == "[]" || tagsTarget == "[]" {
		t.Fatalf("stored: %v %q %q %q %s %s", err, title, ssText, stText, tagsSource, tagsTarget)
	}
	// The edit page previews the Instagram card with the 1:1 crop.
	edit := c.Get("/campaigns/" + itoa(id))
	if !strings.Contains(edit.Body, `id="crop-note"`) || !strings.Contains(edit.Body, `class="square"`) {
		t.Fatal("the Instagram preview does not show the crop")
	}
	// This server's address is http: the marketer is told the cards go out without the image.
	if !strings.Contains(edit.Body, "卡片送出時不會附上圖片") {
		t.Error("no warning that platforms cannot fetch the image over http")
	}
	sq := regexp.MustCompile(`<img src="(/media/[0-9a-f]{64}\.jpg)"[^>]*class="square"`).FindStringSubmatch(edit.Body)
	if sq == nil {
		t.Fatal("no square image in the preview")
	}
	img := ca.Client().Get(sq[1]) // no session needed
	if img.Status != 200 || img.Header.Get("Content-Type") != "image/jpeg" || img.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		img.Header.Get("ETag") == "" || img.Header.Get("Set-Cookie") != "" {
		t.Fatalf("media: %d %v", img.Status, img.Header)
	}
	if !strings.HasPrefix(img.Body, "\xff\xd8") {
		t.Fatal("media is not a JPEG")
	}
	req, _ := http.NewRequest(http.MethodGet, ca.URL+sq[1], nil)
	req.Header.Set("If-None-Match", img.Header.Get("ETag"))
	if r := ca.Client().Do(req); r.Status != http.StatusNotModified {
		t.Fatalf("conditional GET: %d", r.Status)
	}
	for _, bad := range []string{strings.Replace(sq[1], ".jpg", ".png", 1), "/media/" + strings.Repeat("0", 64) + ".jpg", "/media/../etc/passwd", "/media/abc.jpg"} {
		if r := ca.Client().Get(bad); r.Status != http.StatusNotFound {
			t.Errorf("%s: %d", bad, r.Status)
		}
	}
}

func TestCampaignFormRefusesBadInputWithFieldMessages(t *testing.T) {
	ca := newCampaignApp(t)
	c := ca.mkt
	cases := []struct {
		name  string
		edit  func(*testutil.Form)
		field string
		msg   string
	}{
		{"missing name", func(f *testutil.Form) { f.Set("name", " ") }, "name", "此欄位為必填"},
		{"another team's channel", func(f *testutil.Form) { f.Forge("target_channel_id", itoa(ca.otherLine.ID)) }, "target", "找不到此渠道"},
		{"garbage channel id", func(f *testutil.Form) { f.Forge("source_channel_id", "1 OR 1=1") }, "source", "找不到此渠道"},
		{"Facebook target", func(f *testutil.Form) { f.Forge("target_channel_id", itoa(ca.fb.ID)) }, "target", "無法作為目標渠道"},
		{"same channel", func(f *testutil.Form) { f.Set("source_channel_id", itoa(ca.line.ID)) }, "target", "不可為同一個帳號"},
		{"LINE target without LIFF", func(f *testutil.Form) { f.Set("target_channel_id", itoa(ca.lineNoLiff.ID)) }, "target", "尚未完成 LIFF 設定"},
		{"Instagram title over 80", func(f *testutil.Form) { f.Set("title", strings.Repeat("標", 81)) }, "title", "最多 80 個字（目前 81 個字）"},
		{"button over 20", func(f *testutil.Form) { f.Set("button", strings.Repeat("按", 21)) }, "button", "最多 20 個字"},
		{"no target success message", func(f *testutil.Form) { f.Forge("success_target_kind", "none") }, "success_target", "請選擇要發送的內容"},
		{"module of no platform", func(f *testutil.Form) {
			f.Set("success_target_kind", "module")
			f.Forge("success_target_module_id", "77")
		}, "success_target", "找不到此機器人模組"},
		{"another team's image", func(f *testutil.Form) { f.Forge("media_id", "999999") }, "image", "找不到這張圖片"},
		{"token lifetime", func(f *testutil.Form) { f.Set("token_ttl_days", "365") }, "token_ttl", "1 到 30 天"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := campaignForm(t, c, "/campaigns/new")
			ca.fillGood(f)
			tc.edit(f)
			r := f.Submit()
			if r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", r.Status)
			}
			errSpan := regexp.MustCompile(`(?s)id="err-` + tc.field + `"[^>]*>(.*?)</(span|div)>`).FindStringSubmatch(r.Body)
			if errSpan == nil || !strings.Contains(errSpan[1], tc.msg) {
				t.Fatalf("field %s: %v", tc.field, errSpan)
			}
			// What was typed is kept.
			if !strings.Contains(r.Body, "點下方按鈕，一鍵完成會員整合") || !strings.Contains(r.Body, `value="來自 IG"`) {
				t.Fatal("the form lost what was typed")
			}
			if tc.name == "LINE target without LIFF" && !strings.Contains(r.Body, `href="/channels/`+itoa(ca.lineNoLiff.ID)+`"`) {
				t.Fatal("no link to the LINE channel's settings")
			}
		})
	}
	if ca.count(t, "campaigns") != 0 || ca.count(t, "tags") != 0 {
		t.Fatal("bad input wrote rows")
	}
	// The same rule in English.
	a := ca.TestApp
	a.User(ca.team.ID, models.RoleSupervisor, "en@bear.test")
	en := a.Client()
	en.Login("en@bear.test", testutil.Password)
	if r := en.Submit("/campaigns", "/settings/language", url.Values{"locale": {"en"}, "next": {"/campaigns"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("language: %d", r.Status)
	}
	f := campaignForm(t, en, "/campaigns/new")
	ca.fillGood(f)
	r := f.Forge("target_channel_id", itoa(ca.ig.ID)).Submit() // a disabled option: no browser sends it
	if r.Status != 422 || !strings.Contains(r.Body, "Facebook and Instagram cannot be targets") {
		t.Fatalf("english: %d", r.Status)
	}
}

func TestCampaignImageUploadRefusesBadFiles(t *testing.T) {
	ca := newCampaignApp(t)
	c := ca.mkt
	c.Get("/campaigns/new")
	cases := []struct{ file, msg string }{
		{"notimage.jpg", "只接受 JPEG 或 PNG"},
		{"truncated.jpg", "無法讀取這張圖片"},
		{"bomb.png", "像素太多"},
	}
	for _, tc := range cases {
		r := uploadImage(t, c, ca.URL, tc.file, nil)
		if !strings.Contains(r.Body, tc.msg) || mediaIDField.MatchString(r.Body) {
			t.Errorf("%s: %d %s", tc.file, r.Status, r.Body)
		}
	}
	// Real images with odd colour models are accepted and re-encoded.
	for _, f := range []string{"cmyk.jpg", "png16.png", "small.png"} {
		r := uploadImage(t, c, ca.URL, f, nil)
		if !mediaIDField.MatchString(r.Body) {
			t.Errorf("%s refused: %s", f, r.Body)
		}
	}
	if n := ca.count(t, "media"); n != 3 {
		t.Fatalf("media rows %d, want 3", n)
	}
	// Over 5 MB: refused from the announced length, before the body is read.
	big := make([]byte, 6<<20)
	copy(big, "\xff\xd8\xff")
	if r := uploadImage(t, c, ca.URL, "big.jpg", big); r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("6 MB upload: %d", r.Status)
	}
	// Streamed without a length, it is cut off at the limit.
	pr, pw := io.Pipe()
	go func() {
		fmt.Fprintf(pw, "--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff")
		chunk := make([]byte, 64<<10)
		for i := 0; i < 200; i++ { // 12.5 MB if nobody stops reading
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, ca.URL+"/campaigns/media", pr)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	req.Header.Set("X-CSRF-Token", c.CSRF())
	req.Header.Set("HX-Request", "true")
	if r := c.Do(req); r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("streamed upload: %d %s", r.Status, r.Body)
	}
	if n := ca.count(t, "media"); n != 3 {
		t.Fatal("a refused upload was stored")
	}
	// LINE source: an image more than 3× taller than wide is refused at save.
	up := uploadImage(t, c, ca.URL, "tall.png", nil)
	m := mediaIDField.FindStringSubmatch(up.Body)
	f := campaignForm(t, c, "/campaigns/new")
	ca.fillGood(f)
	r := f.Set("source_channel_id", itoa(ca.line.ID)).Set("target_channel_id", itoa(ca.wa.ID)).Forge("media_id", m[1]).Submit()
	if r.Status != 422 || !strings.Contains(r.Body, "高度不可超過寬度的三倍") || !strings.Contains(r.Body, `name="media_id" value="`+m[1]+`"`) {
		t.Fatalf("tall image on LINE: %d", r.Status)
	}
	// A narrow image is accepted with a warning.
	up = uploadImage(t, c, ca.URL, "small.png", nil)
	m = mediaIDField.FindStringSubmatch(up.Body)
	f = campaignForm(t, c, "/campaigns/new")
	ca.fillGood(f)
	pv := htmxPost(t, c, ca.URL, "/campaigns/preview", f.Forge("media_id", m[1]).Values())
	if !strings.Contains(pv.Body, "圖片寬度為 400px") {
		t.Fatalf("no narrow-image warning in the live check: %s", pv.Body)
	}
}

func htmxPost(t *testing.T, c *testutil.Client, base, path string, v url.Values) *testutil.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	req.Header.Set("X-CSRF-Token", c.CSRF())
	return c.Do(req)
}

func TestCampaignLivePreviewAndCounters(t *testing.T) {
	ca := newCampaignApp(t)
	c := ca.mkt
	f := campaignForm(t, c, "/campaigns/new")
	// Only what the marketer has chosen so far: an empty form gets no "required" scolding.
	pv := htmxPost(t, c, ca.URL, "/campaigns/preview", f.Values())
	if pv.Status != 200 || strings.Contains(pv.Body, "此欄位為必填") {
		t.Fatalf("empty preview: %d %s", pv.Status, pv.Body)
	}
	ca.fillGood(f)
	f.Set("title", strings.Repeat("長", 85)).Set("target_channel_id", itoa(ca.wa.ID)).Set("wa_message", "我要加入會員")
	pv = htmxPost(t, c, ca.URL, "/campaigns/preview", f.Values())
	for _, want := range []string{
		`id="err-title" class="field-error" role="alert" hx-swap-oob="true">最多 80 個字（目前 85 個字）`,
		`85 / 80`, `class="counter over"`, `data-platform="instagram"`,
		"我要加入會員 OL-K7Q2M9XA", "整合完成！請到 LINE 查看折價券",
	} {
		if !strings.Contains(pv.Body, want) {
			t.Errorf("preview lacks %q", want)
		}
	}
	if ca.count(t, "campaigns") != 0 {
		t.Fatal("the preview wrote a campaign")
	}
}

func TestCampaignListActionsAndTeamScope(t *testing.T) {
	ca := newCampaignApp(t)
	c := ca.mkt
	if r := ca.fillGood(campaignForm(t, c, "/campaigns/new")).Submit(); r.Status != http.StatusSeeOther {
		t.Fatalf("create: %d", r.Status)
	}
	var id int64
	_ = ca.SQL().QueryRow(context.Background(), "SELECT id FROM campaigns").Scan(&id)
	base := "/campaigns/" + itoa(id)
	if r := c.Get("/campaigns").Form("form[action=" + base + "/duplicate]").Submit(); r.Status != http.StatusSeeOther {
		t.Fatalf("duplicate: %d", r.Status)
	}
	list := c.Get("/campaigns")
	if !strings.Contains(list.Body, "IG 粉絲加 LINE 好友（副本）") || !strings.Contains(list.Body, "已複製為") {
		t.Fatal("duplicate not listed")
	}
	if r := c.Get("/campaigns").Form("form[action=" + base + "/disable]").Submit(); r.Status != http.StatusSeeOther {
		t.Fatalf("disable: %d", r.Status)
	}
	var status string
	_ = ca.SQL().QueryRow(context.Background(), "SELECT status FROM campaigns WHERE id = $1", id).Scan(&status)
	if status != "disabled" {
		t.Fatalf("status %s", status)
	}
	// Search and filters.
	if r := c.Get("/campaigns?status=enabled"); strings.Contains(r.Body, `id="campaign-`+itoa(id)+`"`) {
		t.Fatal("disabled campaign listed under enabled")
	}
	if r := c.Get("/campaigns?q=" + url.QueryEscape("副本")); strings.Contains(r.Body, `id="campaign-`+itoa(id)+`"`) || !strings.Contains(r.Body, "（副本）") {
		t.Fatal("search by name")
	}
	if r := c.Get("/campaigns?channel=" + itoa(ca.wa.ID)); !strings.Contains(r.Body, `id="campaigns-no-match"`) {
		t.Fatal("channel filter")
	}
	// History names who did what.
	h := c.Get(base + "/history")
	if h.Status != 200 || !strings.Contains(h.Body, "停用活動") || !strings.Contains(h.Body, "建立活動") ||
		!strings.Contains(h.Body, "<ins>Instagram · bear.bakery</ins>") || !strings.Contains(h.Body, "<ins>來自 IG</ins>") {
		t.Fatalf("history: %d", h.Status)
	}
	// Fields follow the form's order: the name first, the card's words after the channels.
	created := h.Body[strings.Index(h.Body, "建立活動"):]
	if n, src, btn := strings.Index(created, "活動名稱"), strings.Index(created, "來源渠道："), strings.Index(created, "按鈕文字"); n < 0 || n > src || src > btn {
		t.Errorf("history fields out of the form's order: name %d, source %d, button %d", n, src, btn)
	}
	// Recorded values read as words: the status, the outcome messages, nothing before creation.
	for _, raw := range []string{"<ins>enabled</ins>", "<ins>disabled</ins>", "<ins>none</ins>", "text: ", "<del>0</del>", "<del></del>"} {
		if strings.Contains(h.Body, raw) {
			t.Errorf("history shows the raw value %q", raw)
		}
	}
	// Another team's marketer: 404 everywhere; an agent: 403 everywhere.
	ca.User(ca.other.ID, models.RoleMarketer, "mkt@other.test")
	o := ca.Client()
	o.Login("mkt@other.test", testutil.Password)
	for _, p := range []string{base, base + "/history"} {
		if r := o.Get(p); r.Status != http.StatusNotFound {
			t.Errorf("other team GET %s: %d", p, r.Status)
		}
	}
	o.Get("/campaigns")
	for _, p := range []string{base, base + "/enable", base + "/duplicate", base + "/delete"} {
		if r := handMade(o, p, url.Values{"name": {"x"}}); r.Status != http.StatusNotFound {
			t.Errorf("other team POST %s: %d", p, r.Status)
		}
	}
	ca.User(ca.team.ID, models.RoleAgent, "cs@bear.test")
	ag := ca.Client()
	ag.Login("cs@bear.test", testutil.Password)
	for _, p := range []string{"/campaigns", "/campaigns/new", base, base + "/history"} {
		if r := ag.Get(p); r.Status != http.StatusForbidden {
			t.Errorf("agent GET %s: %d", p, r.Status)
		}
	}
	ag.Get("/")
	for _, p := range []string{"/campaigns", "/campaigns/preview", base + "/delete"} {
		if r := handMade(ag, p, url.Values{}); r.Status != http.StatusForbidden {
			t.Errorf("agent POST %s: %d", p, r.Status)
		}
	}
	if r := uploadImage(t, ag, ca.URL, "photo.jpg", nil); r.Status != http.StatusForbidden {
		t.Errorf("agent upload: %d", r.Status)
	}
	// Delete is soft: gone from the list, the row stays.
	if r := c.Get("/campaigns").Form("form[action=" + base + "/delete]").Submit(); r.Status != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.Status)
	}
	if r := c.Get(base); r.Status != http.StatusNotFound {
		t.Fatalf("deleted campaign opens: %d", r.Status)
	}
	if ca.count(t, "campaigns") != 2 {
		t.Fatal("delete removed the row")
	}
}

func TestCampaignConcurrentEditIsShownNotOverwritten(t *testing.T) {
	ca := newCampaignApp(t)
	a := ca.mkt
	if r := ca.fillGood(campaignForm(t, a, "/campaigns/new")).Submit(); r.Status != http.StatusSeeOther {
		t.Fatalf("create: %d", r.Status)
	}
	var id int64
	_ = ca.SQL().QueryRow(context.Background(), "SELECT id FROM campaigns").Scan(&id)
	path := "/campaigns/" + itoa(id)
	ca.User(ca.team.ID, models.RoleMarketer, "amy@bear.test")
	b := ca.Client()
	b.Login("amy@bear.test", testutil.Password)
	// Both open the form; Amy saves first.
	pageA := a.Get(path)
	formA := pageA.Form("#campaign-form")
	if r := campaignForm(t, b, path).Set("title", "Amy 改的標題").Submit(); r.Status != http.StatusSeeOther {
		t.Fatalf("amy: %d %s", r.Status, r.Body)
	}
	r := formA.Set("button", "馬上加入").Submit()
	if r.Status != http.StatusConflict || !strings.Contains(r.Body, `id="stale"`) || !strings.Contains(r.Body, "amy") ||
		!strings.Contains(r.Body, "Amy 改的標題") || !strings.Contains(r.Body, `value="馬上加入"`) {
		t.Fatalf("second save: %d", r.Status)
	}
	var title, button string
	_ = ca.SQL().QueryRow(context.Background(), "SELECT card_title, card_button FROM campaigns WHERE id = $1", id).Scan(&title, &button)
	if title != "Amy 改的標題" || button != "立即加入" {
		t.Fatalf("stale save written: %q %q", title, button)
	}
	// Saving the re-rendered form now replaces Amy's save, knowingly.
	if r := r.Form("#campaign-form").Submit(); r.Status != http.StatusSeeOther {
		t.Fatalf("resave: %d", r.Status)
	}
	_ = ca.SQL().QueryRow(context.Background(), "SELECT card_title, card_button FROM campaigns WHERE id = $1", id).Scan(&title, &button)
	if button != "馬上加入" {
		t.Fatalf("resave not written: %q", button)
	}
}

// TestCampaignFromTheSeededDemoTeam is the make run walk: on the seeded demo team, a marketer
// sets up Instagram → LINE with the seeded accounts (the LINE one carries its LIFF setup).
func TestCampaignFromTheSeededDemoTeam(t *testing.T) {
	a := testutil.NewApp(t, func(c *config.Config) { c.BaseURL = "http://omnilink.invalid" })
	ctx := context.Background()
	res, err := seed.Demo(ctx, a.Store, a.Accounts, "demo-password-long-enough")
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.SandboxChannels(ctx, a.Store, a.InProcessChannels(), a.Sandbox, res.AdminID); err != nil {
		t.Fatal(err)
	}
	a.User(res.TeamID, models.RoleMarketer, "mkt@demo.test")
	c := a.Client()
	c.Login("mkt@demo.test", testutil.Password)
	list, err := a.Channels.List(ctx, res.TeamID)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[models.Platform]int64{}
	for _, ch := range list {
		ids[ch.Platform] = ch.ID
	}
	c.Get("/campaigns/new")
	up := uploadImage(t, c, a.URL, "photo.jpg", nil)
	m := mediaIDField.FindStringSubmatch(up.Body)
	if m == nil {
		t.Fatalf("upload: %s", up.Body)
	}
	r := campaignForm(t, c, "/campaigns/new").
		Set("name", "IG → LINE").
		Set("source_channel_id", itoa(ids[models.Instagram])).
		Set("target_channel_id", itoa(ids[models.LINE])).
		Forge("media_id", m[1]). // what the swapped-in image slot carries
		Set("title", "加入 LINE 好友").
		Set("button", "立即加入").
		Set("success_source_kind", "text").
		Set("success_source_text", "完成！").
		Set("success_target_text", "歡迎").
		Set("tags_source_new", "IG").
		Set("tags_target_new", "LINE").
		Submit()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create on the demo team: %d\n%s", r.Status, r.Body)
	}
}

// uploadImage sends a real file to the image endpoint as htmx does on file pick.
func uploadImage(t *testing.T, c *testutil.Client, base, name string, data []byte) *testutil.Response {
	t.Helper()
	if data == nil {
		var err error
		data, err = os.ReadFile(filepath.Join("..", "internal", "media", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("_csrf", c.CSRF())
	fw, _ := mw.CreateFormFile("image", name)
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/campaigns/media", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-CSRF-Token", c.CSRF())
	req.Header.Set("HX-Request", "true")
	return c.Do(req)
}

var mediaIDField = regexp.MustCompile(`name="media_id" value="(\d+)"`)
