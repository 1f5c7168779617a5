package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
)

// independent signatures, computed here without the package's helpers.
func hubSignature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func lineSignature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("webhook body %q: %v", b, err)
	}
	return v
}

func path(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func TestSimulateMessenger(t *testing.T) {
	e := newEnv(t)
	psid := e.customer("yijun", PlatformFacebook, BearBakeryPageID)
	body, sig, err := e.w.SimulateInbound(PlatformFacebook, BearBakeryPageID, psid, "草莓蛋糕還有嗎？")
	if err != nil {
		t.Fatal(err)
	}
	if sig != hubSignature("test-app-secret", body) {
		t.Fatalf("signature %s does not verify", sig)
	}
	if !bytes.Contains(body, []byte(`\u8349`)) {
		t.Fatalf("body not escaped like Meta's: %s", body)
	}
	v := decode(t, body)
	m := path(v, "entry", 0, "messaging", 0)
	if v["object"] != "page" || path(v, "entry", 0, "id") != BearBakeryPageID || path(m, "sender", "id") != psid ||
		path(m, "recipient", "id") != BearBakeryPageID || path(m, "message", "text") != "草莓蛋糕還有嗎？" {
		t.Fatalf("messenger webhook %s", body)
	}
	mid, _ := path(m, "message", "mid").(string)
	conv := e.w.Conversation(PlatformFacebook, BearBakeryPageID, psid)
	if len(conv) != 1 || conv[0].ID != mid || conv[0].Direction != Inbound {
		t.Fatalf("conversation %+v", conv)
	}

	body, _, err = e.w.SimulatePostback(PlatformFacebook, BearBakeryPageID, psid, "加入會員", "JOIN")
	if err != nil {
		t.Fatal(err)
	}
	if v = decode(t, body); path(v, "entry", 0, "messaging", 0, "postback", "payload") != "JOIN" {
		t.Fatalf("postback %s", body)
	}
	// A new PSID becomes a customer the Page can answer.
	if _, _, err := e.w.SimulateInbound(PlatformFacebook, BearBakeryPageID, "25000000000009999", "hi"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.w.SimulateInbound(PlatformFacebook, "404", psid, "hi"); err == nil {
		t.Fatal("unknown page accepted")
	}
}

func TestSimulateInstagram(t *testing.T) {
	e := newEnv(t)
	igsid := e.customer("alice", PlatformInstagram, BearBakeryIGID)
	body, sig, err := e.w.SimulateInbound(PlatformInstagram, BearBakeryIGID, igsid, "Do you ship to Tainan?")
	if err != nil {
		t.Fatal(err)
	}
	if sig != hubSignature("test-app-secret", body) {
		t.Fatal("instagram signature does not verify")
	}
	v := decode(t, body)
	if v["object"] != "instagram" || path(v, "entry", 0, "id") != BearBakeryIGID || path(v, "entry", 0, "messaging", 0, "recipient", "id") != BearBakeryIGID {
		t.Fatalf("instagram webhook %s", body)
	}
	if _, _, err := e.w.SimulateInbound(PlatformInstagram, YuSelectIGID, "17842000000000099", "hi"); err == nil {
		t.Fatal("creator account received a message")
	}
}

func TestSimulateWhatsApp(t *testing.T) {
	e := newEnv(t)
	waID := e.customer("yijun", PlatformWhatsApp, WhatsAppPhoneNumberID)
	body, sig, err := e.w.SimulateInbound(PlatformWhatsApp, WhatsAppPhoneNumberID, waID, "想訂生日蛋糕")
	if err != nil {
		t.Fatal(err)
	}
	if sig != hubSignature("test-app-secret", body) {
		t.Fatal("whatsapp signature does not verify")
	}
	v := decode(t, body)
	val := path(v, "entry", 0, "changes", 0, "value")
	if v["object"] != "whatsapp_business_account" || path(v, "entry", 0, "id") != WhatsAppWABAID ||
		path(v, "entry", 0, "changes", 0, "field") != "messages" ||
		path(val, "metadata", "phone_number_id") != WhatsAppPhoneNumberID || path(val, "metadata", "display_phone_number") != "886227001234" ||
		path(val, "contacts", 0, "wa_id") != waID || path(val, "contacts", 0, "profile", "name") != "陳怡君" ||
		path(val, "messages", 0, "from") != waID || path(val, "messages", 0, "text", "body") != "想訂生日蛋糕" {
		t.Fatalf("whatsapp webhook %s", body)
	}
	if ts, _ := path(val, "messages", 0, "timestamp").(string); ts == "" {
		t.Fatalf("timestamp must be a string: %s", body)
	}
	body, _, _ = e.w.SimulatePostback(PlatformWhatsApp, WhatsAppPhoneNumberID, waID, "確認", "CONFIRM")
	if v = decode(t, body); path(v, "entry", 0, "changes", 0, "value", "messages", 0, "interactive", "button_reply", "id") != "CONFIRM" {
		t.Fatalf("button reply %s", body)
	}
	if _, _, err := e.w.SimulateInbound(PlatformWhatsApp, WhatsAppPhoneNumberID, "+886 912", "hi"); err == nil {
		t.Fatal("non-digit wa_id accepted")
	}
}

func TestSimulateLINE(t *testing.T) {
	e := newEnv(t)
	a := e.line()
	body, sig, err := e.w.SimulateInbound(PlatformLINE, LINEChannelID, LINEUserXiaoming, "我想加入會員")
	if err != nil {
		t.Fatal(err)
	}
	if sig != lineSignature(a.ChannelSecret, body) {
		t.Fatal("LINE signature does not verify")
	}
	v := decode(t, body)
	ev := path(v, "events", 0)
	if v["destination"] != LINEBotUserID || path(ev, "type") != "message" || path(ev, "mode") != "active" ||
		path(ev, "deliveryContext", "isRedelivery") != false || path(ev, "source", "userId") != LINEUserXiaoming ||
		path(ev, "message", "text") != "我想加入會員" || path(ev, "replyToken") == nil {
		t.Fatalf("LINE webhook %s", body)
	}
	if id, _ := path(ev, "webhookEventId").(string); !regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{26}$`).MatchString(id) {
		t.Fatalf("webhookEventId %q", id)
	}
	if !bytes.Contains(body, []byte("我想加入會員")) {
		t.Fatal("LINE body should carry raw UTF-8")
	}

	// Blocking, then unblocking: unfollow without replyToken, follow with isUnblocked.
	body, sig, err = e.w.SimulateUnfollow(LINEBotUserID, LINEUserXiaoming)
	if err != nil || sig != lineSignature(a.ChannelSecret, body) {
		t.Fatalf("unfollow: %v", err)
	}
	if ev = path(decode(t, body), "events", 0); path(ev, "type") != "unfollow" || path(ev, "replyToken") != nil {
		t.Fatalf("unfollow %s", body)
	}
	if _, _, err := e.w.SimulateInbound(PlatformLINE, LINEChannelID, LINEUserXiaoming, "hi"); err == nil {
		t.Fatal("a user who blocked the account sent a message")
	}
	body, _, _ = e.w.SimulateFollow(LINEChannelID, LINEUserXiaoming)
	if ev = path(decode(t, body), "events", 0); path(ev, "type") != "follow" || path(ev, "follow", "isUnblocked") != true {
		t.Fatalf("re-follow %s", body)
	}
	body, _, _ = e.w.SimulateFollow(LINEChannelID, "U"+"abcdef0123456789abcdef0123456789")
	if ev = path(decode(t, body), "events", 0); path(ev, "follow", "isUnblocked") != false {
		t.Fatalf("first follow %s", body)
	}
	body, _, _ = e.w.SimulatePostback(PlatformLINE, LINEChannelID, LINEUserYijun, "", "action=join")
	if ev = path(decode(t, body), "events", 0); path(ev, "type") != "postback" || path(ev, "postback", "data") != "action=join" {
		t.Fatalf("postback %s", body)
	}
	kinds := []string{}
	for _, m := range e.w.Conversation(PlatformLINE, LINEBotUserID, LINEUserXiaoming) {
		kinds = append(kinds, m.Kind)
	}
	if len(kinds) != 3 || kinds[0] != "text" || kinds[1] != "unfollow" || kinds[2] != "follow" {
		t.Fatalf("conversation kinds %v", kinds)
	}
	if _, _, err := e.w.SimulateInbound(PlatformLINE, LINEChannelID, "bob", "hi"); err == nil {
		t.Fatal("malformed LINE user id accepted")
	}
}

func TestDeliver(t *testing.T) {
	e := newEnv(t)
	type got struct {
		header http.Header
		body   []byte
	}
	ch := make(chan got, 2)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- got{r.Header, b}
		w.WriteHeader(http.StatusOK)
	}))
	defer hook.Close()

	body, sig, _ := e.w.SimulateInbound(PlatformFacebook, BearBakeryPageID, e.customer("xiaoming", PlatformFacebook, BearBakeryPageID), "hi")
	status, err := Deliver(context.Background(), hook.Client(), hook.URL+"/webhooks/meta", body, sig)
	if err != nil || status != 200 {
		t.Fatalf("deliver: %d %v", status, err)
	}
	g := <-ch
	if !bytes.Equal(g.body, body) || g.header.Get("X-Hub-Signature-256") != hubSignature("test-app-secret", g.body) || g.header.Get("Content-Type") != "application/json" {
		t.Fatalf("meta delivery %v %s", g.header, g.body)
	}

	body, sig, _ = e.w.SimulateInbound(PlatformLINE, LINEChannelID, LINEUserYijun, "hi")
	if _, err := Deliver(context.Background(), nil, hook.URL+"/webhooks/line/1", body, sig); err != nil {
		t.Fatal(err)
	}
	g = <-ch
	if g.header.Get("X-Line-Signature") != lineSignature(e.line().ChannelSecret, g.body) || g.header.Get("X-Hub-Signature-256") != "" {
		t.Fatalf("line delivery %v", g.header)
	}
	if SignMeta("k", []byte("b")) != hubSignature("k", []byte("b")) || SignLINE("k", []byte("b")) != lineSignature("k", []byte("b")) {
		t.Fatal("exported signers disagree with HMAC")
	}
}

func TestVerifyHelpers(t *testing.T) {
	e := newEnv(t)
	body, sig, err := e.w.SimulateLINEVerify(LINEChannelID)
	if err != nil || sig != lineSignature(e.line().ChannelSecret, body) {
		t.Fatalf("verify body: %v", err)
	}
	if v := decode(t, body); v["destination"] != LINEBotUserID || len(v["events"].([]any)) != 0 {
		t.Fatalf("verify body %s", body)
	}

	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("hub.mode") != "subscribe" || q.Get("hub.verify_token") != "secret-word" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		_, _ = io.WriteString(w, q.Get("hub.challenge"))
	}))
	defer hook.Close()
	if err := VerifyMetaWebhook(context.Background(), nil, hook.URL+"/webhooks/meta", "secret-word"); err != nil {
		t.Fatal(err)
	}
	if err := VerifyMetaWebhook(context.Background(), nil, hook.URL+"/webhooks/meta", "wrong"); err == nil {
		t.Fatal("a 403 passed verification")
	}
}

// Meta delivers nothing for an account the app is not subscribed to (never subscribed, or after
// "Webhooks Disabled"), nor a Page event whose field is not subscribed.
func TestNoDeliveryWithoutSubscription(t *testing.T) {
	e := newEnv(t)
	psid := e.customer("xiaoming", PlatformFacebook, BearBakeryPageID)
	if err := e.w.UnsubscribeApp(BearBakeryIGID); err != nil { // the IG account's linked Page
		t.Fatal(err)
	}
	if _, _, err := e.w.SimulateInbound(PlatformFacebook, BearBakeryPageID, psid, "hi"); !errors.Is(err, ErrNotSubscribed) {
		t.Fatalf("delivered without a subscription: %v", err)
	}
	igsid := e.customer("xiaoming", PlatformInstagram, BearBakeryIGID)
	if _, _, err := e.w.SimulateInbound(PlatformInstagram, BearBakeryIGID, igsid, "hi"); !errors.Is(err, ErrNotSubscribed) {
		t.Fatalf("Instagram delivered without a subscription on its Page: %v", err)
	}
	e.w.mu.Lock()
	e.w.st.Subscriptions[BearBakeryPageID] = []string{"message_reads"}
	e.w.mu.Unlock()
	if _, _, err := e.w.SimulateInbound(PlatformFacebook, BearBakeryPageID, psid, "hi"); !errors.Is(err, ErrNotSubscribed) {
		t.Fatalf("a message delivered without the messages field: %v", err)
	}
	if _, _, err := e.w.SimulateInbound(PlatformInstagram, BearBakeryIGID, igsid, "hi"); err != nil {
		t.Fatalf("Instagram needs any field on its Page: %v", err)
	}
}
