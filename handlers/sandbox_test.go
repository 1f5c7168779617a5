package handlers_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/app"
	"github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/mail"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/seed"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// sbDialogPath is the dialog URL the real meta client builds for Instagram, relative to the server.
func sbDialogPath(t *testing.T, a *testutil.TestApp, state string) string {
	t.Helper()
	full := a.Meta.AuthCodeURL(a.Config.BaseURL+"/oauth/meta/callback", state, channels.InstagramScopes, "")
	if !strings.HasPrefix(full, a.URL+"/sandbox/dialog/") {
		t.Fatalf("the meta client builds %s, which is not the sandbox dialog on %s", full, a.URL)
	}
	return strings.TrimPrefix(full, a.URL)
}

var sbCheckbox = regexp.MustCompile(`<input type="checkbox" name="perm" value="([a-z_]+)"( checked)?>`)

// sbTicked reads the permission boxes of a dialog page: scope → pre-ticked.
func sbTicked(body string) map[string]bool {
	out := map[string]bool{}
	for _, m := range sbCheckbox.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2] != ""
	}
	return out
}

// sbTeam seeds a team whose admin has connected the sandbox's Bear Bakery accounts on all four
// platforms through the connect flows, over HTTP through the test server.
func sbTeam(t *testing.T, a *testutil.TestApp) (*models.Team, *models.User) {
	t.Helper()
	team := a.Team("小熊烘焙坊 Bear Bakery")
	admin := a.User(team.ID, models.RoleAdmin, "owner@bear.test")
	if err := seed.SandboxChannels(context.Background(), a.Store, a.Channels, a.Sandbox, admin.ID); err != nil {
		t.Fatal(err)
	}
	return team, admin
}

