package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func textMsg(s string) []map[string]any { return []map[string]any{{"type": "text", "text": s}} }

func (e *env) loginVerify(form url.Values) resp {
	e.t.Helper()
	return e.do(http.MethodPost, "/line/oauth2/v2.1/verify", form, nil, nil)
}

func wantLoginError(t *testing.T, r resp, desc string) {
	t.Helper()
	if r.status != http.StatusBadRequest || r.body["error"] != "invalid_request" || r.body["error_description"] != desc {
		t.Fatalf("want 400 %q, got %d %s", desc, r.status, r.raw)
	}
}

func TestLINEBotInfoAndAuth(t *testing.T) {
	e := newEnv(t)
	a := e.line()
	r := e.lineCall(http.MethodGet, "/v2/bot/info", a.AccessToken, nil, nil)
	e.wantOK(r)
	if r.body["userId"] != LINEBotUserID || r.body["basicId"] != "@bearbakery" || r.body["chatMode"] != "chat" || r.header.Get("X-Line-Request-Id") == "" {
		t.Fatalf("bot info %s", r.raw)
	}
	if !strings.Contains(string(r.raw), "小熊烘焙坊") {
		t.Fatalf("LINE body should be plain UTF-8: %s", r.raw)
	}
	r = e.lineCall(http.MethodGet, "/v2/bot/info", "", nil, nil)
	if r.status != 401 || !strings.HasPrefix(r.body["message"].(string), "Authorization header required") {
		t.Fatalf("no token %d %s", r.status, r.raw)
	}
	r = e.lineCall(http.MethodGet, "/v2/bot/info", "nope", nil, nil)
	if r.status != 401 || r.body["message"] != lineAuthFailed {
		t.Fatalf("bad token %d %s", r.status, r.raw)
	}

	r = e.do(http.MethodPost, "/line/v2/oauth/verify", url.Values{"access_token": {a.AccessToken}}, nil, nil)
	e.wantOK(r)
	if r.body["client_id"] != LINEChannelID || r.body["expires_in"].(float64) <= 0 || r.body["scope"] != "P" {
		t.Fatalf("verify %s", r.raw)
	}
	r = e.do(http.MethodGet, "/line/oauth2/v2.1/verify", url.Values{"access_token": {a.AccessToken}}, nil, nil)
	e.wantOK(r)
	if r.body["client_id"] != LINEChannelID {
		t.Fatalf("verify v2.1 %s", r.raw)
	}
	wantLoginError(t, e.do(http.MethodPost, "/line/v2/oauth/verify", url.Values{"access_token": {"nope"}}, nil, nil), "invalid access token")

	if err := e.w.BreakToken(Target{TargetLINE, LINEBotUserID}, CauseExpired); err != nil {
		t.Fatal(err)
	}
	r = e.lineCall(http.MethodGet, "/v2/bot/info", a.AccessToken, nil, nil)
	if r.status != 401 || r.body["message"] != lineAuthFailed {
		t.Fatalf("expired token %d %s", r.status, r.raw)
	}
	wantLoginError(t, e.do(http.MethodPost, "/line/v2/oauth/verify", url.Values{"access_token": {a.AccessToken}}, nil, nil), "access token expired")
	if err := e.w.Repair(Target{TargetLINE, LINEChannelID}); err != nil {
		t.Fatal(err)
	}
	e.wantOK(e.lineCall(http.MethodGet, "/v2/bot/info", a.AccessToken, nil, nil))

	if err := e.w.BreakToken(Target{TargetLINE, LINEChannelID}, CauseRateLimited); err != nil {
		t.Fatal(err)
	}
	r = e.lineCall(http.MethodGet, "/v2/bot/info", a.AccessToken, nil, nil)
	if r.status != 429 || r.body["message"] != lineRateLimited {
		t.Fatalf("rate limited %d %s", r.status, r.raw)
	}
	_ = e.w.Repair(Target{TargetLINE, LINEChannelID})

	if err := e.w.BreakToken(Target{TargetLINE, LINEChannelID}, CausePermissionRemoved); err != nil {
		t.Fatal(err)
	}
	r = e.lineCall(http.MethodPost, "/v2/bot/message/push", a.AccessToken, map[string]any{"to": LINEUserXiaoming, "messages": textMsg("x")}, nil)
	if r.status != 403 {
		t.Fatalf("push without permission %d %s", r.status, r.raw)
	}
	_ = e.w.Repair(Target{TargetLINE, LINEChannelID})

	if err := e.w.SetTransientFailure(Target{TargetLINE, LINEChannelID}, 1, FailUnexpected); err != nil {
		t.Fatal(err)
	}
	if r = e.lineCall(http.MethodGet, "/v2/bot/info", a.AccessToken, nil, nil); r.status != 500 {
		t.Fatalf("transient %d", r.status)
	}
	e.wantOK(e.lineCall(http.MethodGet, "/v2/bot/info", a.AccessToken, nil, nil))
	if r = e.lineCall(http.MethodGet, "/v2/bot/nothing", a.AccessToken, nil, nil); r.status != 404 {
		t.Fatalf("unknown path %d", r.status)
	}
}

