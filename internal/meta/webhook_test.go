package meta

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const webhookSecret = "webhook-test-app-secret"

func readWebhook(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "webhooks", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parseSigned goes through signature verification first, as the handler does.
func parseSigned(t *testing.T, name string) Batch {
	t.Helper()
	body := readWebhook(t, name)
	if !VerifySignature(webhookSecret, body, Sign(webhookSecret, body)) {
		t.Fatalf("%s: signature rejected", name)
	}
	b, err := ParseWebhook(body)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

func TestVerifySignature(t *testing.T) {
	body := readWebhook(t, "messenger-text.json")
	if !bytes.Contains(body, []byte(`\u00fc`)) {
		t.Fatal("fixture must keep Meta's escaped unicode")
	}
	good := Sign(webhookSecret, body)
	if !strings.HasPrefix(good, "sha256=") || len(good) != len("sha256=")+64 {
		t.Fatalf("Sign = %q", good)
	}
	// Re-encoding the JSON (unescaping \u00fc) changes the bytes and must fail.
	var v any
	_ = json.Unmarshal(body, &v)
	reencoded, _ := json.Marshal(v)

	cases := []struct {
		name   string
		secret string
		body   []byte
		header string
		want   bool
	}{
		{"valid", webhookSecret, body, good, true},
		{"valid with spaces", webhookSecret, body, "  " + good + " ", true},
		{"uppercase hex", webhookSecret, body, "sha256=" + strings.ToUpper(good[7:]), true},
		{"missing header", webhookSecret, body, "", false},
		{"wrong prefix", webhookSecret, body, "sha1=" + good[7:], false},
		{"prefix only", webhookSecret, body, "sha256=", false},
		{"no prefix", webhookSecret, body, good[7:], false},
		{"uppercase prefix", webhookSecret, body, "SHA256=" + good[7:], false},
		{"not hex", webhookSecret, body, "sha256=" + strings.Repeat("zz", 32), false},
		{"short", webhookSecret, body, good[:len(good)-2], false},
		{"long", webhookSecret, body, good + "00", false},
		{"wrong secret", "other-secret", body, good, false},
		{"empty secret", "", body, Sign("", body), false},
		{"tampered body", webhookSecret, append(bytes.Clone(body), ' '), good, false},
		{"re-encoded body", webhookSecret, reencoded, good, false},
		{"empty body", webhookSecret, nil, Sign(webhookSecret, nil), true},
	}
	for _, tc := range cases {
		if got := VerifySignature(tc.secret, tc.body, tc.header); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestVerifyChallenge(t *testing.T) {
	q := func(mode, token, challenge string) url.Values {
		v := url.Values{}
		if mode != "" {
			v.Set("hub.mode", mode)
		}
		if token != "" {
			v.Set("hub.verify_token", token)
		}
		if challenge != "" {
			v.Set("hub.challenge", challenge)
		}
		return v
	}
	cases := []struct {
		name   string
		query  url.Values
		token  string
		want   string
		wantOK bool
	}{
		{"ok", q("subscribe", "vt", "1158201444"), "vt", "1158201444", true},
		{"wrong token", q("subscribe", "nope", "1"), "vt", "", false},
		{"token prefix", q("subscribe", "v", "1"), "vt", "", false},
		{"wrong mode", q("unsubscribe", "vt", "1"), "vt", "", false},
		{"no mode", q("", "vt", "1"), "vt", "", false},
		{"no challenge", q("subscribe", "vt", ""), "vt", "", false},
		{"unconfigured token", q("subscribe", "", "1"), "", "", false},
		{"html challenge", q("subscribe", "vt", "<script>alert(1)</script>"), "vt", "", false},
		{"huge challenge", q("subscribe", "vt", strings.Repeat("9", 300)), "vt", "", false},
		{"alnum challenge", q("subscribe", "vt", "abc-DEF_1.2"), "vt", "abc-DEF_1.2", true},
	}
	for _, tc := range cases {
		got, ok := VerifyChallenge(tc.query, tc.token)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("%s: got %q %v", tc.name, got, ok)
		}
	}
}

func TestParseMessengerText(t *testing.T) {
	b := parseSigned(t, "messenger-text.json")
	if b.Object != "page" || b.Platform != PlatformFacebook || len(b.Events) != 1 {
		t.Fatalf("batch = %+v", b)
	}
	e := b.Events[0]
	if e.Kind != KindMessage || e.AccountID != "1234567890" || e.SenderID != "6783241135" || e.RecipientID != "1234567890" ||
		e.MessageID != "m_1457764197618:41d102a3e1ae206a38" || e.EventKey != e.MessageID || e.Text != "hello, world! Grüße" ||
		e.MessageType != "text" || e.IsEcho || !e.Timestamp.Equal(time.UnixMilli(1458692752478)) {
		t.Fatalf("event = %+v", e)
	}
	if !json.Valid(e.Raw) {
		t.Fatal("Raw must be JSON")
	}
}

func TestParseMessengerMixed(t *testing.T) {
	b := parseSigned(t, "messenger-mixed.json")
	if len(b.Events) != 8 {
		t.Fatalf("want 8 events, got %d", len(b.Events))
	}
	// Sorted by timestamp: quick reply (…2000) first, referral (…2800) last.
	kinds := []Kind{}
	for i, e := range b.Events {
		kinds = append(kinds, e.Kind)
		if i > 0 && e.Timestamp.Before(b.Events[i-1].Timestamp) {
			t.Fatal("events not sorted by timestamp")
		}
	}
	want := []Kind{KindMessage, KindEcho, KindReaction, KindDelivery, KindRead, KindPostback, KindMessage, KindReferral}
	if strings.Join(kindStrings(kinds), ",") != strings.Join(kindStrings(want), ",") {
		t.Fatalf("kinds = %v, want %v", kinds, want)
	}
	qr, echo, react, deliv, read, pb, att, ref := b.Events[0], b.Events[1], b.Events[2], b.Events[3], b.Events[4], b.Events[5], b.Events[6], b.Events[7]
	if qr.Payload != "COLOR_RED" || qr.Text != "Red" || qr.EventKey != "m_qr_1" {
		t.Errorf("quick reply = %+v", qr)
	}
	if !echo.IsEcho || echo.SenderID != "1234567890" || echo.RecipientID != "6783241135" || echo.EventKey != "m_echo_1" {
		t.Errorf("echo = %+v", echo)
	}
	if react.MessageID != "m_reacted" || react.Text != "❤" || react.Payload != "react" || !strings.HasPrefix(react.EventKey, "sha256:") {
		t.Errorf("reaction = %+v", react)
	}
	if deliv.MessageID != "m_delivered_1" || !deliv.Watermark.Equal(time.UnixMilli(1458668856253)) || !strings.HasPrefix(deliv.EventKey, "sha256:") {
		t.Errorf("delivery = %+v", deliv)
	}
	if !read.Watermark.Equal(time.UnixMilli(1458668856253)) || read.EventKey == deliv.EventKey {
		t.Errorf("read = %+v", read)
	}
	if pb.Payload != "OMNI_MORE" || pb.Text != "More" || pb.EventKey != "postback:m_postback_1" {
		t.Errorf("postback = %+v", pb)
	}
	if att.AccountID != "2222222222" || att.MessageType != "image" || len(att.Attachments) != 1 ||
		att.Attachments[0] != (EventAttachment{Type: "image", URL: "https://cdn.example.com/a.jpg"}) {
		t.Errorf("attachment = %+v", att)
	}
	if ref.Ref != "omni-campaign-42" || ref.SenderID != "7777" {
		t.Errorf("referral = %+v", ref)
	}
	keys := map[string]bool{}
	for _, e := range b.Events {
		if keys[e.EventKey] {
			t.Errorf("duplicate key %s", e.EventKey)
		}
		keys[e.EventKey] = true
	}
}

func kindStrings(ks []Kind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}

func TestParseInstagram(t *testing.T) {
	b := parseSigned(t, "instagram.json")
	if b.Platform != PlatformInstagram || len(b.Events) != 5 {
		t.Fatalf("batch = %+v", b)
	}
	msg, echo, del, pb, read := b.Events[0], b.Events[1], b.Events[2], b.Events[3], b.Events[4]
	if msg.Kind != KindMessage || msg.AccountID != "17841400000000001" || msg.SenderID != "IGSID_CUSTOMER" || msg.Text != "hi from instagram" || msg.EventKey != "aWdfZAG1faXRlbTox" {
		t.Errorf("message = %+v", msg)
	}
	if echo.Kind != KindEcho || !echo.IsEcho {
		t.Errorf("echo = %+v", echo)
	}
	if !del.IsDeleted || del.MessageID != msg.MessageID || del.EventKey == msg.EventKey {
		t.Errorf("unsend must keep the mid but get its own key: %+v", del)
	}
	if pb.Kind != KindPostback || pb.Payload != "OMNI:abc" || pb.MessageID != "aWdfZAG1faXRlbToz" {
		t.Errorf("postback = %+v", pb)
	}
	if read.Kind != KindRead || read.MessageID != "aWdfZAG1faXRlbToy" {
		t.Errorf("read = %+v", read)
	}
}

func TestParseInstagramChanges(t *testing.T) {
	b := parseSigned(t, "instagram-changes.json")
	if len(b.Events) != 2 {
		t.Fatalf("events = %+v", b.Events)
	}
	var msg, other Event
	for _, e := range b.Events {
		if e.Kind == KindMessage {
			msg = e
		} else {
			other = e
		}
	}
	if msg.Field != "messages" || msg.Text != "random_text" || msg.MessageID != "random_mid" || msg.SenderID != "12334" ||
		!msg.Timestamp.Equal(time.Unix(1527459824, 0)) {
		t.Errorf("wrapped message = %+v", msg)
	}
	if other.Kind != KindOther || other.Field != "comments" || !strings.HasPrefix(other.EventKey, "sha256:") || !other.Timestamp.Equal(time.Unix(1527459824, 0)) {
		t.Errorf("other = %+v", other)
	}
}

func TestParseWhatsApp(t *testing.T) {
	b := parseSigned(t, "whatsapp.json")
	if b.Platform != PlatformWhatsApp || len(b.Events) != 1 {
		t.Fatalf("batch = %+v", b)
	}
	e := b.Events[0]
	want := Event{Platform: PlatformWhatsApp, Object: ObjectWhatsApp, Field: "messages", AccountID: "106540352242922", WABAID: "102290129340398",
		SenderID: "16505551234", RecipientID: "106540352242922", Timestamp: time.Unix(1749416383, 0), Kind: KindMessage,
		MessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", MessageType: "text",
		Text: "Does it come in another color?", ProfileName: "Sheena Nelson", EventKey: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="}
	e.Raw = nil
	if !eventEqual(e, want) {
		t.Fatalf("event =\n%+v\nwant\n%+v", e, want)
	}
}

func eventEqual(a, b Event) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestParseWhatsAppMixed(t *testing.T) {
	b := parseSigned(t, "whatsapp-mixed.json")
	if len(b.Events) != 8 {
		t.Fatalf("want 8 events, got %d: %+v", len(b.Events), b.Events)
	}
	byKey := map[string]Event{}
	for _, e := range b.Events {
		if _, dup := byKey[e.EventKey]; dup {
			t.Fatalf("duplicate key %s", e.EventKey)
		}
		byKey[e.EventKey] = e
	}
	if e := byKey["wamid.BTN"]; e.Kind != KindPostback || e.Payload != "LINK_YES" || e.Text != "Yes" || e.ProfileName != "Bob" || e.SenderID != "222" {
		t.Errorf("button reply = %+v", e)
	}
	if e := byKey["wamid.TPLBTN"]; e.Kind != KindPostback || e.Payload != "STOP" || e.ProfileName != "Ann" {
		t.Errorf("template button = %+v", e)
	}
	if e := byKey["wamid.IMG"]; e.Kind != KindMessage || e.MessageType != "image" || e.Text != "look" || len(e.Attachments) != 1 || e.Attachments[0].MediaID != "1003383421387256" {
		t.Errorf("image = %+v", e)
	}
	if e := byKey["wamid.REACT"]; e.Kind != KindReaction || e.MessageID != "wamid.SENT" || e.Text != "😀" {
		t.Errorf("reaction = %+v", e)
	}
	sent, deliv, fail := byKey["status:wamid.SENT:sent"], byKey["status:wamid.SENT:delivered"], byKey["status:wamid.FAIL:failed"]
	if sent.Kind != KindStatus || sent.RecipientID != "111" || sent.AccountID != "106540352242922" || sent.ProfileName != "" {
		t.Errorf("sent = %+v", sent)
	}
	if deliv.Status != "delivered" || !deliv.Timestamp.Equal(time.Unix(1749416501, 0)) {
		t.Errorf("delivered = %+v", deliv)
	}
	if fail.ErrorCode != 131047 || fail.ErrorTitle != "Re-engagement message" {
		t.Errorf("failed = %+v", fail)
	}
	var other *Event
	for i := range b.Events {
		if b.Events[i].Field == "account_update" {
			other = &b.Events[i]
		}
	}
	if other == nil || other.Kind != KindOther || other.WABAID != "102290129340398" {
		t.Errorf("account_update = %+v", other)
	}
}

func TestEventKeyStable(t *testing.T) {
	a := []byte(`{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":5,"read":{"watermark":4}}]}]}`)
	// Same content, different key order and whitespace.
	b := []byte(`{ "entry":[{"messaging":[{"read":{"watermark":4},"timestamp":5, "recipient":{"id":"1"},"sender":{"id":"2"}}],"id":"1"}],"object":"page"}`)
	// Different watermark.
	c := []byte(`{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":5,"read":{"watermark":6}}]}]}`)
	ba, _ := ParseWebhook(a)
	bb, _ := ParseWebhook(b)
	bc, _ := ParseWebhook(c)
	if len(ba.Events) != 1 || ba.Events[0].EventKey != bb.Events[0].EventKey {
		t.Fatal("key must not depend on key order or whitespace")
	}
	if ba.Events[0].EventKey == bc.Events[0].EventKey {
		t.Fatal("different items must have different keys")
	}
}

func TestParseWebhookBadInput(t *testing.T) {
	bad := map[string]string{
		"empty":               ``,
		"not json":            `hello`,
		"truncated":           `{"object":"page","entry":[`,
		"array":               `[{"object":"page"}]`,
		"null":                `null`,
		"string":              `"page"`,
		"missing object":      `{"entry":[]}`,
		"object not string":   `{"object":{"a":1},"entry":[]}`,
		"entry not array":     `{"object":"page","entry":"x"}`,
		"entry item string":   `{"object":"page","entry":["x"]}`,
		"messaging not array": `{"object":"page","entry":[{"id":"1","messaging":{"a":1}}]}`,
		"messaging item num":  `{"object":"instagram","entry":[{"id":"1","messaging":[5]}]}`,
		"changes item string": `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":["x"]}]}`,
		"trailing garbage":    `{"object":"page","entry":[]} {}`,
	}
	for name, body := range bad {
		if _, err := ParseWebhook([]byte(body)); err == nil || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: want ErrMalformed, got %v", name, err)
		}
	}
}

func TestParseWebhookOddButValid(t *testing.T) {
	cases := []struct {
		name  string
		body  string
		check func(t *testing.T, b Batch)
	}{
		{"unknown object", `{"object":"user","entry":[{"id":"1","changes":[{"field":"name"}]}]}`, func(t *testing.T, b Batch) {
			if b.Object != "user" || b.Platform != "" || len(b.Events) != 0 {
				t.Fatalf("%+v", b)
			}
		}},
		{"no entries", `{"object":"page"}`, func(t *testing.T, b Batch) {
			if len(b.Events) != 0 {
				t.Fatalf("%+v", b)
			}
		}},
		{"null entry list", `{"object":"page","entry":null}`, func(t *testing.T, b Batch) {
			if len(b.Events) != 0 {
				t.Fatalf("%+v", b)
			}
		}},
		{"wrong field types", `{"object":"page","entry":[{"id":123456789012345678901,"time":"soon","messaging":[
			{"sender":"x","recipient":{"id":["a"]},"timestamp":{"x":1},"message":{"mid":42,"text":["no"],"is_echo":"true","attachments":"none"}}]}]}`,
			func(t *testing.T, b Batch) {
				e := b.Events[0]
				if e.AccountID != "123456789012345678901" || e.SenderID != "" || e.RecipientID != "" || !e.Timestamp.IsZero() ||
					e.MessageID != "42" || e.Text != "" || !e.IsEcho || e.Kind != KindEcho || len(e.Attachments) != 0 {
					t.Fatalf("%+v", e)
				}
			}},
		{"huge timestamp", `{"object":"page","entry":[{"id":"1","messaging":[{"timestamp":1e300,"message":{"mid":"m"}},{"timestamp":-5,"message":{"mid":"n"}},{"timestamp":99999999999999999999,"message":{"mid":"o"}}]}]}`,
			func(t *testing.T, b Batch) {
				for _, e := range b.Events {
					if !e.Timestamp.IsZero() {
						t.Fatalf("absurd timestamp parsed as %v", e.Timestamp)
					}
				}
			}},
		{"null item", `{"object":"page","entry":[{"id":"1","messaging":[{}]}]}`, func(t *testing.T, b Batch) {
			if len(b.Events) != 1 || b.Events[0].Kind != KindOther || !strings.HasPrefix(b.Events[0].EventKey, "sha256:") {
				t.Fatalf("%+v", b.Events)
			}
		}},
		{"whatsapp without messages", `{"object":"whatsapp_business_account","entry":[{"id":"w","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"p"},"messages":[1,"x"],"statuses":[null]}}]}]}`,
			func(t *testing.T, b Batch) {
				if len(b.Events) != 1 || b.Events[0].Kind != KindOther || b.Events[0].AccountID != "p" {
					t.Fatalf("%+v", b.Events)
				}
			}},
		{"whatsapp message without id", `{"object":"whatsapp_business_account","entry":[{"id":"w","changes":[{"field":"messages","value":{"messages":[{"from":"1","type":"text","text":{"body":"x"}}]}}]}]}`,
			func(t *testing.T, b Batch) {
				if len(b.Events) != 1 || !strings.HasPrefix(b.Events[0].EventKey, "sha256:") || b.Events[0].Text != "x" {
					t.Fatalf("%+v", b.Events)
				}
			}},
		{"standby", `{"object":"page","entry":[{"id":"1","time":1458692752478,"standby":[{"sender":{"id":"2"},"recipient":{"id":"1"},"message":{"mid":"m_s","text":"x"}}]}]}`,
			func(t *testing.T, b Batch) {
				if len(b.Events) != 1 || !b.Events[0].Standby || !b.Events[0].Timestamp.Equal(time.UnixMilli(1458692752478)) {
					t.Fatalf("%+v", b.Events)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ParseWebhook([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, b)
		})
	}
}

func TestParseWebhookManyEntries(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(`{"object":"page","entry":[`)
	for i := range 1000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"id":"1","messaging":[{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":1458692752478,"message":{"mid":"m_`)
		sb.WriteString(strings.Repeat("x", i%7))
		sb.WriteString(`","text":"t"}}]}`)
	}
	sb.WriteString(`]}`)
	b, err := ParseWebhook([]byte(sb.String()))
	if err != nil || len(b.Events) != 1000 {
		t.Fatalf("events = %d, err = %v", len(b.Events), err)
	}
}

func FuzzParseWebhook(f *testing.F) {
	for _, name := range []string{"messenger-text.json", "messenger-mixed.json", "instagram.json", "instagram-changes.json", "whatsapp.json", "whatsapp-mixed.json"} {
		f.Add(readWebhook(f, name))
	}
	f.Add([]byte(`{"object":"page","entry":[{"messaging":[{}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := ParseWebhook(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if b.Object == "" {
			t.Fatal("accepted body without object")
		}
		for _, e := range b.Events {
			if e.EventKey == "" {
				t.Fatalf("event without key: %+v", e)
			}
			if !json.Valid(e.Raw) {
				t.Fatalf("Raw is not JSON: %q", e.Raw)
			}
		}
	})
}

func FuzzVerifySignature(f *testing.F) {
	body := []byte(`{"object":"page","entry":[]}`)
	f.Add(webhookSecret, body, Sign(webhookSecret, body))
	f.Add("", []byte{}, "")
	f.Add("s", []byte("x"), "sha256=zz")
	f.Fuzz(func(t *testing.T, secret string, body []byte, header string) {
		got := VerifySignature(secret, body, header)
		if secret != "" && VerifySignature(secret, body, Sign(secret, body)) != true {
			t.Fatal("own signature rejected")
		}
		if got && (secret == "" || strings.TrimSpace(header) != Sign(secret, body) && !strings.EqualFold(strings.TrimSpace(header), Sign(secret, body))) {
			t.Fatalf("accepted a signature that is not ours: %q", header)
		}
	})
}