func sbChannel(t *testing.T, a *testutil.TestApp, teamID int64, p models.Platform) *models.Channel {
	t.Helper()
	list, err := a.Channels.List(context.Background(), teamID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range list {
		if list[i].Platform == p {
			return &list[i]
		}
	}
	t.Fatalf("team %d has no %s channel", teamID, p)
	return nil
}

func TestSandboxDialogShowsUsersAndPermissions(t *testing.T) {
	a := testutil.NewApp(t)
	c := a.Client()
	path := sbDialogPath(t, a, "s1")

	r := c.Get(path)
	if r.Status != http.StatusOK {
		t.Fatalf("dialog: %d\n%s", r.Status, r.Body)
	}
	for _, u := range a.Sandbox.FacebookUsers() {
		if !strings.Contains(r.Body, u.Name) || !strings.Contains(r.Body, `id="fb-user-`+u.Key+`"`) {
			t.Errorf("the chooser does not offer %s (%s)", u.Name, u.Key)
		}
	}

	mei := c.Get(path + "&sandbox_user=mei")
	if mei.Status != http.StatusOK {
		t.Fatalf("mei's consent: %d", mei.Status)
	}
	ticked := sbTicked(mei.Body)
	if len(ticked) != len(channels.InstagramScopes) {
		t.Fatalf("boxes %v, want one per requested scope %v", ticked, channels.InstagramScopes)
	}
	for _, sc := range channels.InstagramScopes {
		if !ticked[sc] {
			t.Errorf("mei leaves %s ticked, but the box is empty", sc)
		}
	}
	for _, want := range []string{"小熊烘焙坊 Bear Bakery", "@bearbakery.tw", "林美玲"} {
		if !strings.Contains(mei.Body, want) {
			t.Errorf("mei's consent screen lacks %q", want)
		}
	}

	ann := sbTicked(c.Get(path + "&sandbox_user=ann").Body)
	if ann["instagram_manage_messages"] || !ann["instagram_basic"] {
		t.Errorf("ann's boxes %v: she unticks instagram_manage_messages only", ann)
	}
	yu := c.Get(path + "&sandbox_user=yu").Body
	if !strings.Contains(yu, "@yu.select") || !strings.Contains(yu, "創作者帳號") {
		t.Errorf("yu's creator account is not shown as one")
	}
}

func TestSandboxDialogContinueAndCancel(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("Dialog")
	a.User(team.ID, models.RoleAgent, "agent@dialog.test")
	c := a.Client()
	c.Login("agent@dialog.test", testutil.Password)
	path := sbDialogPath(t, a, "state-123")
	action := strings.SplitN(path, "?", 2)[0]
	redirect := a.Config.BaseURL + "/oauth/meta/callback"

	// The dialog stands for facebook.com: it must not touch the console session.
	req, _ := http.NewRequest(http.MethodGet, a.URL+path+"&sandbox_user=mei", nil)
	res := c.Do(req)
	for _, ck := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(ck, "omnilink_session=") {
			t.Errorf("the dialog rewrote the console session: %s", ck)
		}
	}

	form := func(decision string) url.Values {
		return url.Values{"client_id": {a.Config.MetaAppID}, "redirect_uri": {redirect}, "state": {"state-123"},
			"scope": {strings.Join(channels.InstagramScopes, ",")}, "sandbox_user": {"mei"},
			"perm": channels.InstagramScopes, "decision": {decision}}
	}
	if r := c.Post(action, form("continue")); r.Status != http.StatusForbidden {
		t.Fatalf("consent without a CSRF token: %d, want 403", r.Status)
	}

	r := c.Get(path + "&sandbox_user=mei").Form("#fb-continue").Submit()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("continue: %d\n%s", r.Status, r.Body)
	}
	loc, err := url.Parse(r.Location)
	if err != nil || !strings.HasPrefix(r.Location, redirect+"?") {
		t.Fatalf("continue redirects to %q, want %s?…", r.Location, redirect)
	}
	code := loc.Query().Get("code")
	if code == "" || loc.Query().Get("state") != "state-123" {
		t.Fatalf("redirect %q lacks code or state", r.Location)
	}
	// The code is real: the app's Graph client (over HTTP, through /sandbox/api) exchanges it.
	if _, err := a.Meta.ExchangeCode(context.Background(), code, redirect); err != nil {
		t.Fatalf("exchange the dialog's code: %v", err)
	}

	r = c.Get(path + "&sandbox_user=mei").Form("#fb-cancel").Submit()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("cancel: %d", r.Status)
	}
	loc, _ = url.Parse(r.Location)
	if q := loc.Query(); q.Get("error") != "access_denied" || q.Get("error_reason") != "user_denied" || q.Get("state") != "state-123" || q.Get("code") != "" {
		t.Errorf("cancel redirects to %q", r.Location)
	}
}

func TestSandboxDialogRefusesBadRequests(t *testing.T) {
	a := testutil.NewApp(t)
	c := a.Client()
	good := a.Config.BaseURL + "/oauth/meta/callback"
	base := "/sandbox/dialog/v25.0/dialog/oauth?"
	cases := []struct {
		name, clientID, redirect, want string
	}{
		{"unknown app", "999", good, "無效的應用程式編號"},
		{"no app", "", good, "無效的應用程式編號"},
		{"foreign redirect", a.Config.MetaAppID, "https://evil.example/cb", "網址已封鎖"},
		{"relative redirect", a.Config.MetaAppID, "/oauth/meta/callback", "網址已封鎖"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"client_id": {tc.clientID}, "redirect_uri": {tc.redirect}, "state": {"s"}, "scope": {"pages_show_list"}}
			r := c.Get(base + q.Encode())
			if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, tc.want) || !strings.Contains(r.Body, `id="fb-error"`) {
				t.Errorf("GET: %d, want 400 with %q", r.Status, tc.want)
			}
			q.Set("decision", "continue")
			q.Set("sandbox_user", "mei")
			// The page shows an error and no form: only a hand-made post can try it.
			q.Set("_csrf", c.Get("/login").Form("form[action=/login]").Get("_csrf"))
			r = c.Post(strings.TrimSuffix(base, "?"), q)
			if r.Status != http.StatusBadRequest || r.Location != "" {
				t.Errorf("POST: %d to %q, want 400 and no redirect", r.Status, r.Location)
			}
		})
	}
}

