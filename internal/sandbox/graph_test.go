package sandbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAuthorizeRedirectCarriesCodeAndState(t *testing.T) {
	e := newEnv(t)
	loc, err := e.w.Authorize("mei", []string{"pages_show_list"}, testRedirect+"?team=7", "abc")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	if u.Host != "omnilink.test" || u.Path != "/oauth/meta/callback" {
		t.Fatalf("redirect to %s", loc)
	}
	q := u.Query()
	if q.Get("state") != "abc" || q.Get("team") != "7" || !strings.HasPrefix(q.Get("code"), "AQ") {
		t.Fatalf("redirect query %v", q)
	}
	if _, err := e.w.Authorize("nobody", nil, testRedirect, "s"); err == nil {
		t.Fatal("unknown user authorised")
	}
	if _, err := e.w.Authorize("mei", nil, "javascript:alert(1)", "s"); err == nil {
		t.Fatal("non-http redirect accepted")
	}
}

func TestDenyRedirect(t *testing.T) {
	e := newEnv(t)
	loc, err := e.w.Deny(testRedirect, "xyz")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	q := u.Query()
	if q.Get("error") != "access_denied" || q.Get("error_reason") != "user_denied" || q.Get("error_description") == "" || q.Get("state") != "xyz" {
		t.Fatalf("deny redirect %s", loc)
	}
	if q.Get("code") != "" {
		t.Fatal("deny carries a code")
	}
}

func TestDialogHelpers(t *testing.T) {
	e := newEnv(t)
	if got := e.w.DefaultGrant("ann", AppScopes()); slices.Contains(got, "instagram_manage_messages") || !slices.Contains(got, "pages_messaging") {
		t.Fatalf("ann grants %v", got)
	}
	if got := e.w.DefaultGrant("mei", AppScopes()); len(got) != len(AppScopes()) {
		t.Fatalf("mei grants %v", got)
	}
	if err := e.w.CheckDialog("1234567890", testRedirect); err != nil {
		t.Fatal(err)
	}
	if err := e.w.CheckDialog("999", testRedirect); err == nil {
		t.Fatal("wrong client_id accepted")
	}
	users := e.w.FacebookUsers()
	var keys []string
	for _, u := range users {
		keys = append(keys, u.Key)
	}
	for _, k := range []string{"mei", "kai", "yu", "ann", "jun"} {
		if !slices.Contains(keys, k) {
			t.Fatalf("users %v lack %s", keys, k)
		}
	}
}

func TestCodeExchange(t *testing.T) {
	e := newEnv(t)
	code := e.authorize("mei")
	base := url.Values{"client_id": {"1234567890"}, "client_secret": {"test-app-secret"}, "code": {code}}

	wrong := url.Values{}
	for k, v := range base {
		wrong[k] = v
	}
	wrong.Set("redirect_uri", testRedirect+"/")
	e.wantGraphError(e.graph(http.MethodGet, "/oauth/access_token", wrong), 400, 100, 36008)

	wrong.Set("redirect_uri", testRedirect)
	wrong.Set("client_secret", "nope")
	e.wantGraphError(e.graph(http.MethodGet, "/oauth/access_token", wrong), 400, 1, 0)
	wrong.Set("client_secret", "test-app-secret")
	wrong.Set("client_id", "42")
	e.wantGraphError(e.graph(http.MethodGet, "/oauth/access_token", wrong), 400, 101, 0)

	r := e.exchange(code)
	e.wantOK(r)
	if r.body["token_type"] != "bearer" || r.body["expires_in"].(float64) != 3600 || r.body["access_token"].(string) == "" {
		t.Fatalf("exchange answer %s", r.raw)
	}
	// The code is single-use.
	e.wantGraphError(e.exchange(code), 400, 100, 36009)
	e.wantGraphError(e.exchange("AQnotacode"), 400, 100, 0)

	// Codes expire after an hour.
	late := e.authorize("mei")
	e.clock.Advance(61 * time.Minute)
	e.wantGraphError(e.exchange(late), 400, 100, 36007)
}

func TestLongLivedExchange(t *testing.T) {
	e := newEnv(t)
	r := e.exchange(e.authorize("kai"))
	short := r.body["access_token"].(string)
	params := url.Values{"grant_type": {"fb_exchange_token"}, "client_id": {"1234567890"}, "client_secret": {"test-app-secret"}, "fb_exchange_token": {short}}
	r = e.graph(http.MethodGet, "/oauth/access_token", params)
	e.wantOK(r)
	long := r.body["access_token"].(string)
	if long == short || r.body["expires_in"].(float64) != 5183944 {
		t.Fatalf("long-lived answer %s", r.raw)
	}
	if d := e.debug(long); d["expires_at"].(float64) != float64(e.clock.Now().Add(5183944*time.Second).Unix()) {
		t.Fatalf("debug_token expires_at %v", d["expires_at"])
	}
	// An expired short-lived token cannot be exchanged.
	e.clock.Advance(2 * time.Hour)
	e.wantGraphError(e.graph(http.MethodGet, "/oauth/access_token", params), 400, 190, 463)
	// The long-lived one still works.
	e.wantOK(e.graph(http.MethodGet, "/me", url.Values{"access_token": {long}}))
}

