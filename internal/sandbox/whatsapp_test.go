package sandbox

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func (e *env) waSend(token string, body any) resp {
	e.t.Helper()
	b, _ := json.Marshal(body)
	return e.do(http.MethodPost, "/graph/v25.0/"+WhatsAppPhoneNumberID+"/messages", nil, b, http.Header{"Authorization": {"Bearer " + token}})
}

func TestWhatsAppPhoneNumber(t *testing.T) {
	e := newEnv(t)
	tok := e.wa().AccessToken
	r := e.do(http.MethodGet, "/graph/v25.0/"+WhatsAppPhoneNumberID, url.Values{"fields": {"display_phone_number,verified_name,quality_rating,code_verification_status,name_status,platform_type,throughput,status"}},
		nil, http.Header{"Authorization": {"Bearer " + tok}})
	e.wantOK(r)
	if r.body["display_phone_number"] != "+886 2 2700 1234" || r.body["verified_name"] != "小熊烘焙坊 Bear Bakery" ||
		r.body["quality_rating"] != "GREEN" || r.body["id"] != WhatsAppPhoneNumberID {
		t.Fatalf("phone %s", r.raw)
	}
	if r.body["throughput"].(map[string]any)["level"] != "STANDARD" {
		t.Fatalf("throughput %s", r.raw)
	}
	if !strings.Contains(r.header.Get("X-Business-Use-Case-Usage"), WhatsAppWABAID) {
		t.Fatalf("BUC %q", r.header.Get("X-Business-Use-Case-Usage"))
	}
	e.wantGraphError(e.graph(http.MethodGet, "/"+WhatsAppPhoneNumberID, nil), 400, 104, 0)
	pt := e.pageToken(e.login("mei"), BearBakeryPageID)
	e.wantGraphError(e.graph(http.MethodGet, "/"+WhatsAppPhoneNumberID, url.Values{"access_token": {pt}}), 400, 100, 33)

	r = e.graph(http.MethodGet, "/"+WhatsAppWABAID+"/phone_numbers", url.Values{"access_token": {tok}})
	e.wantOK(r)
	if d := r.body["data"].([]any); len(d) != 1 || d[0].(map[string]any)["id"] != WhatsAppPhoneNumberID {
		t.Fatalf("phone_numbers %s", r.raw)
	}
	d := e.debug(tok)
	if d["type"] != "SYSTEM_USER" || d["is_valid"] != true || d["expires_at"].(float64) != 0 {
		t.Fatalf("debug system user %v", d)
	}
	e.wantOK(e.graph(http.MethodPost, "/"+WhatsAppWABAID+"/subscribed_apps", url.Values{"access_token": {tok}}))
	if _, ok := e.w.Subscription(WhatsAppWABAID); !ok {
		t.Fatal("WABA not subscribed")
	}
}