func TestSandboxControlPanelBreaksTokensOverHTTP(t *testing.T) {
	a := testutil.NewApp(t)
	team, _ := sbTeam(t, a)
	a.User(team.ID, models.RoleAgent, "agent@bear.test")
	page := sbChannel(t, a, team.ID, models.Facebook)
	creds, err := a.Channels.Credentials(page)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.Meta.PageInfo(ctx, page.ExternalID, creds.AccessToken); err != nil {
		t.Fatalf("a freshly connected Page token fails: %v", err)
	}

	anon := a.Client()
	if r := anon.Get("/sandbox"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login") {
		t.Errorf("anonymous control panel: %d %q", r.Status, r.Location)
	}
	anonToken := anon.Get("/login").Form("form[action=/login]").Get("_csrf")
	if r := anon.Post("/sandbox/break", url.Values{"_csrf": {anonToken}, "target": {"page:" + page.ExternalID}, "cause": {"expired"}}); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login") {
		t.Errorf("anonymous break: %d %q", r.Status, r.Location)
	}

	agent := a.Client()
	agent.Login("agent@bear.test", testutil.Password)
	if r := agent.Get("/sandbox"); r.Status != http.StatusForbidden {
		t.Errorf("an agent opened the control panel: %d", r.Status)
	}
	if home := agent.Get("/"); !strings.Contains(home.Body, `href="/sandbox/simulator"`) || strings.Contains(home.Body, `href="/sandbox"`) {
		t.Errorf("an agent's navigation should lead to the simulator only")
	}
	if sim := agent.Get("/sandbox/simulator"); sim.Status != http.StatusOK || strings.Contains(sim.Body, `href="/sandbox/mailbox"`) {
		t.Errorf("an agent's simulator: %d (and no mailbox tab)", sim.Status)
	}
	if r := handMade(agent, "/sandbox/break", url.Values{"target": {"page:" + page.ExternalID}, "cause": {"expired"}}); r.Status != http.StatusForbidden {
		t.Errorf("an agent broke a token: %d", r.Status)
	}

	c := a.Client()
	c.Login("owner@bear.test", testutil.Password)
	panel := c.Get("/sandbox")
	if panel.Status != http.StatusOK || !strings.Contains(panel.Body, "林美玲 (mei)") || !strings.Contains(panel.Body, `href="/sandbox" aria-current="page"`) {
		t.Fatalf("panel: %d", panel.Status)
	}
	for _, cause := range sandbox.Causes() {
		if !strings.Contains(panel.Body, `value="`+string(cause)+`"`) {
			t.Errorf("the panel does not offer %s", cause)
		}
	}
	ig := sbChannel(t, a, team.ID, models.Instagram)
	if !strings.Contains(panel.Body, `id="target-page-`+ig.ExternalID+`"`) {
		t.Errorf("the panel has no Instagram row")
	}
	target := "page:" + page.ExternalID
	if r := c.Post("/sandbox/break", url.Values{"target": {target}, "cause": {"expired"}}); r.Status != http.StatusForbidden {
		t.Errorf("break without a CSRF token: %d, want 403", r.Status)
	}
	if _, err := a.Meta.PageInfo(ctx, page.ExternalID, creds.AccessToken); err != nil {
		t.Fatalf("a refused form still broke the token: %v", err)
	}

	for _, tc := range []struct {
		cause         string
		code, subcode int
	}{
		{"password_changed", 190, 460},
		{"expired", 190, 463},
		{"checkpoint", 190, 459},
		{"app_removed", 190, 458},
		{"rate_limited", 32, 0},
	} {
		r := c.Get("/sandbox").FormWith("form[action=/sandbox/break]", "target", target).Set("cause", tc.cause).Submit()
		if r.Status != http.StatusSeeOther || r.Location != "/sandbox" {
			t.Fatalf("break %s: %d %q", tc.cause, r.Status, r.Location)
		}
		if after := c.Get("/sandbox"); !strings.Contains(after.Body, "flash-success") {
			t.Errorf("break %s: no confirmation", tc.cause)
		}
		_, err := a.Meta.PageInfo(ctx, page.ExternalID, creds.AccessToken)
		var ge *meta.GraphError
		if !errors.As(err, &ge) || ge.Code != tc.code || ge.Subcode != tc.subcode {
			t.Errorf("after %s Graph answers %v, want %d/%d", tc.cause, err, tc.code, tc.subcode)
		}
		if r := c.Get("/sandbox").FormWith("form[action=/sandbox/repair]", "target", target).Submit(); r.Status != http.StatusSeeOther {
			t.Fatalf("repair: %d", r.Status)
		}
		if _, err := a.Meta.PageInfo(ctx, page.ExternalID, creds.AccessToken); err != nil {
			t.Fatalf("after repairing %s: %v", tc.cause, err)
		}
	}

	// permission_removed shows on the panel; a transient failure hits exactly the next call.
	c.Get("/sandbox").FormWith("form[action=/sandbox/break]", "target", target).Set("cause", "permission_removed").Submit()
	if !strings.Contains(c.Get("/sandbox").Body, "pages_messaging") {
		t.Errorf("the removed permission is not shown")
	}
	c.Get("/sandbox").FormWith("form[action=/sandbox/repair]", "target", target).Submit()
	c.Get("/sandbox").FormWith("form[action=/sandbox/transient]", "target", target).Set("count", "1").Set("kind", "unknown").Submit()
	var ge *meta.GraphError
	if _, err := a.Meta.PageInfo(ctx, page.ExternalID, creds.AccessToken); !errors.As(err, &ge) || ge.Code != 1 {
		t.Errorf("injected failure: %v, want code 1", err)
	}
	if _, err := a.Meta.PageInfo(ctx, page.ExternalID, creds.AccessToken); err != nil {
		t.Errorf("the call after the injected failure: %v", err)
	}

	if _, ok := a.Sandbox.Subscription(page.ExternalID); !ok {
		t.Fatal("connecting did not subscribe the app to the Page")
	}
	c.Get("/sandbox").FormWith("form[action=/sandbox/unsubscribe]", "object", page.ExternalID).Submit()
	if _, ok := a.Sandbox.Subscription(page.ExternalID); ok {
		t.Error("unsubscribe left the app subscribed")
	}

	// Bad input is explained, and nothing changes.
	if r := c.Get("/sandbox").Form("form[action=/sandbox/break]").Forge("target", "page:404").Forge("cause", "expired").Submit(); r.Status != http.StatusNotFound {
		t.Fatalf("break an unknown target: %d, want 404", r.Status)
	}
	r := c.Get("/sandbox").Form("form[action=/sandbox/break]").Forge("target", "nonsense").Forge("cause", "expired").Submit()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("break a malformed target: %d", r.Status)
	}
	if body := c.Get("/sandbox").Body; !strings.Contains(body, "flash-error") || !strings.Contains(body, "找不到這個目標") {
		t.Errorf("breaking a malformed target is not reported in the reader's language")
	}
	c.Get("/sandbox").FormWith("form[action=/sandbox/transient]", "target", target).Set("count", "many").Set("kind", "unknown").Submit()
	if _, err := a.Meta.PageInfo(ctx, page.ExternalID, creds.AccessToken); err != nil {
		t.Errorf("a refused transient form still injected a failure: %v", err)
	}
}