func TestMeAndPermissions(t *testing.T) {
	e := newEnv(t)
	tok := e.login("mei")
	r := e.graph(http.MethodGet, "/me", url.Values{"access_token": {tok}})
	e.wantOK(r)
	if r.body["id"] != MeiUserID || r.body["name"] != "林美玲" {
		t.Fatalf("/me %s", r.raw)
	}
	// Meta escapes non-ASCII; clients must not rely on raw UTF-8.
	if !bytes.Contains(r.raw, []byte(`\u6797`)) {
		t.Fatalf("body not escaped like Meta's: %s", r.raw)
	}
	// Bearer header works as well as the query parameter.
	r = e.do(http.MethodGet, "/graph/v25.0/me", url.Values{"fields": {"id"}}, nil, http.Header{"Authorization": {"Bearer " + tok}})
	e.wantOK(r)
	if _, hasName := r.body["name"]; hasName || r.body["id"] != MeiUserID {
		t.Fatalf("fields=id answered %s", r.raw)
	}
	// Graph always includes the id, asked for or not.
	if r = e.graph(http.MethodGet, "/me", url.Values{"access_token": {tok}, "fields": {"name"}}); r.body["id"] != MeiUserID {
		t.Fatalf("fields=name answered %s", r.raw)
	}
	e.wantGraphError(e.graph(http.MethodGet, "/me", url.Values{"access_token": {tok}, "fields": {"id,birthday"}}), 400, 100, 0)
	e.wantGraphError(e.graph(http.MethodGet, "/me", nil), 400, 2500, 0)
	proof := hmac.New(sha256.New, []byte("test-app-secret"))
	proof.Write([]byte(tok))
	e.wantOK(e.graph(http.MethodGet, "/me", url.Values{"access_token": {tok}, "appsecret_proof": {hex.EncodeToString(proof.Sum(nil))}}))
	e.wantGraphError(e.graph(http.MethodGet, "/me", url.Values{"access_token": {tok}, "appsecret_proof": {"00"}}), 400, 100, 0)
	e.wantGraphError(e.graph(http.MethodGet, "/me", url.Values{"access_token": {"EAAgarbage"}}), 400, 190, 0)

	annTok := e.login("ann")
	r = e.graph(http.MethodGet, "/me/permissions", url.Values{"access_token": {annTok}})
	e.wantOK(r)
	status := map[string]string{}
	for _, p := range r.body["data"].([]any) {
		m := p.(map[string]any)
		status[m["permission"].(string)] = m["status"].(string)
	}
	if status["instagram_manage_messages"] != "declined" || status["pages_messaging"] != "granted" {
		t.Fatalf("ann permissions %v", status)
	}
}

func TestAccountsFieldsAndPaging(t *testing.T) {
	e := newEnv(t)
	fields := "id,name,access_token,tasks,instagram_business_account{id,username,profile_picture_url},connected_instagram_account{id,username}"
	accounts := func(user string, extra url.Values) resp {
		q := url.Values{"access_token": {e.login(user)}, "fields": {fields}}
		for k, v := range extra {
			q[k] = v
		}
		r := e.graph(http.MethodGet, "/me/accounts", q)
		e.wantOK(r)
		return r
	}

	r := accounts("mei", nil)
	data := r.body["data"].([]any)
	if len(data) != 1 {
		t.Fatalf("mei pages %s", r.raw)
	}
	p := data[0].(map[string]any)
	ig, _ := p["instagram_business_account"].(map[string]any)
	if p["id"] != BearBakeryPageID || ig["id"] != BearBakeryIGID || ig["username"] != "bearbakery.tw" || p["access_token"] == "" {
		t.Fatalf("mei page %v", p)
	}
	if !strings.HasPrefix(ig["profile_picture_url"].(string), e.srv.URL+"/pictures/") {
		t.Fatalf("picture url %v", ig["profile_picture_url"])
	}
	if !slices.Contains(p["tasks"].([]any), any("MANAGE")) {
		t.Fatalf("mei tasks %v", p["tasks"])
	}
	if _, ok := r.body["paging"].(map[string]any)["next"]; ok {
		t.Fatal("single page has paging.next")
	}

	p = accounts("kai", nil).body["data"].([]any)[0].(map[string]any)
	if _, ok := p["instagram_business_account"]; ok {
		t.Fatalf("kai page has IG: %v", p)
	}

	p = accounts("yu", nil).body["data"].([]any)[0].(map[string]any)
	conn, _ := p["connected_instagram_account"].(map[string]any)
	if _, ok := p["instagram_business_account"]; ok || conn["id"] != YuSelectIGID {
		t.Fatalf("yu page %v", p)
	}

	// jun has two Pages; limit=1 pages through them with paging.next.
	r = accounts("jun", url.Values{"limit": {"1"}})
	first := r.body["data"].([]any)[0].(map[string]any)
	next, _ := r.body["paging"].(map[string]any)["next"].(string)
	if !strings.HasPrefix(next, e.srv.URL+"/graph/v25.0/me/accounts?") {
		t.Fatalf("paging.next %q", next)
	}
	if tasks := first["tasks"].([]any); slices.Contains(tasks, any("MANAGE")) {
		t.Fatalf("editor has MANAGE: %v", tasks)
	}
	nr, err := http.Get(next)
	if err != nil {
		t.Fatal(err)
	}
	var second map[string]any
	_ = json.NewDecoder(nr.Body).Decode(&second)
	nr.Body.Close()
	data = second["data"].([]any)
	if len(data) != 1 || data[0].(map[string]any)["id"] != JunHandmadePageID || first["id"] != BearBakeryPageID {
		t.Fatalf("second page %v", second)
	}
	if _, ok := second["paging"].(map[string]any)["next"]; ok {
		t.Fatal("last page has paging.next")
	}
}