func TestLINEPushAndRetryKey(t *testing.T) {
	e := newEnv(t)
	tok := e.line().AccessToken
	key := uuid.NewString()
	hdr := http.Header{"X-Line-Retry-Key": {key}}
	body := map[string]any{"to": LINEUserXiaoming, "messages": []map[string]any{
		{"type": "text", "text": "歡迎加入會員"},
		{"type": "flex", "altText": "會員卡", "contents": map[string]any{"type": "bubble"}},
	}}
	r := e.lineCall(http.MethodPost, "/v2/bot/message/push", tok, body, hdr)
	e.wantOK(r)
	sent := r.body["sentMessages"].([]any)
	if len(sent) != 2 || sent[0].(map[string]any)["id"] == "" || sent[0].(map[string]any)["quoteToken"] == "" {
		t.Fatalf("push %s", r.raw)
	}
	firstID := r.header.Get("X-Line-Request-Id")

	r = e.lineCall(http.MethodPost, "/v2/bot/message/push", tok, body, hdr)
	if r.status != http.StatusConflict || r.body["message"] != "The retry key is already accepted" || r.header.Get("X-Line-Accepted-Request-Id") != firstID {
		t.Fatalf("retry %d %s %v", r.status, r.raw, r.header)
	}
	if again := r.body["sentMessages"].([]any); again[0].(map[string]any)["id"] != sent[0].(map[string]any)["id"] {
		t.Fatalf("409 sentMessages differ: %s", r.raw)
	}
	conv := e.w.Conversation(PlatformLINE, LINEChannelID, LINEUserXiaoming)
	if len(conv) != 2 || !conv[0].Delivered || conv[1].Kind != "flex" || conv[1].Text != "會員卡" {
		t.Fatalf("conversation after retry %+v", conv)
	}

	if r = e.lineCall(http.MethodPost, "/v2/bot/message/push", tok, body, http.Header{"X-Line-Retry-Key": {"not-a-uuid"}}); r.status != 400 {
		t.Fatalf("bad retry key %d", r.status)
	}
	// Blocked and never-added users: 200, but nothing is delivered.
	for _, u := range []string{LINEUserZhihao, LINEUserAlice} {
		e.wantOK(e.lineCall(http.MethodPost, "/v2/bot/message/push", tok, map[string]any{"to": u, "messages": textMsg("hi")}, nil))
		if c := e.w.Conversation(PlatformLINE, LINEBotUserID, u); len(c) != 1 || c[0].Delivered {
			t.Fatalf("push to %s logged %+v", u, c)
		}
	}
	r = e.lineCall(http.MethodPost, "/v2/bot/message/push", tok, map[string]any{"to": "U" + strings.Repeat("0", 32), "messages": textMsg("hi")}, nil)
	if r.status != 400 || r.body["message"] != "Failed to send messages" {
		t.Fatalf("unknown user %d %s", r.status, r.raw)
	}
	r = e.lineCall(http.MethodPost, "/v2/bot/message/push", tok, map[string]any{"to": "bob", "messages": textMsg("hi")}, nil)
	if r.status != 400 || r.body["details"] == nil {
		t.Fatalf("bad to %d %s", r.status, r.raw)
	}
	six := append(textMsg("1"), textMsg("2")[0], textMsg("3")[0], textMsg("4")[0], textMsg("5")[0], textMsg("6")[0])
	r = e.lineCall(http.MethodPost, "/v2/bot/message/push", tok, map[string]any{"to": LINEUserXiaoming, "messages": six}, nil)
	if r.status != 400 || !strings.Contains(string(r.raw), `"property":"messages"`) {
		t.Fatalf("six messages %d %s", r.status, r.raw)
	}
	r = e.lineCall(http.MethodPost, "/v2/bot/message/push", tok, map[string]any{"to": LINEUserXiaoming, "messages": []map[string]any{{"type": "flex", "contents": map[string]any{}}}}, nil)
	if r.status != 400 || !strings.Contains(string(r.raw), "messages[0].altText") {
		t.Fatalf("flex without altText %d %s", r.status, r.raw)
	}
	// A failed request does not consume its retry key.
	k2 := http.Header{"X-Line-Retry-Key": {uuid.NewString()}}
	if r = e.lineCall(http.MethodPost, "/v2/bot/message/push", tok, map[string]any{"to": LINEUserXiaoming, "messages": []any{}}, k2); r.status != 400 {
		t.Fatalf("empty messages %d", r.status)
	}
	e.wantOK(e.lineCall(http.MethodPost, "/v2/bot/message/push", tok, map[string]any{"to": LINEUserXiaoming, "messages": textMsg("ok")}, k2))
}