func TestWhatsAppSendWindow(t *testing.T) {
	e := newEnv(t)
	tok := e.wa().AccessToken
	waID := e.customer("xiaoming", PlatformWhatsApp, WhatsAppPhoneNumberID)
	text := map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+" + waID, "type": "text", "text": map[string]any{"body": "哈囉"}}

	r := e.waSend(tok, text)
	e.wantGraphError(r, 400, 131047, 0)
	if data, _ := r.body["error"].(map[string]any)["error_data"].(map[string]any); data["messaging_product"] != "whatsapp" || data["details"] == "" {
		t.Fatalf("131047 error_data %s", r.raw)
	}
	tpl := map[string]any{"messaging_product": "whatsapp", "to": waID, "type": "template",
		"template": map[string]any{"name": "omnilink_invite", "language": map[string]string{"code": "zh_TW"}}}
	r = e.waSend(tok, tpl)
	e.wantOK(r)
	if m := r.body["messages"].([]any)[0].(map[string]any); m["message_status"] != "accepted" || !strings.HasPrefix(m["id"].(string), "wamid.") {
		t.Fatalf("template answer %s", r.raw)
	}

	e.inbound(PlatformWhatsApp, WhatsAppPhoneNumberID, waID, "我要預訂蛋糕")
	r = e.waSend(tok, text)
	e.wantOK(r)
	c := r.body["contacts"].([]any)[0].(map[string]any)
	if r.body["messaging_product"] != "whatsapp" || c["input"] != "+"+waID || c["wa_id"] != waID {
		t.Fatalf("send answer %s", r.raw)
	}
	cta := map[string]any{"messaging_product": "whatsapp", "to": waID, "type": "interactive", "interactive": map[string]any{
		"type": "cta_url", "body": map[string]string{"text": "點此連結帳號"},
		"action": map[string]any{"name": "cta_url", "parameters": map[string]string{"display_text": "這段按鈕文字實在是太長了超過二十個字元上限", "url": "https://x.test/l/1"}}}}
	e.wantGraphError(e.waSend(tok, cta), 400, 131009, 0)
	cta["interactive"].(map[string]any)["action"].(map[string]any)["parameters"] = map[string]string{"display_text": "連結帳號", "url": "https://x.test/l/1"}
	e.wantOK(e.waSend(tok, cta))
	e.wantGraphError(e.waSend(tok, map[string]any{"to": waID, "type": "text", "text": map[string]string{"body": "x"}}), 400, 100, 0)

	conv := e.w.Conversation(PlatformWhatsApp, WhatsAppPhoneNumberID, waID)
	if len(conv) != 4 || conv[0].Kind != "template" || conv[1].Direction != Inbound || conv[2].Text != "哈囉" || conv[3].Kind != "interactive" {
		t.Fatalf("conversation %+v", conv)
	}

	e.clock.Advance(24 * time.Hour)
	e.wantGraphError(e.waSend(tok, text), 400, 131047, 0)

	if err := e.w.BreakToken(Target{TargetWhatsApp, WhatsAppWABAID}, CausePasswordChanged); !errors.Is(err, ErrCauseNotApplicable) {
		t.Fatalf("a WhatsApp number took a Facebook password change: %v", err)
	}
	if err := e.w.BreakToken(Target{TargetWhatsApp, WhatsAppWABAID}, CauseTokenInvalid); err != nil {
		t.Fatal(err)
	}
	e.wantGraphError(e.waSend(tok, tpl), 400, 190, 0)
	if d := e.debug(tok); d["is_valid"] != false {
		t.Fatalf("broken WA token debug %v", d)
	}
	if err := e.w.Repair(Target{TargetWhatsApp, WhatsAppPhoneNumberID}); err != nil {
		t.Fatal(err)
	}
	if err := e.w.BreakToken(Target{TargetWhatsApp, WhatsAppPhoneNumberID}, CausePermissionRemoved); err != nil {
		t.Fatal(err)
	}
	e.wantGraphError(e.waSend(tok, tpl), 403, 10, 0)
	if err := e.w.Repair(Target{TargetWhatsApp, WhatsAppPhoneNumberID}); err != nil {
		t.Fatal(err)
	}

	// A disconnected number says so on its node and cannot send; repairing reconnects it.
	if err := e.w.BreakToken(Target{TargetWhatsApp, WhatsAppPhoneNumberID}, CauseNumberDisconnected); err != nil {
		t.Fatal(err)
	}
	e.wantGraphError(e.waSend(tok, tpl), 400, 133010, 0)
	for _, ts := range e.w.Targets() {
		if ts.Target == (Target{TargetWhatsApp, WhatsAppPhoneNumberID}) && ts.Broken != CauseNumberDisconnected {
			t.Errorf("the panel does not show the number disconnected: %+v", ts)
		}
	}
	if err := e.w.Repair(Target{TargetWhatsApp, WhatsAppPhoneNumberID}); err != nil {
		t.Fatal(err)
	}
}