func TestAccountsNeedPagesShowList(t *testing.T) {
	e := newEnv(t)
	loc, err := e.w.Authorize("mei", []string{"pages_messaging"}, testRedirect, "s")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	tok := e.exchange(u.Query().Get("code")).body["access_token"].(string)
	e.wantGraphError(e.graph(http.MethodGet, "/me/accounts", url.Values{"access_token": {tok}}), 403, 200, 0)
}

func TestPageAndInstagramNodes(t *testing.T) {
	e := newEnv(t)
	user := e.login("mei")
	pt := e.pageToken(user, BearBakeryPageID)
	// The same session hands out the same Page token from me/accounts.
	r := e.graph(http.MethodGet, "/me/accounts", url.Values{"access_token": {user}, "fields": {"id,access_token"}})
	if r.body["data"].([]any)[0].(map[string]any)["access_token"] != pt {
		t.Fatalf("Page token differs between calls")
	}
	r = e.graph(http.MethodGet, "/"+BearBakeryPageID, url.Values{"access_token": {pt}, "fields": {"id,name"}})
	e.wantOK(r)
	if r.body["name"] != "小熊烘焙坊 Bear Bakery" {
		t.Fatalf("page %s", r.raw)
	}
	r = e.graph(http.MethodGet, "/me", url.Values{"access_token": {pt}})
	if r.body["id"] != BearBakeryPageID {
		t.Fatalf("/me with Page token %s", r.raw)
	}
	r = e.graph(http.MethodGet, "/"+BearBakeryIGID, url.Values{"access_token": {pt}, "fields": {"id,username"}})
	e.wantOK(r)
	if r.body["username"] != "bearbakery.tw" {
		t.Fatalf("ig %s", r.raw)
	}
	e.wantGraphError(e.graph(http.MethodGet, "/"+BearBakeryPageID, url.Values{"access_token": {pt}, "fields": {"id,fans"}}), 400, 100, 0)
	e.wantGraphError(e.graph(http.MethodGet, "/"+KaiCoffeePageID, url.Values{"access_token": {pt}}), 400, 100, 33)
	e.wantGraphError(e.graph(http.MethodGet, "/"+KaiCoffeePageID, url.Values{"access_token": {user}}), 400, 100, 33)
	e.wantGraphError(e.graph(http.MethodGet, "/"+BearBakeryPageID, nil), 400, 104, 0)

	// The creator account is told apart by the sandbox-only account_type field too.
	yu := e.login("yu")
	r = e.graph(http.MethodGet, "/"+YuSelectIGID, url.Values{"access_token": {yu}, "fields": {"id,username,account_type"}})
	e.wantOK(r)
	if r.body["account_type"] != "MEDIA_CREATOR" {
		t.Fatalf("creator ig %s", r.raw)
	}
}

// The User Profile APIs answer with the Page's token only for someone who has written to the
// Page or its Instagram account; before that, Graph's consent error.
func TestPersonProfilesNeedConsent(t *testing.T) {
	e := newEnv(t)
	pt := e.pageToken(e.login("mei"), BearBakeryPageID)
	igsid, psid := "17842000000000001", "25000000000000001" // 王小明 on Instagram and on the Page
	e.wantGraphError(e.graph(http.MethodGet, "/"+igsid, url.Values{"access_token": {pt}, "fields": {"name,username,profile_pic"}}), 400, 230, 0)
	if _, _, err := e.w.SimulateInbound(PlatformInstagram, BearBakeryIGID, igsid, "hi"); err != nil {
		t.Fatal(err)
	}
	r := e.graph(http.MethodGet, "/"+igsid, url.Values{"access_token": {pt}, "fields": {"name,username,profile_pic"}})
	e.wantOK(r)
	if r.body["name"] != "王小明" || r.body["username"] != "xiaoming" || r.body["profile_pic"] == nil {
		t.Fatalf("instagram profile %s", r.raw)
	}
	// Messenger's profile has its own fields; Instagram's are not among them.
	e.wantGraphError(e.graph(http.MethodGet, "/"+psid, url.Values{"access_token": {pt}, "fields": {"first_name,last_name"}}), 400, 230, 0)
	if _, _, err := e.w.SimulateInbound(PlatformFacebook, BearBakeryPageID, psid, "hi"); err != nil {
		t.Fatal(err)
	}
	r = e.graph(http.MethodGet, "/"+psid, url.Values{"access_token": {pt}, "fields": {"first_name,last_name,profile_pic"}})
	e.wantOK(r)
	if r.body["first_name"] != "王小明" {
		t.Fatalf("messenger profile %s", r.raw)
	}
	e.wantGraphError(e.graph(http.MethodGet, "/"+psid, url.Values{"access_token": {pt}, "fields": {"username"}}), 400, 100, 0)
	// Another Page's token, or a user token, sees no such person.
	kai := e.pageToken(e.login("kai"), KaiCoffeePageID)
	e.wantGraphError(e.graph(http.MethodGet, "/"+igsid, url.Values{"access_token": {kai}, "fields": {"name"}}), 400, 100, 33)
	e.wantGraphError(e.graph(http.MethodGet, "/"+igsid, url.Values{"access_token": {e.login("mei")}, "fields": {"name"}}), 400, 100, 33)
	// A Page token without the messaging permission reads no profile, like a send.
	ann := e.pageToken(e.login("ann"), AnnFloristPageID)
	if _, _, err := e.w.SimulateInbound(PlatformInstagram, AnnFloristIGID, "17842000000000021", "hi"); err != nil {
		t.Fatal(err)
	}
	e.wantGraphError(e.graph(http.MethodGet, "/17842000000000021", url.Values{"access_token": {ann}, "fields": {"name"}}), 403, 10, 0)
}

