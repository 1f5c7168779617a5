package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/omnilink/omnilink/internal/config"
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

// facebookLogin presses a connect (or reauthorise) button and plays the Facebook user's part on the
// sandbox dialog: grant (nil scopes = the user's default) or cancel. It returns the callback page.
func (p *platformApp) facebookLogin(t *testing.T, c *testutil.Client, startPage, startPath, fbUser string, cancel bool, form url.Values) *testutil.Response {
	t.Helper()
	r := c.Submit(startPage, startPath, form)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("start %s: %d\n%s", startPath, r.Status, r.Body)
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
		back, err = p.world.Authorize(fbUser, p.world.DefaultGrant(fbUser, strings.Split(q.Get("scope"), ",")), q.Get("redirect_uri"), q.Get("state"))
	}
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(back)
	return c.Get(u.RequestURI())
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
	cb := p.facebookLogin(t, p.admin, "/channels", "/channels/connect/instagram", sandbox.MeiUserID, false, nil)
	if cb.Status != http.StatusOK || !strings.Contains(cb.Body, "授權完成") {
		t.Fatalf("callback: %d\n%s", cb.Status, cb.Body)
	}
	// The original tab learns the result by polling, even though the login tab is gone.
	d := p.admin.Get("/channels/oauth/dialog")
	if !strings.Contains(d.Body, "bearbakery.tw") || !strings.Contains(d.Body, `value="`+sandbox.BearBakeryIGID+`"`) {
		t.Fatalf("dialog lacks the Instagram account:\n%s", d.Body)
	}
	stateID := between(d.Body, `action="/channels/oauth/`, `/connect"`)
	r := p.admin.Submit("", "/channels/oauth/"+stateID+"/connect", url.Values{"account": {sandbox.BearBakeryIGID}})
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
	if strings.Contains(page.Body, `id="oauth-result"`) {
		t.Fatal("the dialog stays open after connecting")
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
			p.facebookLogin(t, p.admin, "/channels", "/channels/connect/instagram", tc.user, false, nil)
			d := p.admin.Get("/channels/oauth/dialog")
			if !strings.Contains(d.Body, tc.want) || !strings.Contains(d.Body, tc.check) {
				t.Fatalf("dialog should explain %q with the checklist:\n%s", tc.want, d.Body)
			}
			if strings.Contains(d.Body, `checked`) {
				t.Fatal("an account with a problem is ticked")
			}
			stateID := between(d.Body, `action="/channels/oauth/`, `/connect"`)
			for _, id := range []string{sandbox.AnnFloristIGID, sandbox.YuSelectIGID} {
				p.admin.Submit("", "/channels/oauth/"+stateID+"/connect", url.Values{"account": {id}})
			}
			if n := len(p.channels(t)); n != 0 {
				t.Fatalf("%d channels created from accounts with problems", n)
			}
			if tc.user == sandbox.AnnUserID {
				// "Edit settings" asks Facebook to show the declined permission again.
				r := p.admin.Submit("/channels", "/channels/connect/instagram", url.Values{"rerequest": {"1"}})
				if !strings.Contains(r.Location, "auth_type=rerequest") {
					t.Fatalf("edit settings does not re-request: %q", r.Location)
				}
			}
		})
	}
}

func TestInstagramMustUseTheFacebookPagesUser(t *testing.T) {
	p := newPlatformApp(t)
	// mei connects the team's Facebook Page…
	p.facebookLogin(t, p.admin, "/channels", "/channels/connect/facebook", sandbox.MeiUserID, false, nil)
	d := p.admin.Get("/channels/oauth/dialog")
	stateID := between(d.Body, `action="/channels/oauth/`, `/connect"`)
	if r := p.admin.Submit("", "/channels/oauth/"+stateID+"/connect", url.Values{"account": {sandbox.BearBakeryPageID}}); r.Status != http.StatusSeeOther {
		t.Fatal(r.Status)
	}
	// …so Instagram connected by ann fails with the spec's message naming mei.
	p.facebookLogin(t, p.admin, "/channels", "/channels/connect/instagram", sandbox.AnnUserID, false, nil)
	d = p.admin.Get("/channels/oauth/dialog")
	if !strings.Contains(d.Body, "整合IG帳號失敗") || !strings.Contains(d.Body, "林美玲") {
		t.Fatalf("same-user rule not applied:\n%s", d.Body)
	}
}

