package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// platformApp is the real app whose platform clients talk, over HTTP, to a sandbox world of its own.
type platformApp struct {
	*testutil.TestApp
	world *sandbox.World
	team  *models.Team
	admin *testutil.Client
	// grant, when set, is what the Facebook user ticks on the dialog instead of what was asked.
	grant []string
}

func newPlatformApp(t *testing.T) *platformApp {
	t.Helper()
	world, err := sandbox.New(sandbox.Options{AppID: config.SandboxAppID, AppSecret: config.SandboxAppSecret})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(world.APIHandler())
	t.Cleanup(api.Close)
	a := testutil.NewApp(t, func(c *config.Config) {
		c.MetaGraphURL = api.URL + "/graph"
		c.LineAPIURL = api.URL + "/line"
		c.MetaDialogURL = api.URL + "/dialog"
	})
	team := a.Team("小熊烘焙坊")
	a.User(team.ID, models.RoleAdmin, "boss@bear.test")
	c := a.Client()
	c.Login("boss@bear.test", testutil.Password)
	return &platformApp{TestApp: a, world: world, team: team, admin: c}
}

// facebookLogin presses a connect (or reauthorise) button on page, as the browser does, and
// plays the Facebook user's part on the sandbox dialog: grant (the user's default) or cancel.
// It returns the callback page.
func (p *platformApp) facebookLogin(t *testing.T, c *testutil.Client, page, button, fbUser string, cancel bool) *testutil.Response {
	t.Helper()
	r := c.Get(page).Form(button).Submit()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("start from %s: %d\n%s", page, r.Status, r.Body)
	}
	dialog, err := url.Parse(r.Location)
	if err != nil || !strings.HasSuffix(dialog.Path, "/dialog/oauth") {
		t.Fatalf("start did not send us to the Facebook dialog: %q", r.Location)
	}
	q := dialog.Query()
	if q.Get("redirect_uri") != p.URL+"/oauth/meta/callback" || q.Get("state") == "" || q.Get("client_id") != config.SandboxAppID {
		t.Fatalf("dialog parameters: %v", q)
	}
	var back string
	if cancel {
		back, err = p.world.Deny(q.Get("redirect_uri"), q.Get("state"))
	} else {
		scopes := strings.Split(q.Get("scope"), ",")
		if p.grant != nil {
			scopes = p.grant
		}
		back, err = p.world.Authorize(fbUser, p.world.DefaultGrant(fbUser, scopes), q.Get("redirect_uri"), q.Get("state"))
	}
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(back)
	return c.Get(u.RequestURI())
}

// connectChosen submits the Facebook Login dialog shown on the channels page with its
// pre-ticked accounts, or with exactly the given ones.
func (p *platformApp) connectChosen(t *testing.T, c *testutil.Client, accounts ...string) *testutil.Response {
	t.Helper()
	f := c.Get("/channels").Form("#candidates-form")
	if len(accounts) > 0 {
		f.Set("account", accounts...)
	}
	return f.Submit()
}

// lineForm fills the LINE form on page with the sandbox account's credentials.
func lineForm(c *testutil.Client, page string, acct sandbox.LINEAccount) *testutil.Form {
	return c.Get(page).Form("#line-form").Set("channel_id", acct.ChannelID).Set("channel_secret", acct.ChannelSecret).
		Set("access_token", acct.AccessToken).Set("login_channel_id", acct.LoginChannelID).Set("liff_id", acct.LIFFID)
}

func (p *platformApp) channels(t *testing.T) []models.Channel {
	t.Helper()
	list, err := p.Store.TeamChannels(context.Background(), p.team.ID)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestConnectInstagram(t *testing.T) {
	p := newPlatformApp(t)
	cb := p.facebookLogin(t, p.admin, "/channels", "#connect-instagram", sandbox.MeiUserID, false)
	if cb.Status != http.StatusOK || !strings.Contains(cb.Body, "授權完成") || !strings.Contains(cb.Body, "<title>Facebook 授權完成") {
		t.Fatalf("callback: %d\n%s", cb.Status, cb.Body)
	}
	// The original tab learns the result by polling, even though the login tab is gone.
	d := p.admin.Get("/channels/oauth/dialog")
	if !strings.Contains(d.Body, "bearbakery.tw") || !strings.Contains(d.Body, "選擇要串接的 Instagram 帳號") || !strings.Contains(d.Body, "林美玲") {
		t.Fatalf("dialog lacks the Instagram account, its title or who authorised:\n%s", d.Body)
	}
	// The one connectable account starts ticked: pressing 串接 is enough.
	if got := d.Form("#candidates-form").Values()["account"]; len(got) != 1 || got[0] != sandbox.BearBakeryIGID {
		t.Fatalf("pre-ticked accounts: %v, want just %s", got, sandbox.BearBakeryIGID)
	}
	r := d.Form("#connect-chosen").Submit()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("connect: %d\n%s", r.Status, r.Body)
	}
	list := p.channels(t)
	if len(list) != 1 || list[0].Platform != models.Instagram || list[0].ExternalID != sandbox.BearBakeryIGID || list[0].Username != "bearbakery.tw" {
		t.Fatalf("channels: %+v", list)
	}
	ch := list[0]
	creds, err := p.Channels.Credentials(&ch)
	if err != nil || creds.AccessToken == "" {
		t.Fatalf("credentials: %v", err)
	}
	if strings.Contains(ch.Credentials, creds.AccessToken) {
		t.Fatal("the Page token is stored in plain text")
	}
	if fields, ok := p.world.Subscription(sandbox.BearBakeryPageID); !ok || len(fields) == 0 {
		t.Fatal("webhooks were not subscribed on the linked Page")
	}
	page := p.admin.Get("/channels")
	if !strings.Contains(page.Body, "@bearbakery.tw") || !strings.Contains(page.Body, "林美玲") || strings.Contains(page.Body, creds.AccessToken) {
		t.Fatal("channels page should list the account and who authorised it, and never the token")
	}
	// The flash names the account and the Facebook user who authorised it.
	if !strings.Contains(page.Body, "已串接 Instagram 帳號「"+ch.DisplayName+"」，由 Facebook 用戶 林美玲 授權") {
		t.Fatalf("connected flash does not name the account and the person:\n%s", page.Body)
	}
	if strings.Contains(page.Body, `id="oauth-result"`) {
		t.Fatal("the dialog stays open after connecting")
	}
	// The Instagram page lists the spec's checklist, including 允許存取訊息.
	if d := p.admin.Get("/channels/" + itoa(ch.ID)); !strings.Contains(d.Body, "允許存取訊息") || !strings.Contains(d.Body, `data-copy="#webhook-url"`) {
		t.Fatal("the Instagram page lacks 允許存取訊息 or a copy button for the webhook URL")
	}
}