func TestDebugToken(t *testing.T) {
	e := newEnv(t)
	user := e.login("mei")
	pt := e.pageToken(user, BearBakeryPageID)

	e.wantGraphError(e.graph(http.MethodGet, "/debug_token", url.Values{"input_token": {user}, "access_token": {user}}), 400, 100, 0)
	e.wantGraphError(e.graph(http.MethodGet, "/debug_token", url.Values{"input_token": {user}, "access_token": {"1234567890|wrong"}}), 400, 190, 0)

	d := e.debug(user)
	if d["type"] != "USER" || d["is_valid"] != true || d["user_id"] != MeiUserID || d["app_id"] != "1234567890" {
		t.Fatalf("user debug %v", d)
	}
	scopes := d["scopes"].([]any)
	if !slices.Contains(scopes, any("pages_messaging")) || !slices.Contains(scopes, any("instagram_manage_messages")) {
		t.Fatalf("scopes %v", scopes)
	}
	var found bool
	for _, g := range d["granular_scopes"].([]any) {
		m := g.(map[string]any)
		if m["scope"] == "pages_show_list" {
			found = slices.Contains(m["target_ids"].([]any), any(BearBakeryPageID))
		}
	}
	if !found {
		t.Fatalf("granular scopes %v", d["granular_scopes"])
	}

	d = e.debug(pt)
	if d["type"] != "PAGE" || d["profile_id"] != BearBakeryPageID || d["expires_at"].(float64) != 0 {
		t.Fatalf("page debug %v", d)
	}

	d = e.debug("EAAnonsense")
	if d["is_valid"] != false || d["error"].(map[string]any)["code"].(float64) != 190 {
		t.Fatalf("garbage debug %v", d)
	}
}

func TestBreakCauses(t *testing.T) {
	cases := []struct {
		cause   Cause
		subcode int
	}{
		{CausePasswordChanged, 460},
		{CauseExpired, 463},
		{CauseCheckpoint, 459},
		{CauseAppRemoved, 458},
	}
	for _, c := range cases {
		t.Run(string(c.cause), func(t *testing.T) {
			e := newEnv(t)
			user := e.login("mei")
			pt := e.pageToken(user, BearBakeryPageID)
			if err := e.w.BreakToken(Target{TargetFacebookUser, "mei"}, c.cause); err != nil {
				t.Fatal(err)
			}
			e.wantGraphError(e.graph(http.MethodGet, "/me", url.Values{"access_token": {user}}), 400, 190, c.subcode)
			e.wantGraphError(e.graph(http.MethodGet, "/"+BearBakeryPageID, url.Values{"access_token": {pt}}), 400, 190, c.subcode)
			e.wantGraphError(e.graphJSON("/me/messages", pt, map[string]any{"recipient": map[string]string{"id": "1"}, "message": map[string]string{"text": "x"}}), 400, 190, c.subcode)
			for _, tok := range []string{user, pt} {
				d := e.debug(tok)
				errObj, _ := d["error"].(map[string]any)
				if d["is_valid"] != false || errObj["code"].(float64) != 190 || errObj["subcode"].(float64) != float64(c.subcode) {
					t.Fatalf("debug_token after %s: %v", c.cause, d)
				}
			}
			st := e.w.Targets()
			var broken Cause
			for _, s := range st {
				if s.Target.Kind == TargetFacebookUser && s.Target.ID == MeiUserID {
					broken = s.Broken
				}
			}
			if broken != c.cause {
				t.Fatalf("Targets reports %q", broken)
			}

			if err := e.w.Repair(Target{TargetFacebookUser, MeiUserID}); err != nil {
				t.Fatal(err)
			}
			e.wantOK(e.graph(http.MethodGet, "/me", url.Values{"access_token": {user}}))
			e.wantOK(e.graph(http.MethodGet, "/"+BearBakeryPageID, url.Values{"access_token": {pt}}))
			if d := e.debug(pt); d["is_valid"] != true {
				t.Fatalf("after repair %v", d)
			}
		})
	}
}