// sbStored waits until the webhook processor, which runs in the background, has stored a
// message with this body.
func sbStored(t *testing.T, a *testutil.TestApp, body string) bool {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := a.SQL().QueryRow(context.Background(), `SELECT count(*) FROM messages WHERE body = $1`, body).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func TestSandboxSimulatorDeliversToOurWebhooks(t *testing.T) {
	a := testutil.NewApp(t)
	team, admin := sbTeam(t, a)
	c := a.Client()
	c.Login(admin.Email, testutil.Password)

	page := c.Get("/sandbox/simulator")
	if page.Status != http.StatusOK {
		t.Fatalf("simulator: %d", page.Status)
	}
	for _, p := range models.Platforms {
		ch := sbChannel(t, a, team.ID, p)
		if !strings.Contains(page.Body, ch.ExternalID) {
			t.Errorf("the simulator does not offer the %s channel", p)
		}
	}

	send := func(ch *models.Channel, customer, kind, text string) *testutil.Response {
		t.Helper()
		page := c.Get("/sandbox/simulator?" + url.Values{"account": {itoa(ch.ID)}, "customer": {customer}}.Encode())
		if kind == "text" {
			return page.Form("#simulator-send").Set("text", text).Submit()
		}
		return page.Form("#simulator-" + kind).Submit()
	}
	for _, p := range models.Platforms {
		ch := sbChannel(t, a, team.ID, p)
		customer, ok := a.Sandbox.CustomerID("alice", sandbox.Platform(p), ch.ExternalID)
		if !ok {
			customer, _ = a.Sandbox.CustomerID("xiaoming", sandbox.Platform(p), ch.ExternalID)
		}
		text := "想訂生日蛋糕 via " + string(p)
		r := send(ch, customer, "text", text)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("%s send: %d", p, r.Status)
		}
		if got := r.Header.Get("X-Sandbox-Webhook-Status"); got != "200" {
			t.Errorf("%s: our webhook answered %q, want 200", p, got)
		}
		after := c.Get(r.Location)
		if !strings.Contains(after.Body, "flash-success") || !strings.Contains(after.Body, text) {
			t.Errorf("%s: the page does not confirm the delivery or show the message", p)
		}
		if !strings.Contains(after.Body, "顧客 · 文字 ·") || strings.Contains(after.Body, "· text ·") {
			t.Errorf("%s: the message's type is not named in the console's language", p)
		}
		conv := c.Get("/sandbox/simulator/conversation?" + url.Values{"account": {itoa(ch.ID)}, "customer": {customer}}.Encode())
		if conv.Status != http.StatusOK || !strings.Contains(conv.Body, text) || !strings.Contains(conv.Body, `hx-trigger="every 2s"`) {
			t.Errorf("%s: conversation fragment %d", p, conv.Status)
		}
		if !sbStored(t, a, text) {
			t.Errorf("%s: the message never reached the messages table", p)
		}
	}

	// Switching the account keeps the last customer in the query; the page shows the new
	// account's first customer and says so in the address htmx pushes.
	lineCh := sbChannel(t, a, team.ID, models.LINE)
	igCh := sbChannel(t, a, team.ID, models.Instagram)
	igCustomer, _ := a.Sandbox.CustomerID("xiaoming", sandbox.PlatformInstagram, igCh.ExternalID)
	switchReq, _ := http.NewRequest(http.MethodGet, a.URL+"/sandbox/simulator?"+url.Values{"account": {itoa(lineCh.ID)}, "customer": {igCustomer}}.Encode(), nil)
	switchReq.Header.Set("HX-Request", "true")
	switched := c.Do(switchReq)
	pushed, _ := url.Parse(switched.Header.Get("HX-Push-Url"))
	if switched.Status != http.StatusOK || pushed == nil || pushed.Query().Get("account") != itoa(lineCh.ID) ||
		pushed.Query().Get("customer") == "" || pushed.Query().Get("customer") == igCustomer {
		t.Errorf("switching to the LINE account pushed %q", switched.Header.Get("HX-Push-Url"))
	}

	// LINE: block, a blocked user cannot write, unblock. Each offers only what it can do.
	linePage := func() string {
		return c.Get("/sandbox/simulator?" + url.Values{"account": {itoa(lineCh.ID)}, "customer": {sandbox.LINEUserXiaoming}}.Encode()).Body
	}
	if body := linePage(); strings.Contains(body, `id="simulator-follow"`) || !strings.Contains(body, `id="simulator-unfollow"`) {
		t.Error("a friend is offered to add the account")
	}
	if r := send(lineCh, sandbox.LINEUserXiaoming, "unfollow", ""); r.Header.Get("X-Sandbox-Webhook-Status") != "200" {
		t.Errorf("unfollow: %d %q", r.Status, r.Header.Get("X-Sandbox-Webhook-Status"))
	}
	r := send(lineCh, sandbox.LINEUserXiaoming, "text", "still there?")
	if r.Status != http.StatusSeeOther || r.Header.Get("X-Sandbox-Webhook-Status") != "" {
		t.Errorf("a blocked user's message was delivered: %d", r.Status)
	}
	if body := c.Get(r.Location).Body; !strings.Contains(body, "flash-error") || !strings.Contains(body, "解除封鎖") {
		t.Errorf("the refusal is not explained, or the unblock button is missing")
	}
	if body := linePage(); strings.Contains(body, `id="simulator-unfollow"`) || !regexp.MustCompile(`id="simulator-follow">\s*解除封鎖`).MatchString(body) {
		t.Error("a blocked user is not offered just to unblock")
	}
	if r := send(lineCh, sandbox.LINEUserXiaoming, "follow", ""); r.Header.Get("X-Sandbox-Webhook-Status") != "200" {
		t.Errorf("unblock: %q", r.Header.Get("X-Sandbox-Webhook-Status"))
	}
	if f := a.Sandbox.LINEUsers()[0].Friendship[sandbox.LINEBotUserID]; f != sandbox.FriendshipFriend {
		t.Errorf("after unblocking, friendship is %q", f)
	}

	// Another team's channel is not ours to simulate on.
	other := a.Team("Other")
	a.User(other.ID, models.RoleAdmin, "other@other.test")
	o := a.Client()
	o.Login("other@other.test", testutil.Password)
	if r := handMade(o, "/sandbox/simulator/send", url.Values{"account": {itoa(lineCh.ID)}, "customer": {sandbox.LINEUserYijun}, "kind": {"text"}, "text": {"hi"}}); r.Status != http.StatusNotFound {
		t.Errorf("simulate on another team's channel: %d, want 404", r.Status)
	}
	if r := o.Get("/sandbox/simulator"); !strings.Contains(r.Body, `id="simulator-empty"`) {
		t.Errorf("a team without channels is not told to connect some")
	}
}