func TestLINEReply(t *testing.T) {
	e := newEnv(t)
	tok := e.line().AccessToken
	body := e.inbound(PlatformLINE, LINEBotUserID, LINEUserYijun, "請問營業時間？")
	var hook lineHookIn
	if err := json.Unmarshal(body, &hook); err != nil {
		t.Fatal(err)
	}
	rt := hook.Events[0].ReplyToken
	r := e.lineCall(http.MethodPost, "/v2/bot/message/reply", tok, map[string]any{"replyToken": rt, "messages": textMsg("早上九點到晚上八點")}, nil)
	e.wantOK(r)
	conv := e.w.Conversation(PlatformLINE, LINEBotUserID, LINEUserYijun)
	if len(conv) != 2 || conv[1].Direction != Outbound || conv[1].Text != "早上九點到晚上八點" {
		t.Fatalf("conversation %+v", conv)
	}
	r = e.lineCall(http.MethodPost, "/v2/bot/message/reply", tok, map[string]any{"replyToken": rt, "messages": textMsg("again")}, nil)
	if r.status != 400 || r.body["message"] != "Invalid reply token" {
		t.Fatalf("reused reply token %d %s", r.status, r.raw)
	}
	body = e.inbound(PlatformLINE, LINEBotUserID, LINEUserYijun, "還在嗎")
	_ = json.Unmarshal(body, &hook)
	e.clock.Advance(2 * time.Minute)
	r = e.lineCall(http.MethodPost, "/v2/bot/message/reply", tok, map[string]any{"replyToken": hook.Events[0].ReplyToken, "messages": textMsg("late")}, nil)
	if r.status != 400 {
		t.Fatalf("expired reply token %d %s", r.status, r.raw)
	}
}

func TestLINEProfileFollowsFriendship(t *testing.T) {
	e := newEnv(t)
	tok := e.line().AccessToken
	r := e.lineCall(http.MethodGet, "/v2/bot/profile/"+LINEUserXiaoming, tok, nil, nil)
	e.wantOK(r)
	if r.body["displayName"] != "王小明" || r.body["userId"] != LINEUserXiaoming {
		t.Fatalf("profile %s", r.raw)
	}
	for _, u := range []string{LINEUserZhihao, LINEUserAlice, "U" + strings.Repeat("f", 32)} {
		if r = e.lineCall(http.MethodGet, "/v2/bot/profile/"+u, tok, nil, nil); r.status != 404 {
			t.Fatalf("profile of non-friend %s: %d", u, r.status)
		}
	}
	if _, _, err := e.w.SimulateFollow(LINEChannelID, LINEUserAlice); err != nil {
		t.Fatal(err)
	}
	e.wantOK(e.lineCall(http.MethodGet, "/v2/bot/profile/"+LINEUserAlice, tok, nil, nil))
	if _, _, err := e.w.SimulateUnfollow(LINEChannelID, LINEUserAlice); err != nil {
		t.Fatal(err)
	}
	if r = e.lineCall(http.MethodGet, "/v2/bot/profile/"+LINEUserAlice, tok, nil, nil); r.status != 404 {
		t.Fatalf("profile after block: %d", r.status)
	}
}