func TestPageTargetBreaksOnlyPageTokens(t *testing.T) {
	e := newEnv(t)
	user := e.login("mei")
	pt := e.pageToken(user, BearBakeryPageID)
	if err := e.w.BreakToken(Target{TargetPage, BearBakeryIGID}, CauseCheckpoint); err != nil {
		t.Fatal(err)
	}
	e.wantGraphError(e.graph(http.MethodGet, "/"+BearBakeryPageID, url.Values{"access_token": {pt}}), 400, 190, 459)
	e.wantOK(e.graph(http.MethodGet, "/me", url.Values{"access_token": {user}}))
	if err := e.w.BreakToken(Target{TargetFacebookUser, "kai"}, CauseExpired); err == nil {
		t.Fatal("breaking a user without tokens succeeded")
	}
	if err := e.w.BreakToken(Target{TargetPage, "nope"}, CauseExpired); err == nil {
		t.Fatal("unknown target accepted")
	}
}

func TestReauthoriseIssuesWorkingTokens(t *testing.T) {
	e := newEnv(t)
	old := e.login("mei")
	oldPT := e.pageToken(old, BearBakeryPageID)
	junPT := e.pageToken(e.login("jun"), BearBakeryPageID)
	if err := e.w.BreakToken(Target{TargetFacebookUser, MeiUserID}, CausePasswordChanged); err != nil {
		t.Fatal(err)
	}
	// Another admin of the same Page is unaffected.
	e.wantOK(e.graph(http.MethodGet, "/"+BearBakeryPageID, url.Values{"access_token": {junPT}}))

	fresh := e.login("mei")
	freshPT := e.pageToken(fresh, BearBakeryPageID)
	if freshPT == oldPT {
		t.Fatal("reauthorisation reused the broken Page token")
	}
	e.wantOK(e.graph(http.MethodGet, "/me", url.Values{"access_token": {fresh}}))
	e.wantOK(e.graph(http.MethodGet, "/"+BearBakeryPageID, url.Values{"access_token": {freshPT}}))
	if d := e.debug(freshPT); d["is_valid"] != true {
		t.Fatalf("fresh page token %v", d)
	}
	// Old tokens stay dead.
	e.wantGraphError(e.graph(http.MethodGet, "/me", url.Values{"access_token": {old}}), 400, 190, 460)
}

func TestPermissionRemoved(t *testing.T) {
	e := newEnv(t)
	user := e.login("mei")
	pt := e.pageToken(user, BearBakeryPageID)
	psid := e.customer("xiaoming", PlatformFacebook, BearBakeryPageID)
	e.inbound(PlatformFacebook, BearBakeryPageID, psid, "hi")
	if err := e.w.BreakToken(Target{TargetPage, BearBakeryPageID}, CausePermissionRemoved); err != nil {
		t.Fatal(err)
	}
	d := e.debug(pt)
	if d["is_valid"] != true || slices.Contains(d["scopes"].([]any), any("pages_messaging")) {
		t.Fatalf("debug after permission removal %v", d)
	}
	e.wantGraphError(e.graphJSON("/me/messages", pt, map[string]any{"recipient": map[string]string{"id": psid}, "message": map[string]string{"text": "hello"}}), 403, 10, 0)
	// Calls that do not need the scope keep working.
	e.wantOK(e.graph(http.MethodGet, "/"+BearBakeryPageID, url.Values{"access_token": {pt}}))

	if err := e.w.RevokePermission(Target{TargetFacebookUser, "mei"}, "pages_show_list"); err != nil {
		t.Fatal(err)
	}
	e.wantGraphError(e.graph(http.MethodGet, "/me/accounts", url.Values{"access_token": {user}}), 403, 200, 0)
	r := e.graph(http.MethodGet, "/me/permissions", url.Values{"access_token": {user}})
	if !strings.Contains(string(r.raw), `"permission":"pages_show_list","status":"declined"`) {
		t.Fatalf("permissions %s", r.raw)
	}
	if err := e.w.Repair(Target{TargetFacebookUser, "mei"}); err != nil {
		t.Fatal(err)
	}
	e.wantOK(e.graphJSON("/me/messages", pt, map[string]any{"recipient": map[string]string{"id": psid}, "message": map[string]string{"text": "hello"}}))
}