func TestSandboxMailboxShowsTheAppsMail(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("Mail")
	a.User(team.ID, models.RoleMarketer, "m@mail.test")
	a.User(team.ID, models.RoleSupervisor, "boss@bear.test")
	other := a.Team("Other")
	a.User(other.ID, models.RoleAdmin, "admin@other.test")
	if a.Mailbox == nil {
		t.Fatal("sandbox mode without SMTP_URL has no mailbox")
	}
	err := a.Mailer.Send(context.Background(), mail.Message{To: []string{"boss@bear.test"}, Subject: "串接中斷通知",
		Text: "Instagram 串接已中斷", HTML: `<p>Instagram <b>串接</b>已中斷</p><script>alert(1)</script>`})
	if err != nil {
		t.Fatal(err)
	}
	marketer := a.Client()
	marketer.Login("m@mail.test", testutil.Password)
	if r := marketer.Get("/sandbox/mailbox"); r.Status != http.StatusForbidden {
		t.Errorf("a marketer opened the mailbox: %d", r.Status)
	}
	c := a.Client()
	c.Login("boss@bear.test", testutil.Password)
	list := c.Get("/sandbox/mailbox")
	if list.Status != http.StatusOK || !strings.Contains(list.Body, "串接中斷通知") || !strings.Contains(list.Body, "boss@bear.test") {
		t.Fatalf("mailbox: %d", list.Status)
	}
	m := regexp.MustCompile(`href="/sandbox/mailbox/([0-9a-f]+)"`).FindStringSubmatch(list.Body)
	if m == nil {
		t.Fatal("no link to the message")
	}
	open := c.Get("/sandbox/mailbox/" + m[1])
	if open.Status != http.StatusOK || !strings.Contains(open.Body, "Instagram 串接已中斷") {
		t.Fatalf("open message: %d", open.Status)
	}
	if !strings.Contains(open.Body, `<iframe class="mail-html" sandbox="" `) || strings.Contains(open.Body, "<script>alert(1)") {
		t.Errorf("the message's HTML is not confined to a sandboxed frame")
	}
	frame := c.Get("/sandbox/mailbox/" + m[1] + "/html")
	if csp := frame.Header.Get("Content-Security-Policy"); frame.Status != http.StatusOK || !strings.HasPrefix(csp, "sandbox;") ||
		!strings.Contains(csp, "default-src 'none'") || !strings.Contains(frame.Body, "<b>串接</b>") {
		t.Errorf("preview document: %d, CSP %q", frame.Status, csp)
	}
	if r := a.Client().Get("/sandbox/mailbox/" + m[1] + "/html"); r.Status != http.StatusSeeOther {
		t.Errorf("anonymous preview: %d, want a redirect to login", r.Status)
	}
	if r := c.Get("/sandbox/mailbox/0000000000000000"); r.Status != http.StatusNotFound {
		t.Errorf("unknown message: %d", r.Status)
	}
	// Another team's admin sees none of it, not even by its id.
	oc := a.Client()
	oc.Login("admin@other.test", testutil.Password)
	if r := oc.Get("/sandbox/mailbox"); r.Status != http.StatusOK || strings.Contains(r.Body, "串接中斷通知") || strings.Contains(r.Body, "boss@bear.test") {
		t.Errorf("another team's mailbox shows this team's mail: %d", r.Status)
	}
	for _, path := range []string{"/sandbox/mailbox/" + m[1], "/sandbox/mailbox/" + m[1] + "/html"} {
		if r := oc.Get(path); r.Status != http.StatusNotFound {
			t.Errorf("another team opened %s: %d", path, r.Status)
		}
	}

	withSMTP := testutil.NewApp(t, func(c *config.Config) { c.SMTPURL = "smtp://127.0.0.1:1?tls=none" })
	if withSMTP.Mailbox != nil {
		t.Error("a mailbox was started although SMTP_URL is set")
	}
	wt := withSMTP.Team("Mail")
	withSMTP.User(wt.ID, models.RoleAdmin, "a@mail.test")
	wc := withSMTP.Client()
	wc.Login("a@mail.test", testutil.Password)
	if r := wc.Get("/sandbox/mailbox"); !strings.Contains(r.Body, `id="mailbox-disabled"`) {
		t.Errorf("with SMTP_URL the mailbox does not say where mail goes")
	}
}