func TestLINERichMenus(t *testing.T) {
	e := newEnv(t)
	tok := e.line().AccessToken
	r := e.lineCall(http.MethodGet, "/v2/bot/richmenu/list", tok, nil, nil)
	e.wantOK(r)
	menus := r.body["richmenus"].([]any)
	if len(menus) != 3 {
		t.Fatalf("rich menus %s", r.raw)
	}
	id := menus[1].(map[string]any)["richMenuId"].(string)
	path := "/v2/bot/user/" + LINEUserXiaoming + "/richmenu"
	if r = e.lineCall(http.MethodGet, path, tok, nil, nil); r.status != 404 {
		t.Fatalf("no menu yet: %d", r.status)
	}
	e.wantOK(e.lineCall(http.MethodPost, path+"/"+id, tok, nil, nil))
	r = e.lineCall(http.MethodGet, path, tok, nil, nil)
	if r.body["richMenuId"] != id || e.w.UserRichMenu(LINEChannelID, LINEUserXiaoming) != id {
		t.Fatalf("linked menu %s", r.raw)
	}
	if cur := e.w.CurrentRichMenu(LINEChannelID, LINEUserXiaoming); cur == nil || cur.ID != id {
		t.Fatalf("simulator menu %+v", cur)
	}
	if r = e.lineCall(http.MethodPost, path+"/richmenu-unknown", tok, nil, nil); r.status != 404 || r.body["message"] != "richmenu not found" {
		t.Fatalf("unknown menu %d %s", r.status, r.raw)
	}
	e.wantOK(e.lineCall(http.MethodDelete, path, tok, nil, nil))
	if e.w.UserRichMenu(LINEChannelID, LINEUserXiaoming) != "" || e.w.CurrentRichMenu(LINEChannelID, LINEUserXiaoming) != nil {
		t.Fatal("unlink kept the menu")
	}
	// Getting and deleting a menu by id; deleting it sends its users back to the default.
	e.wantOK(e.lineCall(http.MethodPost, path+"/"+id, tok, nil, nil))
	if r = e.lineCall(http.MethodGet, "/v2/bot/richmenu/"+id, tok, nil, nil); r.status != 200 || r.body["richMenuId"] != id {
		t.Fatalf("get menu %d %s", r.status, r.raw)
	}
	e.wantOK(e.lineCall(http.MethodDelete, "/v2/bot/richmenu/"+id, tok, nil, nil))
	if r = e.lineCall(http.MethodGet, "/v2/bot/richmenu/"+id, tok, nil, nil); r.status != 404 {
		t.Fatalf("deleted menu %d", r.status)
	}
	if e.w.UserRichMenu(LINEChannelID, LINEUserXiaoming) != "" {
		t.Fatal("deleted menu still linked")
	}
	if r = e.lineCall(http.MethodPost, path+"/"+id, tok, nil, nil); r.status != 404 {
		t.Fatalf("link deleted menu %d", r.status)
	}
}

func TestLINEIDTokenVerify(t *testing.T) {
	e := newEnv(t)
	idt := e.w.IssueIDToken(LINEUserXiaoming, LINELoginChannelID)
	r := e.loginVerify(url.Values{"id_token": {idt}, "client_id": {LINELoginChannelID}})
	e.wantOK(r)
	if r.body["sub"] != LINEUserXiaoming || r.body["aud"] != LINELoginChannelID || r.body["iss"] != "https://access.line.me" || r.body["name"] != "王小明" {
		t.Fatalf("verify %s", r.raw)
	}
	e.wantOK(e.loginVerify(url.Values{"id_token": {idt}, "client_id": {LINELoginChannelID}, "user_id": {LINEUserXiaoming}}))

	wantLoginError(t, e.loginVerify(url.Values{"id_token": {idt}, "client_id": {"1999999999"}}), "Invalid IdToken Audience.")
	wantLoginError(t, e.loginVerify(url.Values{"id_token": {idt}, "client_id": {LINELoginChannelID}, "nonce": {"n1"}}), "Invalid IdToken Nonce.")
	wantLoginError(t, e.loginVerify(url.Values{"id_token": {idt}, "client_id": {LINELoginChannelID}, "user_id": {LINEUserYijun}}), "Invalid IdToken Subject Identifier.")
	tampered := idt[:len(idt)-2] + "xx"
	wantLoginError(t, e.loginVerify(url.Values{"id_token": {tampered}, "client_id": {LINELoginChannelID}}), "Invalid IdToken.")
	wantLoginError(t, e.loginVerify(url.Values{"id_token": {"id_token"}, "client_id": {LINELoginChannelID}}), "Invalid IdToken.")
	foreign := e.w.IssueIDToken(LINEUserXiaoming, "1999999999")
	wantLoginError(t, e.loginVerify(url.Values{"id_token": {foreign}, "client_id": {"1999999999"}}), "Invalid IdToken.")

	e.clock.Advance(61 * time.Minute)
	wantLoginError(t, e.loginVerify(url.Values{"id_token": {idt}, "client_id": {LINELoginChannelID}}), "IdToken expired.")
}