func TestRateLimitedCause(t *testing.T) {
	e := newEnv(t)
	user := e.login("mei")
	pt := e.pageToken(user, BearBakeryPageID)
	if err := e.w.BreakToken(Target{TargetFacebookUser, "mei"}, CauseRateLimited); err != nil {
		t.Fatal(err)
	}
	e.wantGraphError(e.graph(http.MethodGet, "/me", url.Values{"access_token": {user}}), 400, 17, 0)
	e.wantGraphError(e.graph(http.MethodGet, "/"+BearBakeryPageID, url.Values{"access_token": {pt}}), 400, 32, 0)
	// Throttling does not invalidate the token.
	if d := e.debug(user); d["is_valid"] != true {
		t.Fatalf("throttled token invalid: %v", d)
	}
	if err := e.w.BreakToken(Target{Kind: TargetApp}, CauseRateLimited); err != nil {
		t.Fatal(err)
	}
	r := e.graph(http.MethodGet, "/debug_token", url.Values{"input_token": {user}, "access_token": {"1234567890|test-app-secret"}})
	e.wantGraphError(r, 400, 4, 0)
	if r.body["error"].(map[string]any)["is_transient"] != true {
		t.Fatalf("throttle not transient: %s", r.raw)
	}
	for _, tg := range []Target{{Kind: TargetApp}, {TargetFacebookUser, "mei"}} {
		if err := e.w.Repair(tg); err != nil {
			t.Fatal(err)
		}
	}
	e.wantOK(e.graph(http.MethodGet, "/me", url.Values{"access_token": {user}}))
}

func TestUsageHeadersRiseAndThrottle(t *testing.T) {
	e := newEnv(t)
	user := e.login("mei")
	pt := e.pageToken(user, BearBakeryPageID)
	e.w.SetUsageLimit(4, time.Minute)

	usage := func(r resp) int {
		var u map[string]int
		if err := json.Unmarshal([]byte(r.header.Get("X-App-Usage")), &u); err != nil {
			t.Fatalf("X-App-Usage %q: %v", r.header.Get("X-App-Usage"), err)
		}
		return u["call_count"]
	}
	var last int
	for i := 1; i <= 4; i++ {
		r := e.graph(http.MethodGet, "/"+BearBakeryPageID, url.Values{"access_token": {pt}})
		e.wantOK(r)
		got := usage(r)
		if got != i*25 || got <= last {
			t.Fatalf("call %d: call_count %d", i, got)
		}
		last = got
		var buc map[string][]map[string]any
		if err := json.Unmarshal([]byte(r.header.Get("X-Business-Use-Case-Usage")), &buc); err != nil {
			t.Fatalf("BUC header %q", r.header.Get("X-Business-Use-Case-Usage"))
		}
		if entry := buc[BearBakeryPageID]; len(entry) != 1 || entry[0]["type"] != "pages" || entry[0]["call_count"].(float64) != float64(got) {
			t.Fatalf("BUC %v", buc)
		}
	}
	r := e.graph(http.MethodGet, "/"+BearBakeryPageID, url.Values{"access_token": {pt}})
	e.wantGraphError(r, 400, 32, 0)
	if usage(r) != 100 {
		t.Fatalf("throttled usage %d", usage(r))
	}
	// A user token has its own counter (one call already spent reading the Page token)
	// and throttles with 17.
	for range 3 {
		e.wantOK(e.graph(http.MethodGet, "/me", url.Values{"access_token": {user}}))
	}
	r = e.graph(http.MethodGet, "/me", url.Values{"access_token": {user}})
	e.wantGraphError(r, 400, 17, 0)
	if r.header.Get("X-Business-Use-Case-Usage") != "" {
		t.Fatal("user-token call has a BUC header")
	}
	e.clock.Advance(61 * time.Second)
	r = e.graph(http.MethodGet, "/"+BearBakeryPageID, url.Values{"access_token": {pt}})
	e.wantOK(r)
	if usage(r) != 25 {
		t.Fatalf("usage after window %d", usage(r))
	}
}

func TestTransientFailures(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.HangLimit = 50 * time.Millisecond })
	user := e.login("mei")
	pt := e.pageToken(user, BearBakeryPageID)
	page := Target{TargetPage, BearBakeryPageID}

	if err := e.w.SetTransientFailure(page, 2, FailUnexpected); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		r := e.graph(http.MethodGet, "/"+BearBakeryPageID, url.Values{"access_token": {pt}})
		e.wantGraphError(r, 500, 2, 0)
	}
	e.wantOK(e.graph(http.MethodGet, "/"+BearBakeryPageID, url.Values{"access_token": {pt}}))

	if err := e.w.SetTransientFailure(page, 1, FailUnknown); err != nil {
		t.Fatal(err)
	}
	// debug_token of the Page's token is part of the same trouble.
	e.wantGraphError(e.graph(http.MethodGet, "/debug_token", url.Values{"input_token": {pt}, "access_token": {"1234567890|test-app-secret"}}), 500, 1, 0)

	if err := e.w.SetTransientFailure(page, 1, FailTimeout); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 20 * time.Millisecond}
	if _, err := client.Get(e.srv.URL + "/graph/v25.0/" + BearBakeryPageID + "?access_token=" + url.QueryEscape(pt)); err == nil {
		t.Fatal("timeout failure answered in time")
	}
	e.wantOK(e.graph(http.MethodGet, "/"+BearBakeryPageID, url.Values{"access_token": {pt}}))

	// A client that waits past HangLimit gets a 500 instead.
	if err := e.w.SetTransientFailure(Target{Kind: TargetApp}, 1, FailTimeout); err != nil {
		t.Fatal(err)
	}
	e.wantGraphError(e.graph(http.MethodGet, "/me", url.Values{"access_token": {user}}), 500, 2, 0)
	if err := e.w.SetTransientFailure(page, 1, "flaky"); err == nil {
		t.Fatal("unknown failure kind accepted")
	}
}