func TestInstagramProblemsExplained(t *testing.T) {
	cases := []struct {
		user, want, check string
	}{
		{sandbox.KaiUserID, "沒有連結 Instagram 商業帳號", "商業帳戶"},
		{sandbox.YuUserID, "創作者帳戶", "商業帳戶"},
		{sandbox.AnnUserID, "取消了必要的權限", "請勿取消勾選任何權限"},
	}
	for _, tc := range cases {
		t.Run(tc.user, func(t *testing.T) {
			p := newPlatformApp(t)
			p.facebookLogin(t, p.admin, "/channels", "#connect-instagram", tc.user, false)
			page := p.admin.Get("/channels")
			if !strings.Contains(page.Body, tc.want) || !strings.Contains(page.Body, tc.check) {
				t.Fatalf("dialog should explain %q with the checklist:\n%s", tc.want, page.Body)
			}
			f := page.Form("#candidates-form")
			if got := f.Values()["account"]; len(got) != 0 {
				t.Fatalf("accounts with a problem are ticked: %v", got)
			}
			// Nothing can be connected, so there is no 串接 button to press, only the way out.
			if strings.Contains(page.Body, `id="connect-chosen"`) || !strings.Contains(page.Body, `id="none-selectable"`) {
				t.Fatal("串接 is offered although no account can be connected")
			}
			// A hand-made post of those accounts connects nothing and stays in the dialog.
			for _, id := range []string{sandbox.AnnFloristIGID, sandbox.YuSelectIGID} {
				p.admin.Get("/channels").Form("#candidates-form").Forge("account", id).Submit()
			}
			if n := len(p.channels(t)); n != 0 {
				t.Fatalf("%d channels created from accounts with problems", n)
			}
			if tc.user == sandbox.AnnUserID {
				// "Edit settings" asks Facebook to show the declined permission again.
				r := p.admin.Get("/channels").Form("#edit-settings").Submit()
				if !strings.Contains(r.Location, "auth_type=rerequest") {
					t.Fatalf("edit settings does not re-request: %q", r.Location)
				}
			}
		})
	}
}