func TestSandboxWorldSurvivesRestart(t *testing.T) {
	a := testutil.NewApp(t)
	team, admin := sbTeam(t, a)
	page := sbChannel(t, a, team.ID, models.Facebook)
	creds, err := a.Channels.Credentials(page)
	if err != nil {
		t.Fatal(err)
	}
	c := a.Client()
	c.Login(admin.Email, testutil.Password)
	c.Get("/sandbox").FormWith("form[action=/sandbox/break]", "target", "page:"+page.ExternalID).Set("cause", "checkpoint").Submit()

	// A second server on the same database: what a restart does.
	again, err := app.Build(a.Config, a.Store, slog.New(slog.NewTextHandler(io.Discard, nil)), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	srv := httptest.NewServer(again.Echo)
	defer srv.Close()
	mc := meta.New(meta.Config{AppID: a.Config.MetaAppID, AppSecret: a.Config.MetaAppSecret, GraphURL: srv.URL + "/sandbox/api/graph",
		GraphVersion: a.Config.MetaGraphVersion, HTTPClient: srv.Client()})
	_, err = mc.PageInfo(context.Background(), page.ExternalID, creds.AccessToken)
	var ge *meta.GraphError
	if !errors.As(err, &ge) || ge.Code != 190 || ge.Subcode != 459 {
		t.Errorf("after a restart the broken token answers %v, want 190/459", err)
	}
	for _, ts := range again.Sandbox.Targets() {
		if ts.Target.ID == page.ExternalID && ts.Broken != sandbox.CauseCheckpoint {
			t.Errorf("the restarted panel shows %q for the Page", ts.Broken)
		}
	}
}