func TestSubscribedApps(t *testing.T) {
	e := newEnv(t)
	if err := e.w.UnsubscribeApp(BearBakeryPageID); err != nil {
		t.Fatal(err)
	}
	user := e.login("mei")
	pt := e.pageToken(user, BearBakeryPageID)
	path := "/" + BearBakeryPageID + "/subscribed_apps"

	r := e.graph(http.MethodGet, path, url.Values{"access_token": {pt}})
	e.wantOK(r)
	if len(r.body["data"].([]any)) != 0 {
		t.Fatalf("fresh page subscribed: %s", r.raw)
	}
	e.wantGraphError(e.graph(http.MethodPost, path, url.Values{"access_token": {user}, "subscribed_fields": {"messages"}}), 400, 210, 0)
	e.wantGraphError(e.graph(http.MethodPost, path, url.Values{"access_token": {pt}, "subscribed_fields": {"messages,bogus"}}), 400, 100, 0)
	e.wantGraphError(e.graph(http.MethodPost, path, url.Values{"access_token": {pt}}), 400, 100, 0)
	// Instagram's read field is not a Page field: the real Page edge refuses it, and so do we.
	e.wantGraphError(e.graph(http.MethodPost, path, url.Values{"access_token": {pt}, "subscribed_fields": {"messages,messaging_seen"}}), 400, 100, 0)
	if _, ok := e.w.Subscription(BearBakeryPageID); ok {
		t.Fatal("a refused subscription was kept")
	}

	r = e.graph(http.MethodPost, path, url.Values{"access_token": {pt}, "subscribed_fields": {"messages,messaging_postbacks,message_echoes"}})
	e.wantOK(r)
	if r.body["success"] != true {
		t.Fatalf("subscribe %s", r.raw)
	}
	r = e.graph(http.MethodGet, path, url.Values{"access_token": {pt}})
	app := r.body["data"].([]any)[0].(map[string]any)
	if app["id"] != "1234567890" || len(app["subscribed_fields"].([]any)) != 3 {
		t.Fatalf("subscription %s", r.raw)
	}

	if err := e.w.UnsubscribeApp(BearBakeryPageID); err != nil {
		t.Fatal(err)
	}
	r = e.graph(http.MethodGet, path, url.Values{"access_token": {pt}})
	if len(r.body["data"].([]any)) != 0 {
		t.Fatalf("after Webhooks Disabled: %s", r.raw)
	}

	e.wantOK(e.graph(http.MethodPost, path, url.Values{"access_token": {pt}, "subscribed_fields": {"messages"}}))
	e.wantOK(e.graph(http.MethodDelete, path, url.Values{"access_token": {pt}}))
	if _, ok := e.w.Subscription(BearBakeryPageID); ok {
		t.Fatal("DELETE left the subscription")
	}
}