func TestDialogWithNothingTickedStaysADialog(t *testing.T) {
	p := newPlatformApp(t)
	p.facebookLogin(t, p.admin, "/channels", "#connect-instagram", sandbox.MeiUserID, false)
	r := p.admin.Get("/channels").Form("#candidates-form").Uncheck("account", sandbox.BearBakeryIGID).Submit()
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="oauth-result"`) || !strings.Contains(r.Body, "請至少勾選一個帳號") {
		t.Fatalf("connecting nothing: %d, want the dialog again with the reason\n%s", r.Status, r.Body)
	}
	if !strings.Contains(r.Body, "已串接的 Instagram 帳號") {
		t.Fatal("the answer is not the channels page")
	}
	// What the user unticked stays unticked; ticking it again connects it.
	f := r.Form("#candidates-form")
	if len(f.Values()["account"]) != 0 {
		t.Fatal("the re-shown dialog ticked the account the user had unticked")
	}
	if r := f.Check("account", sandbox.BearBakeryIGID).Submit(); r.Status != http.StatusSeeOther || len(p.channels(t)) != 1 {
		t.Fatalf("connect after the error: %d", r.Status)
	}
}

func TestClosingTheDialogDoesNotBringBackAnOlderOne(t *testing.T) {
	p := newPlatformApp(t)
	p.facebookLogin(t, p.admin, "/channels", "#connect-facebook", sandbox.KaiUserID, false)
	p.facebookLogin(t, p.admin, "/channels", "#connect-instagram", sandbox.MeiUserID, false)
	page := p.admin.Get("/channels")
	if !strings.Contains(page.Body, "選擇要串接的 Instagram 帳號") {
		t.Fatal("the newest dialog is not the one shown")
	}
	if r := page.Form("#dialog-close").Submit(); r.Status != http.StatusSeeOther {
		t.Fatalf("close: %d", r.Status)
	}
	if after := p.admin.Get("/channels"); strings.Contains(after.Body, `id="oauth-result"`) {
		t.Fatalf("closing the dialog brought back an older one:\n%s", after.Body)
	}
	if d := p.admin.Get("/channels/oauth/dialog"); strings.TrimSpace(d.Body) != "" {
		t.Fatalf("the polled dialog still has content: %q", d.Body)
	}
}

// connect runs Facebook Login for purpose as fbUser and ticks account in the result dialog; it
// returns the dialog as shown before connecting.
func (p *platformApp) connect(t *testing.T, purpose, fbUser, account string) string {
	t.Helper()
	p.facebookLogin(t, p.admin, "/channels", "#connect-"+purpose, fbUser, false)
	d := p.admin.Get("/channels/oauth/dialog")
	// A browser can tick only an account the dialog offers; one with a problem is shown disabled.
	if strings.Contains(d.Body, `value="`+account+`" checked`) || strings.Contains(d.Body, `name="account" value="`+account+`">`) {
		p.connectChosen(t, p.admin, account)
	}
	return d.Body
}

// One Facebook user connects a team's Pages and Instagram accounts, whichever came first, and
// the dialog names that user; a real cause (a declined permission) is shown before the rule.
func TestInstagramMustUseTheFacebookPagesUser(t *testing.T) {
	p := newPlatformApp(t)
	// mei connects the team's Facebook Page…
	p.connect(t, "facebook", sandbox.MeiUserID, sandbox.BearBakeryPageID)
	if n := len(p.channels(t)); n != 1 {
		t.Fatalf("channels: %d", n)
	}
	// …so Instagram connected by jun (an editor of the same Page) fails with the spec's message naming mei.
	d := p.connect(t, "instagram", sandbox.JunUserID, sandbox.BearBakeryIGID)
	if !strings.Contains(d, "整合IG帳號失敗") || !strings.Contains(d, "林美玲") {
		t.Fatalf("same-user rule not applied:\n%s", d)
	}
	if n := len(p.channels(t)); n != 1 {
		t.Fatalf("Instagram was connected by another Facebook user: %d channels", n)
	}
	// ann declined a permission: that is what she must fix first, not who she is.
	d = p.connect(t, "instagram", sandbox.AnnUserID, sandbox.AnnFloristIGID)
	if !strings.Contains(d, "取消了必要的權限") || strings.Contains(d, "整合IG帳號失敗") {
		t.Fatalf("the declined permission is hidden behind the same-user rule:\n%s", d)
	}
}

func TestPageMustUseTheInstagramUser(t *testing.T) {
	p := newPlatformApp(t)
	p.connect(t, "instagram", sandbox.MeiUserID, sandbox.BearBakeryIGID)
	d := p.connect(t, "facebook", sandbox.JunUserID, sandbox.JunHandmadePageID)
	if !strings.Contains(d, "串接粉專失敗") || !strings.Contains(d, "林美玲") {
		t.Fatalf("the same-user rule does not hold for a Page connected after Instagram:\n%s", d)
	}
	if n := len(p.channels(t)); n != 1 {
		t.Fatalf("the Page was connected by another Facebook user: %d channels", n)
	}
	// mei herself may.
	p.connect(t, "facebook", sandbox.MeiUserID, sandbox.BearBakeryPageID)
	if n := len(p.channels(t)); n != 2 {
		t.Fatalf("mei's Page: %d channels", n)
	}
	// When the Page breaks, the banner names the Facebook user to reauthorise with.
	for _, ch := range p.channels(t) {
		if ch.Platform == models.Facebook {
			ch.Status, ch.StatusCause = models.ChannelInvalid, "password_changed"
			if err := p.Store.SaveChannel(context.Background(), &ch); err != nil {
				t.Fatal(err)
			}
		}
	}
	if page := p.admin.Get("/channels"); !strings.Contains(page.Body, "請使用 Facebook 用戶「林美玲」重新授權") {
		t.Fatalf("the banner does not name the Facebook user to use:\n%s", page.Body)
	}
	// Reauthorising the Page as jun (who can see it) still meets the rule, and leaves it as it was.
	var fb models.Channel
	for _, ch := range p.channels(t) {
		if ch.Platform == models.Facebook {
			fb = ch
		}
	}
	path := "/channels/" + itoa(fb.ID) + "/reauthorize"
	cb := p.facebookLogin(t, p.admin, path, "#reauthorize-start", sandbox.JunUserID, false)
	if !strings.Contains(cb.Body, "重新授權未完成") || !strings.Contains(cb.Body, "林美玲") {
		t.Fatalf("reauthorising as another Facebook user:\n%s", cb.Body)
	}
	if after, _ := p.Store.Channel(context.Background(), p.team.ID, fb.ID); after.Status != models.ChannelInvalid || after.Credentials != fb.Credentials {
		t.Fatalf("the Page was reauthorised by another Facebook user: %+v", after)
	}
}

func TestFacebookCancelAndStateRules(t *testing.T) {
	p := newPlatformApp(t)
	cb := p.facebookLogin(t, p.admin, "/channels", "#connect-facebook", "", true)
	if !strings.Contains(cb.Body, "取消了 Facebook 授權") || !strings.Contains(cb.Body, "<title>Facebook 授權未完成") {
		t.Fatalf("cancel not explained, or the tab is titled as a success:\n%s", cb.Body)
	}
	d := p.admin.Get("/channels")
	if !strings.Contains(d.Body, "取消了 Facebook 授權") {
		t.Fatal("the channels page does not show why nothing was connected")
	}
	if title := between(d.Body, `id="oauth-result-title">`, "<"); title != "Facebook 授權未完成" {
		t.Fatalf("the dialog after a cancel is titled %q", title)
	}
	// A state works once, and only for the session that started it.
	r := p.admin.Get("/channels").Form("#connect-facebook").Submit()
	q, _ := url.Parse(r.Location)
	back, _ := p.world.Authorize(sandbox.MeiUserID, p.world.DefaultGrant(sandbox.MeiUserID, strings.Split(q.Query().Get("scope"), ",")), q.Query().Get("redirect_uri"), q.Query().Get("state"))
	u, _ := url.Parse(back)
	other := p.Client()
	other.Login("boss@bear.test", testutil.Password)
	if r := other.Get(u.RequestURI()); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "不是由您目前的登入工作階段發起") {
		t.Fatalf("another session used the state: %d", r.Status)
	}
	// The foreign attempt did not spend it: the session that started the login still finishes it…
	if r := p.admin.Get(u.RequestURI()); r.Status != http.StatusOK || !strings.Contains(r.Body, "授權完成") {
		t.Fatalf("the owner's callback after a foreign attempt: %d\n%s", r.Status, r.Body)
	}
	// …exactly once.
	if r := p.admin.Get(u.RequestURI()); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "已過期或已使用過") {
		t.Fatalf("a claimed state was accepted again: %d", r.Status)
	}
	if r := other.Get(u.RequestURI()); r.Status != http.StatusBadRequest {
		t.Fatalf("a spent state shown by another session: %d", r.Status)
	}
	if r := p.admin.Get("/oauth/meta/callback?state=forged&code=x"); r.Status != http.StatusBadRequest {
		t.Fatalf("forged state: %d", r.Status)
	}
	if n := len(p.channels(t)); n != 0 {
		t.Fatalf("channels created: %d", n)
	}
}

func TestReauthoriseInPlace(t *testing.T) {
	p := newPlatformApp(t)
	ctx := context.Background()
	p.facebookLogin(t, p.admin, "/channels", "#connect-instagram", sandbox.MeiUserID, false)
	p.connectChosen(t, p.admin)
	ch := p.channels(t)[0]
	oldCreds := ch.Credentials
	// The token dies (password changed); the health monitor marks the channel broken.
	if err := p.world.BreakToken(sandbox.Target{Kind: sandbox.TargetFacebookUser, ID: sandbox.MeiUserID}, sandbox.CausePasswordChanged); err != nil {
		t.Fatal(err)
	}
	ch.Status, ch.StatusCause = models.ChannelInvalid, "password_changed"
	if err := p.Store.SaveChannel(ctx, &ch); err != nil {
		t.Fatal(err)
	}
	path := "/channels/" + itoa(ch.ID) + "/reauthorize"
	// kai cannot see the account: the channel stays exactly as it was.
	cb := p.facebookLogin(t, p.admin, path, "#reauthorize-start", sandbox.KaiUserID, false)
	if !strings.Contains(cb.Body, "看不到要重新授權的帳號") || !strings.Contains(cb.Body, "（林美玲）") {
		t.Fatalf("reauthorise by the wrong user not explained:\n%s", cb.Body)
	}
	after, _ := p.Store.Channel(ctx, p.team.ID, ch.ID)
	if after.Status != models.ChannelInvalid || after.Credentials != oldCreds {
		t.Fatal("a failed reauthorisation changed the channel")
	}
	p.admin.Get(path).Form("#dialog-close").Submit()
	// mei again: same channel, new token, working.
	cb = p.facebookLogin(t, p.admin, path, "#reauthorize-start", sandbox.MeiUserID, false)
	if !strings.Contains(cb.Body, "重新授權成功") {
		t.Fatalf("reauthorise failed:\n%s", cb.Body)
	}
	if title := between(p.admin.Get(path).Body, `id="oauth-result-title">`, "<"); title != "重新授權完成" {
		t.Fatalf("the dialog after reauthorising is titled %q", title)
	}
	after, _ = p.Store.Channel(ctx, p.team.ID, ch.ID)
	if after.Status != models.ChannelActive || after.Credentials == oldCreds || after.ID != ch.ID {
		t.Fatalf("not repaired in place: %+v", after)
	}
	creds, _ := p.Channels.Credentials(after)
	if _, err := p.Meta.PageInfo(ctx, sandbox.BearBakeryPageID, creds.AccessToken); err != nil {
		t.Fatalf("the new token does not work: %v", err)
	}
	if n := len(p.channels(t)); n != 1 {
		t.Fatalf("reauthorising created another channel: %d", n)
	}
}

func TestDisconnectAndReconnectKeepsTheChannel(t *testing.T) {
	p := newPlatformApp(t)
	acct := p.world.LINEAccounts()[0]
	if r := lineForm(p.admin, "/channels/line/new", acct).Submit(); r.Status != http.StatusSeeOther {
		t.Fatalf("line: %d", r.Status)
	}
	ch := p.channels(t)[0]
	list := p.admin.Get("/channels")
	f := list.Form("form[action=/channels/" + itoa(ch.ID) + "/disconnect]")
	// The button says 中斷連接 (not 不連接, which reads as "do not connect"), and the
	// confirmation names the account.
	if !strings.Contains(list.Body, ">中斷連接</button>") || strings.Contains(list.Body, "不連接") ||
		!strings.Contains(list.Body, "確定要中斷連接 LINE 官方帳號「"+ch.DisplayName+"」嗎") {
		t.Fatalf("disconnect wording:\n%s", list.Body)
	}
	if r := f.Submit(); r.Status != http.StatusSeeOther {
		t.Fatal(r.Status)
	}
	if page := p.admin.Get("/channels"); !strings.Contains(page.Body, "已中斷連接 LINE 官方帳號「"+ch.DisplayName+"」") {
		t.Fatal("the flash does not name the disconnected account")
	}
	if len(p.channels(t)) != 0 {
		t.Fatal("disconnected channel still listed")
	}
	gone, _ := p.Store.Channel(context.Background(), p.team.ID, ch.ID)
	if gone.Status != models.ChannelDisconnected || gone.Credentials != "" {
		t.Fatal("disconnect must keep the row and drop the secrets")
	}
	lineForm(p.admin, "/channels/line/new", acct).Submit()
	again := p.channels(t)
	if len(again) != 1 || again[0].ID != ch.ID || again[0].Status != models.ChannelActive {
		t.Fatalf("reconnect did not bring back the same channel: %+v", again)
	}
}

func TestConnectLineAndWhatsApp(t *testing.T) {
	p := newPlatformApp(t)
	acct := p.world.LINEAccounts()[0]
	bad := []struct {
		field, value, msg string
	}{
		{"access_token", "x" + acct.AccessToken[1:], "LINE 不接受這個 access token"},
		{"channel_id", "1999999999", "屬於另一個 channel"},
		{"channel_secret", "not-hex", "32 個十六進位字元"},
		{"liff_id", "999-abcd", "LIFF ID"},
		{"channel_id", "123", "應為 6 到 20 位數字，目前是 3 位"},
		{"channel_id", "12-34-56", "只能填數字"},
	}
	for _, b := range bad {
		r := lineForm(p.admin, "/channels/line/new", acct).Set(b.field, b.value).Submit()
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, b.msg) {
			t.Errorf("LINE %s=%q: %d, want 422 with %q", b.field, b.value, r.Status, b.msg)
		}
		if strings.Contains(r.Body, acct.ChannelSecret) || strings.Contains(r.Body, acct.AccessToken) {
			t.Error("a secret was sent back to the browser")
		}
		// What was typed is kept, the secrets are asked for again, and the form still posts somewhere.
		again := r.Form("#line-form")
		if again.Get("liff_id") != lineTyped(b, "liff_id", acct.LIFFID) || again.Get("channel_secret") != "" || !strings.Contains(r.Body, "請重新貼上") {
			t.Errorf("LINE %s=%q: the re-shown form lost what was typed or kept a secret: %v", b.field, b.value, again.Values())
		}
	}
	if n := len(p.channels(t)); n != 0 {
		t.Fatalf("bad LINE input saved %d channels", n)
	}
	// Every field error shows after one submit.
	r := p.admin.Get("/channels/line/new").Form("#line-form").Set("channel_id", "12ab").Set("login_channel_id", "1").Set("liff_id", "nope").Submit()
	for _, want := range []string{"只能填數字", "此欄位必填", "應為 6 到 20 位數字，目前是 1 位", "LIFF ID 的格式"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("one submit with many mistakes lacks %q", want)
		}
	}
	if n := strings.Count(r.Body, `class="field-error"`); n != 5 {
		t.Errorf("%d field errors shown, want 5 (channel id, secret, token, login channel, LIFF)", n)
	}
	if strings.Contains(r.Body, "請重新貼上") {
		t.Error("asks to paste secrets again although none were typed")
	}

	r = lineForm(p.admin, "/channels/line/new", acct).Submit()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("LINE: %d\n%s", r.Status, r.Body)
	}
	detail := p.admin.Get(r.Location)
	line := p.channels(t)[0]
	if line.ExternalID != sandbox.LINEBotUserID || line.Username != "@bearbakery" || !strings.Contains(detail.Body, p.URL+"/webhooks/line/"+itoa(line.ID)) || !strings.Contains(detail.Body, p.URL+"/liff/link/"+line.Settings.LiffID) {
		t.Fatalf("LINE channel or its setup page: %+v", line)
	}
	if !strings.Contains(detail.Body, "供 OmniLink 活動使用") || !strings.Contains(detail.Body, `data-copy="#liff-endpoint"`) || !strings.Contains(detail.Body, `data-copy="#webhook-url"`) {
		t.Fatal("the LIFF URL is not described as for OmniLink campaigns, or lacks copy buttons")
	}
	if strings.Contains(detail.Body, acct.ChannelSecret) || strings.Contains(detail.Body, acct.AccessToken) {
		t.Fatal("the setup page shows a secret")
	}

	wa := p.world.WhatsAppNumbers()[0]
	waForm := func() *testutil.Form {
		return p.admin.Get("/channels/whatsapp/new").Form("#whatsapp-form").Set("phone_number_id", wa.PhoneNumberID).Set("waba_id", wa.WABAID).Set("access_token", wa.AccessToken)
	}
	r = waForm().Set("access_token", "EAAB"+strings.Repeat("x", 40)).Submit()
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "WhatsApp 不接受這個存取權杖") || r.Form("#whatsapp-form").Get("waba_id") != wa.WABAID {
		t.Fatalf("bad WhatsApp token: %d", r.Status)
	}
	// "123" is digits, just too short: the message must say so, not claim it is not a number.
	r = waForm().Set("phone_number_id", "123").Set("waba_id", "abc").Set("access_token", "").Submit()
	for _, want := range []string{"應為 6 到 20 位數字，目前是 3 位", "只能填數字", "此欄位必填"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("WhatsApp form with three mistakes lacks %q", want)
		}
	}
	if strings.Contains(r.Body, "應為數字") {
		t.Error("a number too short is called not a number")
	}
	r = waForm().Submit()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("WhatsApp: %d\n%s", r.Status, r.Body)
	}
	if d := p.admin.Get(r.Location); !strings.Contains(d.Body, "sandbox-verify-token") || !strings.Contains(d.Body, "/webhooks/meta") {
		t.Fatal("WhatsApp setup page lacks the webhook URL and verify token")
	}
	if _, ok := p.world.Subscription(wa.WABAID); !ok {
		t.Fatal("the app was not subscribed to the WhatsApp business account's webhooks")
	}
	if n := len(p.channels(t)); n != 2 {
		t.Fatalf("channels: %d", n)
	}
}

// lineTyped is what a field of the bad-input case held when submitted.
func lineTyped(b struct{ field, value, msg string }, field, def string) string {
	if b.field == field {
		return b.value
	}
	return def
}

func TestReplaceLineCredentials(t *testing.T) {
	p := newPlatformApp(t)
	acct := p.world.LINEAccounts()[0]
	lineForm(p.admin, "/channels/line/new", acct).Submit()
	ch := p.channels(t)[0]
	path := "/channels/" + itoa(ch.ID) + "/reauthorize"
	page := p.admin.Get(path)
	f := page.Form("#line-form")
	if f.Action() != p.URL+path || f.Get("channel_id") != acct.ChannelID || f.Get("channel_secret") != "" {
		t.Fatalf("update form: action %s, values %v", f.Action(), f.Values())
	}
	// Only the token changed: the stored secret is kept, not demanded.
	if r := f.Set("access_token", acct.AccessToken).Submit(); r.Status != http.StatusSeeOther {
		t.Fatalf("new token only: %d\n%s", r.Status, r.Body)
	}
	after, _ := p.Store.Channel(context.Background(), p.team.ID, ch.ID)
	creds, err := p.Channels.Credentials(after)
	if err != nil || creds.ChannelSecret != acct.ChannelSecret || creds.AccessToken != acct.AccessToken {
		t.Fatalf("credentials after a token-only update: %v", err)
	}
	if d := p.admin.Get("/channels/" + itoa(ch.ID)); !strings.Contains(d.Body, "已更新 LINE 官方帳號「"+ch.DisplayName+"」的憑證") {
		t.Fatal("the flash does not name the channel whose credentials changed")
	}
	// A wrong token is still refused, and nothing changes.
	r := p.admin.Get(path).Form("#line-form").Set("access_token", "x"+acct.AccessToken[1:]).Submit()
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "LINE 不接受") || r.Form("#line-form").Action() != p.URL+path {
		t.Fatalf("bad token on update: %d", r.Status)
	}
}

func TestChannelsOfAnotherTeam(t *testing.T) {
	p := newPlatformApp(t)
	acct := p.world.LINEAccounts()[0]
	lineForm(p.admin, "/channels/line/new", acct).Set("login_channel_id", "").Set("liff_id", "").Submit()
	ch := p.channels(t)[0]
	mine := p.admin.Get("/channels")
	other := p.Team("Other")
	p.User(other.ID, models.RoleAdmin, "x@other.test")
	c := p.Client()
	c.Login("x@other.test", testutil.Password)
	for _, path := range []string{"/channels/" + itoa(ch.ID), "/channels/" + itoa(ch.ID) + "/reauthorize", "/channels/" + itoa(ch.ID) + "/health"} {
		if r := c.Get(path); r.Status != http.StatusNotFound {
			t.Errorf("GET %s from another team: %d", path, r.Status)
		}
	}
	// The other team's list shows none of this team's channels.
	list := c.Get("/channels")
	if list.Status != http.StatusOK || strings.Contains(list.Body, ch.DisplayName) || strings.Contains(list.Body, "/channels/"+itoa(ch.ID)) || !strings.Contains(list.Body, "尚未串接 LINE 官方帳號") {
		t.Fatalf("another team's channel appears in the list:\n%s", list.Body)
	}
	if !mine.HasForm("form[action=/channels/" + itoa(ch.ID) + "/disconnect]") {
		t.Fatal("this team's list has no disconnect form for its channel")
	}
	// Another team can only hand-make the post, with its own valid token.
	token := c.Get("/channels").Form("#connect-instagram").Get("_csrf")
	if r := c.Post("/channels/"+itoa(ch.ID)+"/disconnect", url.Values{"_csrf": {token}}); r.Status != http.StatusNotFound {
		t.Errorf("disconnect from another team: %d", r.Status)
	}
	// The same LINE account cannot be live in two teams: webhooks must route to one.
	r := lineForm(c, "/channels/line/new", acct).Set("login_channel_id", "").Set("liff_id", "").Submit()
	if r.Status != http.StatusConflict || !strings.Contains(r.Body, "另一個團隊") {
		t.Fatalf("second team connecting the same account: %d", r.Status)
	}
	if after, _ := p.Store.Channel(context.Background(), p.team.ID, ch.ID); after.Status != models.ChannelActive {
		t.Fatal("the first team's channel changed")
	}
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	j := strings.Index(s, end)
	if j < 0 {
		return ""
	}
	return s[:j]
}

// breakBoth connects the Bear Bakery Page and its Instagram account (by mei) and marks both broken,
// as a password change does; it returns them.
func (p *platformApp) breakBoth(t *testing.T) (ig, fb models.Channel) {
	t.Helper()
	p.connect(t, "facebook", sandbox.MeiUserID, sandbox.BearBakeryPageID)
	p.connect(t, "instagram", sandbox.MeiUserID, sandbox.BearBakeryIGID)
	list := p.channels(t)
	if len(list) != 2 {
		t.Fatalf("channels: %d", len(list))
	}
	for _, ch := range list {
		ch.Status, ch.StatusCause = models.ChannelInvalid, "password_changed"
		if err := p.Store.SaveChannel(context.Background(), &ch); err != nil {
			t.Fatal(err)
		}
		if ch.Platform == models.Instagram {
			ig = ch
		} else {
			fb = ch
		}
	}
	return ig, fb
}

// A Page and its Instagram account share one Page token; reauthorising one repairs the other only
// when the new token is proven (debug_token scopes, Page tasks) to serve it.
func TestReauthorisingOneChannelRepairsItsPageSibling(t *testing.T) {
	p := newPlatformApp(t)
	p.grant = sandbox.AppScopes() // every permission the app asks for, as "Opt in to all" gives
	ig, fb := p.breakBoth(t)
	path := "/channels/" + itoa(ig.ID) + "/reauthorize"
	if cb := p.facebookLogin(t, p.admin, path, "#reauthorize-start", sandbox.MeiUserID, false); !strings.Contains(cb.Body, "重新授權成功") || strings.Contains(cb.Body, "請也重新授權它") {
		t.Fatalf("reauthorise: %s", cb.Body)
	}
	after, _ := p.Store.Channel(context.Background(), p.team.ID, fb.ID)
	if after.Status != models.ChannelActive || after.Credentials == fb.Credentials {
		t.Fatalf("the Facebook Page sharing the token stayed broken: %+v", after)
	}
}

func TestListAndChannelPageAgreeOnHealth(t *testing.T) {
	p := newPlatformApp(t)
	ctx := context.Background()
	acct := p.world.LINEAccounts()[0]
	lineForm(p.admin, "/channels/line/new", acct).Submit()
	ch := p.channels(t)[0]
	target := sandbox.Target{Kind: sandbox.TargetLINE, ID: acct.ChannelID}
	rowOf := func(body string) string { return between(body, `id="channel-`+itoa(ch.ID)+`"`, "</tr>") }

	// LINE cannot be asked right now: the check's verdict is unknown, on both pages.
	if err := p.world.SetTransientFailure(target, 3, sandbox.FailUnknown); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Health.CheckChannel(ctx, p.team.ID, ch.ID); err != nil {
		t.Fatal(err)
	}
	row := rowOf(p.admin.Get("/channels").Body)
	detail := p.admin.Get("/channels/" + itoa(ch.ID)).Body
	if !strings.Contains(row, "暫時無法確認") || strings.Contains(row, ">正常<") || !strings.Contains(detail, "暫時無法確認") {
		t.Fatalf("after an unknown verdict the list row says:\n%s\nand the channel page %v", row, strings.Contains(detail, "暫時無法確認"))
	}

	// The token dies: the channel page says so once, with one reauthorise button.
	if err := p.world.SetTransientFailure(target, 0, sandbox.FailUnknown); err != nil {
		t.Fatal(err)
	}
	if err := p.world.BreakToken(target, sandbox.CauseExpired); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Health.CheckChannel(ctx, p.team.ID, ch.ID); err != nil {
		t.Fatal(err)
	}
	broken, _ := p.Store.Channel(ctx, p.team.ID, ch.ID)
	if !broken.Broken() {
		t.Fatalf("the check did not mark the channel broken: %+v", broken)
	}
	page := p.admin.Get("/channels/" + itoa(ch.ID))
	cause := p.I18n.For("zh-TW").T("health.cause." + broken.StatusCause + ".title")
	if !strings.Contains(rowOf(p.admin.Get("/channels").Body), cause) {
		t.Fatalf("the list row does not say why the channel is broken (%q)", cause)
	}
	reauth := `href="/channels/` + itoa(ch.ID) + `/reauthorize"`
	// The status history (a collapsed log of episodes) may name the cause again; the rest of
	// the page says it once.
	main := between(page.Body, `<main id="main">`, "</main>")
	if h := between(main, "<details>", "</details>"); h != "" {
		main = strings.Replace(main, h, "", 1)
	}
	if n := strings.Count(main, cause); n != 1 {
		t.Errorf("the channel page says %q %d times, want once:\n%s", cause, n, main)
	}
	if n := strings.Count(page.Body, reauth); n != 1 {
		t.Errorf("the channel page has %d reauthorise buttons, want one", n)
	}
	// Other pages still carry the banner with its button.
	if !strings.Contains(p.admin.Get("/").Body, reauth) {
		t.Error("the overview lost the broken-channel banner")
	}
}

// TestChannelPagesInEnglish walks the channel pages in English; the test client fails on any
// raw message key or zh-TW phrase they show.
func TestChannelPagesInEnglish(t *testing.T) {
	p := newPlatformApp(t)
	if r := p.admin.Get("/channels").Form("button[value=en]").Submit(); r.Status != http.StatusSeeOther {
		t.Fatalf("switch to English: %d", r.Status)
	}
	list := p.admin.Get("/channels")
	if !strings.Contains(list.Body, `lang="en"`) || !strings.Contains(list.Body, "Connect a LINE official account") {
		t.Fatal("the channels page is not in English")
	}
	acct := p.world.LINEAccounts()[0]
	bad := lineForm(p.admin, "/channels/line/new", acct).Set("channel_id", "123").Set("channel_secret", "x").Submit()
	if !strings.Contains(bad.Body, "Should be 6 to 20 digits; this has 3.") || !strings.Contains(bad.Body, "paste them again") {
		t.Fatalf("English field errors:\n%s", bad.Body)
	}
	r := lineForm(p.admin, "/channels/line/new", acct).Submit()
	detail := p.admin.Get(r.Location)
	if !strings.Contains(detail.Body, "used by OmniLink campaigns") || !strings.Contains(detail.Body, ">Copy</button>") {
		t.Fatal("the English LINE page lacks its wording")
	}
	p.admin.Get(r.Location + "/reauthorize")
	p.facebookLogin(t, p.admin, "/channels", "#connect-instagram", sandbox.KaiUserID, false)
	if d := p.admin.Get("/channels"); !strings.Contains(d.Body, "Choose the Instagram accounts to connect") {
		t.Fatal("the English dialog lacks its title")
	}
}

func TestReauthorisingInstagramLeavesAPageItCannotServeBroken(t *testing.T) {
	p := newPlatformApp(t)
	ig, fb := p.breakBoth(t)
	// The Instagram dialog asks for Instagram's permissions only: no pages_messaging.
	path := "/channels/" + itoa(ig.ID) + "/reauthorize"
	cb := p.facebookLogin(t, p.admin, path, "#reauthorize-start", sandbox.MeiUserID, false)
	if !strings.Contains(cb.Body, "重新授權成功") || !strings.Contains(cb.Body, "請也重新授權它") || !strings.Contains(cb.Body, "pages_messaging") {
		t.Fatalf("the result does not ask for the Page to be reauthorised too:\n%s", cb.Body)
	}
	after, _ := p.Store.Channel(context.Background(), p.team.ID, fb.ID)
	if after.Status != models.ChannelInvalid || after.Credentials != fb.Credentials {
		t.Fatalf("the Page was \"repaired\" with a token that cannot message: %+v", after)
	}
	if got, _ := p.Store.Channel(context.Background(), p.team.ID, ig.ID); got.Status != models.ChannelActive {
		t.Fatalf("Instagram itself: %s", got.Status)
	}
	// And the other way round: the Page's permissions do not cover Instagram messaging.
	p.admin.Submit("/channels", "/channels/oauth/"+between(p.admin.Get("/channels/oauth/dialog").Body, `action="/channels/oauth/`, `/dismiss"`)+"/dismiss", nil)
	ig.Status = models.ChannelInvalid
	if err := p.Store.SaveChannel(context.Background(), &ig); err != nil {
		t.Fatal(err)
	}
	path = "/channels/" + itoa(fb.ID) + "/reauthorize"
	cb = p.facebookLogin(t, p.admin, path, "#reauthorize-start", sandbox.MeiUserID, false)
	if !strings.Contains(cb.Body, "重新授權成功") || !strings.Contains(cb.Body, "instagram_manage_messages") {
		t.Fatalf("reauthorising the Page next to a broken Instagram account:\n%s", cb.Body)
	}
	if got, _ := p.Store.Channel(context.Background(), p.team.ID, ig.ID); got.Status != models.ChannelInvalid {
		t.Fatalf("Instagram was \"repaired\" by a Page-only token: %s", got.Status)
	}
}

// A connect that Facebook refuses for good says what failed and why, in words, and not "try
// again later"; Facebook's own trouble does say so.
func TestConnectFailureSaysWhatFailedAndWhy(t *testing.T) {
	p := newPlatformApp(t)
	p.facebookLogin(t, p.admin, "/channels", "#connect-facebook", sandbox.MeiUserID, false)
	p.admin.Get("/channels/oauth/dialog")
	if err := p.world.RevokePermission(sandbox.Target{Kind: sandbox.TargetPage, ID: sandbox.BearBakeryPageID}, "pages_manage_metadata"); err != nil {
		t.Fatal(err)
	}
	p.connectChosen(t, p.admin, sandbox.BearBakeryPageID)
	page := p.admin.Get("/channels")
	for _, want := range []string{"無法串接「小熊烘焙坊 Bear Bakery」", "為粉專訂閱 Webhook時 Facebook 拒絕了", "pages_manage_metadata", "請由粉專的管理員進行授權"} {
		if !strings.Contains(page.Body, want) {
			t.Fatalf("the result lacks %q:\n%s", want, page.Body)
		}
	}
	if strings.Contains(page.Body, "稍後再試") {
		t.Fatal("a permanent refusal says to try again later")
	}
	if n := len(p.channels(t)); n != 0 {
		t.Fatalf("%d channels", n)
	}
}

// Against the strict Graph stand-in, a Page and an Instagram account connect, reauthorise in place,
// and survive "Webhooks Disabled": the health check subscribes the Page again with Messenger's
// own fields, and customers' messages are delivered again.
func TestPageAndInstagramSurviveWebhooksDisabled(t *testing.T) {
	p := newPlatformApp(t)
	ctx := context.Background()
	p.grant = sandbox.AppScopes()
	ig, fb := p.breakBoth(t)
	for _, ch := range []models.Channel{fb, ig} {
		path := "/channels/" + itoa(ch.ID) + "/reauthorize"
		if cb := p.facebookLogin(t, p.admin, path, "#reauthorize-start", sandbox.MeiUserID, false); !strings.Contains(cb.Body, "重新授權成功") {
			t.Fatalf("reauthorise %s: %s", ch.Platform, cb.Body)
		}
		p.admin.Submit("/channels", "/channels/oauth/"+between(p.admin.Get("/channels/oauth/dialog").Body, `action="/channels/oauth/`, `/dismiss"`)+"/dismiss", nil)
	}
	if n := len(p.channels(t)); n != 2 {
		t.Fatalf("reauthorising made new channels: %d", n)
	}
	for _, ch := range p.channels(t) {
		if ch.Status != models.ChannelActive {
			t.Fatalf("%s not repaired: %s", ch.Platform, ch.Status)
		}
	}
	if err := p.world.UnsubscribeApp(sandbox.BearBakeryPageID); err != nil {
		t.Fatal(err)
	}
	igsid, _ := p.world.CustomerID("xiaoming", sandbox.PlatformInstagram, sandbox.BearBakeryIGID)
	if _, _, err := p.world.SimulateInbound(sandbox.PlatformInstagram, sandbox.BearBakeryIGID, igsid, "hi"); err == nil {
		t.Fatal("the stand-in delivers while webhooks are disabled")
	}
	for _, ch := range []models.Channel{ig, fb} {
		res, err := p.Health.CheckChannel(ctx, p.team.ID, ch.ID)
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict.State != models.VerdictHealthy {
			t.Fatalf("%s after webhooks disabled: %+v", ch.Platform, res.Verdict)
		}
	}
	fields, ok := p.world.Subscription(sandbox.BearBakeryPageID)
	if !ok || strings.Join(fields, ",") != strings.Join(meta.WebhookFields(meta.ObjectPage), ",") {
		t.Fatalf("re-subscribed with %v", fields)
	}
	for _, c := range []struct {
		p       sandbox.Platform
		account string
	}{{sandbox.PlatformInstagram, sandbox.BearBakeryIGID}, {sandbox.PlatformFacebook, sandbox.BearBakeryPageID}} {
		cust, _ := p.world.CustomerID("xiaoming", c.p, c.account)
		body, _, err := p.world.SimulateInbound(c.p, c.account, cust, "還有草莓蛋糕嗎？")
		if err != nil {
			t.Fatalf("%s after the re-subscribe: %v", c.p, err)
		}
		status, err := sandbox.Deliver(ctx, http.DefaultClient, p.URL+"/webhooks/meta", body, sandbox.SignMeta(p.world.AppSecret(), body))
		if err != nil || status != http.StatusOK {
			t.Fatalf("%s delivery: %d %v", c.p, status, err)
		}
	}
}