func TestFacebookCancelAndStateRules(t *testing.T) {
	p := newPlatformApp(t)
	cb := p.facebookLogin(t, p.admin, "/channels", "/channels/connect/facebook", "", true, nil)
	if !strings.Contains(cb.Body, "取消了 Facebook 授權") {
		t.Fatalf("cancel not explained:\n%s", cb.Body)
	}
	if d := p.admin.Get("/channels"); !strings.Contains(d.Body, "取消了 Facebook 授權") {
		t.Fatal("the channels page does not show why nothing was connected")
	}
	// A state works once, and only for the session that started it.
	r := p.admin.Submit("/channels", "/channels/connect/facebook", nil)
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
	p.facebookLogin(t, p.admin, "/channels", "/channels/connect/instagram", sandbox.MeiUserID, false, nil)
	d := p.admin.Get("/channels/oauth/dialog")
	p.admin.Submit("", "/channels/oauth/"+between(d.Body, `action="/channels/oauth/`, `/connect"`)+"/connect", url.Values{"account": {sandbox.BearBakeryIGID}})
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
	cb := p.facebookLogin(t, p.admin, path, path, sandbox.KaiUserID, false, nil)
	if !strings.Contains(cb.Body, "看不到要重新授權的帳號") {
		t.Fatalf("reauthorise by the wrong user not explained:\n%s", cb.Body)
	}
	after, _ := p.Store.Channel(ctx, p.team.ID, ch.ID)
	if after.Status != models.ChannelInvalid || after.Credentials != oldCreds {
		t.Fatal("a failed reauthorisation changed the channel")
	}
	p.admin.Submit("/channels", "/channels/oauth/"+between(p.admin.Get("/channels/oauth/dialog").Body, `action="/channels/oauth/`, `/dismiss"`)+"/dismiss", nil)
	// mei again: same channel, new token, working.
	cb = p.facebookLogin(t, p.admin, path, path, sandbox.MeiUserID, false, nil)
	if !strings.Contains(cb.Body, "重新授權成功") {
		t.Fatalf("reauthorise failed:\n%s", cb.Body)
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
	form := url.Values{"channel_id": {acct.ChannelID}, "channel_secret": {acct.ChannelSecret}, "access_token": {acct.AccessToken}, "login_channel_id": {acct.LoginChannelID}, "liff_id": {acct.LIFFID}}
	if r := p.admin.Submit("/channels/line/new", "/channels/line", form); r.Status != http.StatusSeeOther {
		t.Fatalf("line: %d", r.Status)
	}
	ch := p.channels(t)[0]
	if r := p.admin.Submit("/channels", "/channels/"+itoa(ch.ID)+"/disconnect", nil); r.Status != http.StatusSeeOther {
		t.Fatal(r.Status)
	}
	if len(p.channels(t)) != 0 {
		t.Fatal("disconnected channel still listed")
	}
	gone, _ := p.Store.Channel(context.Background(), p.team.ID, ch.ID)
	if gone.Status != models.ChannelDisconnected || gone.Credentials != "" {
		t.Fatal("disconnect must keep the row and drop the secrets")
	}
	p.admin.Submit("/channels/line/new", "/channels/line", form)
	again := p.channels(t)
	if len(again) != 1 || again[0].ID != ch.ID || again[0].Status != models.ChannelActive {
		t.Fatalf("reconnect did not bring back the same channel: %+v", again)
	}
}

func TestConnectLineAndWhatsApp(t *testing.T) {
	p := newPlatformApp(t)
	acct := p.world.LINEAccounts()[0]
	good := url.Values{"channel_id": {acct.ChannelID}, "channel_secret": {acct.ChannelSecret}, "access_token": {acct.AccessToken}, "login_channel_id": {acct.LoginChannelID}, "liff_id": {acct.LIFFID}}
	bad := []struct {
		field, value, msg string
	}{
		{"access_token", "x" + acct.AccessToken[1:], "LINE 不接受這個 access token"},
		{"channel_id", "1999999999", "屬於另一個 channel"},
		{"channel_secret", "not-hex", "32 個英數字"},
		{"liff_id", "999-abcd", "LIFF ID"},
	}
	for _, b := range bad {
		f := url.Values{}
		for k, v := range good {
			f[k] = v
		}
		f.Set(b.field, b.value)
		r := p.admin.Submit("/channels/line/new", "/channels/line", f)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, b.msg) {
			t.Errorf("LINE %s=%q: %d, want 422 with %q", b.field, b.value, r.Status, b.msg)
		}
		if strings.Contains(r.Body, acct.ChannelSecret) || strings.Contains(r.Body, acct.AccessToken) {
			t.Error("a secret was sent back to the browser")
		}
	}
	if n := len(p.channels(t)); n != 0 {
		t.Fatalf("bad LINE input saved %d channels", n)
	}
	r := p.admin.Submit("/channels/line/new", "/channels/line", good)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("LINE: %d\n%s", r.Status, r.Body)
	}
	detail := p.admin.Get(r.Location)
	line := p.channels(t)[0]
	if line.ExternalID != sandbox.LINEBotUserID || line.Username != "@bearbakery" || !strings.Contains(detail.Body, p.URL+"/webhooks/line/"+itoa(line.ID)) || !strings.Contains(detail.Body, p.URL+"/liff/link") {
		t.Fatalf("LINE channel or its setup page: %+v", line)
	}
	if strings.Contains(detail.Body, acct.ChannelSecret) || strings.Contains(detail.Body, acct.AccessToken) {
		t.Fatal("the setup page shows a secret")
	}

	wa := p.world.WhatsAppNumbers()[0]
	r = p.admin.Submit("/channels/whatsapp/new", "/channels/whatsapp", url.Values{"phone_number_id": {wa.PhoneNumberID}, "waba_id": {wa.WABAID}, "access_token": {"EAAB" + strings.Repeat("x", 40)}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "WhatsApp 不接受這個存取權杖") {
		t.Fatalf("bad WhatsApp token: %d", r.Status)
	}
	r = p.admin.Submit("/channels/whatsapp/new", "/channels/whatsapp", url.Values{"phone_number_id": {wa.PhoneNumberID}, "waba_id": {wa.WABAID}, "access_token": {wa.AccessToken}})
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

func TestChannelsOfAnotherTeam(t *testing.T) {
	p := newPlatformApp(t)
	acct := p.world.LINEAccounts()[0]
	p.admin.Submit("/channels/line/new", "/channels/line", url.Values{"channel_id": {acct.ChannelID}, "channel_secret": {acct.ChannelSecret}, "access_token": {acct.AccessToken}})
	ch := p.channels(t)[0]
	other := p.Team("Other")
	p.User(other.ID, models.RoleAdmin, "x@other.test")
	c := p.Client()
	c.Login("x@other.test", testutil.Password)
	for _, path := range []string{"/channels/" + itoa(ch.ID), "/channels/" + itoa(ch.ID) + "/reauthorize"} {
		if r := c.Get(path); r.Status != http.StatusNotFound {
			t.Errorf("GET %s from another team: %d", path, r.Status)
		}
	}
	if r := c.Submit("/channels", "/channels/"+itoa(ch.ID)+"/disconnect", nil); r.Status != http.StatusNotFound {
		t.Errorf("disconnect from another team: %d", r.Status)
	}
	// The same LINE account cannot be live in two teams: webhooks must route to one.
	r := c.Submit("/channels/line/new", "/channels/line", url.Values{"channel_id": {acct.ChannelID}, "channel_secret": {acct.ChannelSecret}, "access_token": {acct.AccessToken}})
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

func TestReauthorisingOneChannelRepairsItsPageSibling(t *testing.T) {
	p := newPlatformApp(t)
	ctx := context.Background()
	for _, c := range []struct{ purpose, account string }{{"facebook", sandbox.BearBakeryPageID}, {"instagram", sandbox.BearBakeryIGID}} {
		p.facebookLogin(t, p.admin, "/channels", "/channels/connect/"+c.purpose, sandbox.MeiUserID, false, nil)
		d := p.admin.Get("/channels/oauth/dialog")
		if r := p.admin.Submit("", "/channels/oauth/"+between(d.Body, `action="/channels/oauth/`, `/connect"`)+"/connect", url.Values{"account": {c.account}}); r.Status != http.StatusSeeOther {
			t.Fatalf("connect %s: %d", c.purpose, r.Status)
		}
	}
	list := p.channels(t)
	if len(list) != 2 {
		t.Fatalf("channels: %d", len(list))
	}
	var ig, fb models.Channel
	for _, ch := range list {
		ch.Status, ch.StatusCause = models.ChannelInvalid, "password_changed"
		if err := p.Store.SaveChannel(ctx, &ch); err != nil {
			t.Fatal(err)
		}
		if ch.Platform == models.Instagram {
			ig = ch
		} else {
			fb = ch
		}
	}
	path := "/channels/" + itoa(ig.ID) + "/reauthorize"
	if cb := p.facebookLogin(t, p.admin, path, path, sandbox.MeiUserID, false, nil); !strings.Contains(cb.Body, "重新授權成功") {
		t.Fatalf("reauthorise: %s", cb.Body)
	}
	after, _ := p.Store.Channel(ctx, p.team.ID, fb.ID)
	if after.Status != models.ChannelActive || after.Credentials == fb.Credentials {
		t.Fatalf("the Facebook Page sharing the token stayed broken: %+v", after)
	}
}