func TestLIFFAccessToken(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		user   string
		friend bool
	}{{LINEUserXiaoming, true}, {LINEUserZhihao, false}} {
		tok, err := e.w.IssueLIFFAccessToken(c.user, LINELoginChannelID)
		if err != nil {
			t.Fatal(err)
		}
		r := e.do(http.MethodGet, "/line/oauth2/v2.1/verify", url.Values{"access_token": {tok}}, nil, nil)
		e.wantOK(r)
		if r.body["client_id"] != LINELoginChannelID || r.body["expires_in"].(float64) <= 0 {
			t.Fatalf("verify LIFF token %s", r.raw)
		}
		r = e.lineCall(http.MethodGet, "/v2/profile", tok, nil, nil)
		e.wantOK(r)
		if r.body["userId"] != c.user {
			t.Fatalf("profile %s", r.raw)
		}
		r = e.lineCall(http.MethodGet, "/friendship/v1/status", tok, nil, nil)
		if r.body["friendFlag"] != c.friend {
			t.Fatalf("friendship of %s: %s", c.user, r.raw)
		}
		// A LIFF token is no channel token.
		if r = e.lineCall(http.MethodGet, "/v2/bot/info", tok, nil, nil); r.status != 401 {
			t.Fatalf("LIFF token on bot API: %d", r.status)
		}
	}
	tok, _ := e.w.IssueLIFFAccessToken(LINEUserXiaoming, LINELoginChannelID)
	e.clock.Advance(13 * time.Hour)
	wantLoginError(t, e.do(http.MethodGet, "/line/oauth2/v2.1/verify", url.Values{"access_token": {tok}}, nil, nil), "access token expired")
}

// A late answer carries the push out and then withholds the answer: the client times out, the
// message is already with the customer, and a retry with the same key answers 409 instead of
// delivering again. Without a client deadline the real answer arrives after HangLimit.
func TestLINELateAnswerThenRetryKey(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.HangLimit = 300 * time.Millisecond })
	acct := e.line()
	target := Target{Kind: TargetLINE, ID: acct.ChannelID}
	if err := e.w.SetTransientFailure(target, 1, FailLateAnswer); err != nil {
		t.Fatal(err)
	}
	key := uuid.NewString()
	b, _ := json.Marshal(map[string]any{"to": LINEUserXiaoming, "messages": textMsg("綁定成功")})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/line/v2/bot/message/push", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+acct.AccessToken)
	req.Header.Set("X-Line-Retry-Key", key)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("the late answer came in time: %d", res.StatusCode)
	}
	if c := e.w.Conversation(PlatformLINE, LINEBotUserID, LINEUserXiaoming); len(c) != 1 || !c[0].Delivered {
		t.Fatalf("after the lost answer the customer has %+v, want the message", c)
	}
	r := e.lineCall(http.MethodPost, "/v2/bot/message/push", acct.AccessToken, map[string]any{"to": LINEUserXiaoming, "messages": textMsg("綁定成功")},
		http.Header{"X-Line-Retry-Key": {key}})
	if r.status != http.StatusConflict || r.header.Get("X-Line-Accepted-Request-Id") == "" {
		t.Fatalf("retry %d %s", r.status, r.raw)
	}
	if c := e.w.Conversation(PlatformLINE, LINEBotUserID, LINEUserXiaoming); len(c) != 1 {
		t.Fatalf("the retry delivered again: %d messages", len(c))
	}

	// A patient client gets the real answer, late.
	if err := e.w.SetTransientFailure(target, 1, FailLateAnswer); err != nil {
		t.Fatal(err)
	}
	r = e.lineCall(http.MethodPost, "/v2/bot/message/push", acct.AccessToken, map[string]any{"to": LINEUserXiaoming, "messages": textMsg("再一則")}, nil)
	if r.status != http.StatusOK || r.body["sentMessages"] == nil {
		t.Fatalf("late answer %d %s", r.status, r.raw)
	}
}