func TestSendAPIWindow(t *testing.T) {
	e := newEnv(t)
	user := e.login("mei")
	pt := e.pageToken(user, BearBakeryPageID)
	psid := e.customer("xiaoming", PlatformFacebook, BearBakeryPageID)
	igsid := e.customer("xiaoming", PlatformInstagram, BearBakeryIGID)
	text := func(id string) map[string]any {
		return map[string]any{"recipient": map[string]string{"id": id}, "messaging_type": "RESPONSE", "message": map[string]string{"text": "您好！"}}
	}

	e.wantGraphError(e.graphJSON("/"+BearBakeryPageID+"/messages", pt, text(psid)), 400, 10, 2018278)
	e.wantGraphError(e.graphJSON("/"+BearBakeryPageID+"/messages", pt, text(igsid)), 400, 10, 2534022)
	e.wantGraphError(e.graphJSON("/"+BearBakeryPageID+"/messages", pt, text("99999999")), 400, 100, 2018001)
	e.wantGraphError(e.graphJSON("/"+BearBakeryPageID+"/messages", user, text(psid)), 400, 210, 0)

	e.inbound(PlatformFacebook, BearBakeryPageID, psid, "請問有營業嗎？")
	r := e.graphJSON("/"+BearBakeryPageID+"/messages", pt, text(psid))
	e.wantOK(r)
	mid, _ := r.body["message_id"].(string)
	if r.body["recipient_id"] != psid || !strings.HasPrefix(mid, "m_") {
		t.Fatalf("send answer %s", r.raw)
	}
	// Form-encoded calls work too.
	e.wantOK(e.graph(http.MethodPost, "/me/messages", url.Values{"access_token": {pt},
		"recipient": {`{"id":"` + psid + `"}`}, "message": {`{"text":"form"}`}}))

	conv := e.w.Conversation(PlatformFacebook, BearBakeryPageID, psid)
	if len(conv) != 3 || conv[0].Direction != Inbound || conv[1].Direction != Outbound || conv[1].ID != mid || conv[1].Text != "您好！" {
		t.Fatalf("conversation %+v", conv)
	}

	// A generic template with too many buttons is refused.
	tpl := map[string]any{"recipient": map[string]string{"id": psid}, "message": map[string]any{"attachment": map[string]any{
		"type": "template", "payload": map[string]any{"template_type": "generic", "elements": []any{map[string]any{
			"title": "Card", "buttons": []any{1, 2, 3, 4}}}}}}}
	e.wantGraphError(e.graphJSON("/me/messages", pt, tpl), 400, 100, 0)
	tpl["message"].(map[string]any)["attachment"].(map[string]any)["payload"].(map[string]any)["elements"] = []any{map[string]any{
		"title": "小熊會員卡", "buttons": []any{map[string]string{"type": "web_url", "url": "https://x.test/l/abc", "title": "Open"}}}}
	e.wantOK(e.graphJSON("/me/messages", pt, tpl))

	// 25 hours later the window is closed; HUMAN_AGENT still works for 7 days.
	e.clock.Advance(25 * time.Hour)
	e.wantGraphError(e.graphJSON("/me/messages", pt, text(psid)), 400, 10, 2018278)
	tagged := text(psid)
	tagged["messaging_type"], tagged["tag"] = "MESSAGE_TAG", "HUMAN_AGENT"
	e.wantOK(e.graphJSON("/me/messages", pt, tagged))
	tagged["tag"] = "NOT_A_TAG"
	e.wantGraphError(e.graphJSON("/me/messages", pt, tagged), 400, 100, 0)
	e.clock.Advance(7 * 24 * time.Hour)
	tagged["tag"] = "HUMAN_AGENT"
	e.wantGraphError(e.graphJSON("/me/messages", pt, tagged), 400, 10, 2018278)

	// Instagram through the IG id path, inside the window.
	e.inbound(PlatformInstagram, BearBakeryIGID, igsid, "hi from IG")
	r = e.graphJSON("/"+BearBakeryIGID+"/messages", pt, text(igsid))
	e.wantOK(r)
	if got := e.w.Conversation(PlatformInstagram, BearBakeryIGID, igsid); len(got) != 2 || got[1].Direction != Outbound {
		t.Fatalf("ig conversation %+v", got)
	}
	if !strings.Contains(r.header.Get("X-Business-Use-Case-Usage"), `"type":"instagram"`) {
		t.Fatalf("IG send BUC %q", r.header.Get("X-Business-Use-Case-Usage"))
	}
}

func TestInstagramSendNeedsPermission(t *testing.T) {
	e := newEnv(t)
	pt := e.pageToken(e.login("ann"), AnnFloristPageID)
	igsid := e.customer("xiaoming", PlatformInstagram, AnnFloristIGID)
	e.inbound(PlatformInstagram, AnnFloristIGID, igsid, "花束還有嗎")
	e.wantGraphError(e.graphJSON("/me/messages", pt, map[string]any{"recipient": map[string]string{"id": igsid}, "message": map[string]string{"text": "有"}}), 403, 10, 0)
}

func TestLatencyIsApplied(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Latency = time.Hour })
	client := &http.Client{Timeout: 30 * time.Millisecond}
	if _, err := client.Get(e.srv.URL + "/line/v2/bot/info"); err == nil {
		t.Fatal("an hour of latency answered in 30 ms")
	}
}

func TestParseFields(t *testing.T) {
	f, rest, err := parseFields("id,name,instagram_business_account{id,username},picture.type(large),x{y{z}}")
	if err != nil || rest != "" {
		t.Fatalf("parse: %v rest %q", err, rest)
	}
	if len(f) != 5 || f[2].name != "instagram_business_account" || len(f[2].sub) != 2 || f[3].name != "picture" || f[4].sub[0].sub[0].name != "z" {
		t.Fatalf("parsed %+v", f)
	}
	if _, _, err := parseFields("a{b"); err == nil {
		t.Fatal("unclosed brace parsed")
	}
}

// A late answer on the Send API delivers the message and then answers only after the client
// gave up (or, for a patient client, after HangLimit with the real answer).
func TestSendAPILateAnswer(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.HangLimit = 200 * time.Millisecond })
	pt := e.pageToken(e.login("mei"), BearBakeryPageID)
	psid := e.customer("xiaoming", PlatformFacebook, BearBakeryPageID)
	e.inbound(PlatformFacebook, BearBakeryPageID, psid, "在嗎？")
	if err := e.w.SetTransientFailure(Target{Kind: TargetPage, ID: BearBakeryPageID}, 1, FailLateAnswer); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := e.graphJSON("/"+BearBakeryPageID+"/messages", pt, map[string]any{"recipient": map[string]string{"id": psid},
		"messaging_type": "RESPONSE", "message": map[string]string{"text": "在的"}})
	e.wantOK(r)
	if time.Since(start) < 200*time.Millisecond {
		t.Fatal("the answer was not held back")
	}
	conv := e.w.Conversation(PlatformFacebook, BearBakeryPageID, psid)
	if len(conv) != 2 || conv[1].ID != r.body["message_id"] {
		t.Fatalf("conversation %+v", conv)
	}
}
