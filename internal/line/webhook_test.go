package line

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const channelSecret = "test-channel-secret"

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "webhooks", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parseSigned verifies the signature first, as the webhook handler does.
func parseSigned(t *testing.T, name string) Batch {
	t.Helper()
	body := fixture(t, name)
	if !VerifySignature(channelSecret, body, Sign(channelSecret, body)) {
		t.Fatalf("%s: signature rejected", name)
	}
	b, err := ParseWebhook(body)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

func TestEveryFixtureParses(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "webhooks", "*.json"))
	if err != nil || len(files) < 7 {
		t.Fatalf("fixtures missing: %v %v", files, err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		b := parseSigned(t, name)
		var raw struct {
			Events []json.RawMessage `json:"events"`
		}
		if err := json.Unmarshal(fixture(t, name), &raw); err != nil {
			t.Fatal(err)
		}
		if len(b.Events) != len(raw.Events) || len(b.Events) == 0 {
			t.Errorf("%s: %d events, file has %d", name, len(b.Events), len(raw.Events))
		}
		for i, e := range b.Events {
			if e.Type == "" || e.EventKey == "" || e.Timestamp.IsZero() || !json.Valid(e.Raw) {
				t.Errorf("%s event %d incomplete: %+v", name, i, e)
			}
		}
	}
}

func TestMessageText(t *testing.T) {
	b := parseSigned(t, "message-text.json")
	want := Event{Type: "message", WebhookEventID: "testwebhookeventid", EventKey: "testwebhookeventid",
		Timestamp: time.UnixMilli(1462629479859), Mode: "active", SourceType: "user", UserID: "U206d25c2ea6bd87c17655609a1c37cb8",
		ReplyToken: "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA", MessageID: "325708", MessageType: "text", Text: "Hello, world", QuoteToken: "quoteToken"}
	if b.Destination != "U123" || len(b.Events) != 1 {
		t.Fatalf("batch = %+v", b)
	}
	got := b.Events[0]
	got.Raw = nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("event =\n%+v\nwant\n%+v", got, want)
	}
}

func TestMessageRedelivery(t *testing.T) {
	b := parseSigned(t, "message-text-redelivery.json")
	if !b.Events[0].IsRedelivery || b.Events[0].EventKey != "testwebhookeventid" {
		t.Fatalf("event = %+v", b.Events[0])
	}
	// A redelivery de-duplicates against the original delivery.
	orig := parseSigned(t, "message-text.json")
	if orig.Events[0].IsRedelivery || orig.Events[0].EventKey != b.Events[0].EventKey {
		t.Fatal("redelivery must share the original's key")
	}
}

func TestFollowUnfollow(t *testing.T) {
	f := parseSigned(t, "follow-unblocked.json").Events[0]
	if f.Type != EventFollow || !f.IsUnblocked || f.UserID != "U206d25c2ea6bd87c17655609a1c37cb8" || f.ReplyToken == "" {
		t.Fatalf("follow = %+v", f)
	}
	u := parseSigned(t, "unfollow.json").Events[0]
	if u.Type != EventUnfollow || u.IsUnblocked || u.ReplyToken != "" || u.UserID != "U206d25c2ea6bd87c17655609a1c37cb8" {
		t.Fatalf("unfollow = %+v", u)
	}
}

func TestHTTPHandlerFixtureWithoutEventID(t *testing.T) {
	b := parseSigned(t, "sdk-go-httphandler-test.json")
	e := b.Events[0]
	if b.Destination != "" || e.WebhookEventID != "" || !strings.HasPrefix(e.EventKey, "sha256:") || e.Mode != "" || e.Text != "Hello, world" {
		t.Fatalf("old-style event = %+v", e)
	}
	// The hash is stable across parses and independent of formatting.
	again, _ := ParseWebhook(fixture(t, "sdk-go-httphandler-test.json"))
	var v any
	_ = json.Unmarshal(fixture(t, "sdk-go-httphandler-test.json"), &v)
	compact, _ := json.Marshal(v)
	reformatted, _ := ParseWebhook(compact)
	if again.Events[0].EventKey != e.EventKey || reformatted.Events[0].EventKey != e.EventKey {
		t.Fatal("hash key is not stable")
	}
	other, _ := ParseWebhook(bytes.Replace(compact, []byte("Hello, world"), []byte("Hello, there"), 1))
	if other.Events[0].EventKey == e.EventKey {
		t.Fatal("different events must hash differently")
	}
}

func TestGoSDKAllEvents(t *testing.T) {
	b := parseSigned(t, "sdk-go-webhook-test-all-events.json")
	if len(b.Events) != 36 {
		t.Fatalf("events = %d", len(b.Events))
	}
	counts := map[string]int{}
	for _, e := range b.Events {
		counts[e.Type]++
	}
	want := map[string]int{"message": 15, "follow": 1, "unfollow": 1, "join": 1, "leave": 1, "postback": 5, "beacon": 3,
		"accountLink": 1, "memberJoined": 1, "memberLeft": 1, "things": 4, "unsend": 1, "videoPlayComplete": 1}
	if !reflect.DeepEqual(counts, want) {
		t.Fatalf("types = %v", counts)
	}
	group := b.Events[1]
	if group.SourceType != "group" || group.GroupID != "u206d25c2ea6bd87c17655609a1c37cb8" || !group.IsRedelivery {
		t.Errorf("group event = %+v", group)
	}
	if img := b.Events[3]; img.MessageType != "image" || img.Text != "" || img.MessageID != "325708" {
		t.Errorf("image = %+v", img)
	}
	var postbacks []Event
	var standby, unsend *Event
	for i, e := range b.Events {
		switch {
		case e.Type == EventPostback:
			postbacks = append(postbacks, e)
		case e.Mode == "standby":
			standby = &b.Events[i]
		case e.Type == EventUnsend:
			unsend = &b.Events[i]
		}
	}
	if postbacks[0].PostbackData != "action=buyItem&itemId=123123&color=red" || postbacks[0].PostbackParams != nil {
		t.Errorf("postback = %+v", postbacks[0])
	}
	if !reflect.DeepEqual(postbacks[1].PostbackParams, map[string]string{"date": "2017-09-03"}) {
		t.Errorf("date params = %v", postbacks[1].PostbackParams)
	}
	if !reflect.DeepEqual(postbacks[4].PostbackParams, map[string]string{"newRichMenuAliasId": "richmenu-alias-a", "status": "SUCCESS"}) {
		t.Errorf("rich menu params = %v", postbacks[4].PostbackParams)
	}
	if standby == nil || standby.Text != "Stand by me" {
		t.Errorf("standby = %+v", standby)
	}
	if unsend == nil || unsend.MessageID != "325708" || unsend.GroupID == "" {
		t.Errorf("unsend = %+v", unsend)
	}
	if f := b.Events[12]; f.Type != EventFollow || f.IsUnblocked {
		t.Errorf("follow without a follow object is a new friend: %+v", f)
	}
	things := b.Events[30]
	if things.Type != "things" || !things.Timestamp.Equal(time.UnixMilli(1563511218376)) {
		t.Errorf("things = %+v", things)
	}
}

func TestPythonSDKEvents(t *testing.T) {
	b := parseSigned(t, "sdk-python-v3-webhook.json")
	if b.Destination != "U123" || len(b.Events) != 28 {
		t.Fatalf("batch: %s %d", b.Destination, len(b.Events))
	}
	room := b.Events[1]
	if room.SourceType != "room" || room.RoomID == "" || room.MessageType != "image" {
		t.Errorf("room = %+v", room)
	}
	follow := b.Events[6]
	if follow.Type != EventFollow || !follow.IsUnblocked {
		t.Errorf("follow = %+v", follow)
	}
	sticker := b.Events[5]
	if sticker.MessageType != "sticker" || sticker.Text != "Just sticker" || sticker.QuoteToken != "quoteToken" {
		t.Errorf("sticker = %+v", sticker)
	}
	edited := b.Events[26]
	if edited.Type != EventMessageEdited || edited.Text != "Hello, edited world" || edited.MessageID != "325708" {
		t.Errorf("edited = %+v", edited)
	}
	unknown := b.Events[27]
	if unknown.Type != "undefined" || !unknown.IsRedelivery || unknown.UserID == "" {
		t.Errorf("unknown type = %+v", unknown)
	}
	unsend := b.Events[22]
	if unsend.Type != EventUnsend || !unsend.Timestamp.Equal(time.UnixMilli(1547817848122)) {
		t.Errorf("unsend = %+v", unsend)
	}
}

func TestVerifySignature(t *testing.T) {
	body := fixture(t, "message-text.json")
	good := Sign(channelSecret, body)
	cases := []struct {
		name   string
		secret string
		body   []byte
		header string
		want   bool
	}{
		{"valid", channelSecret, body, good, true},
		{"valid with spaces", channelSecret, body, " " + good + "\t", true},
		{"missing", channelSecret, body, "", false},
		{"hex instead of base64", channelSecret, body, "sha256=abcdef", false},
		{"url-safe alphabet", channelSecret, body, strings.NewReplacer("+", "-", "/", "_").Replace(good) + "x", false},
		{"not base64", channelSecret, body, "!!!!", false},
		{"embedded newline", channelSecret, body, good[:24] + "\n" + good[24:], false},
		{"short", channelSecret, body, good[:20], false},
		{"wrong length", channelSecret, body, "AAAA", false},
		{"wrong secret", "other", body, good, false},
		{"empty secret", "", body, Sign("", body), false},
		{"tampered", channelSecret, append(bytes.Clone(body), '\n'), good, false},
		{"empty body", channelSecret, []byte{}, Sign(channelSecret, nil), true},
	}
	for _, tc := range cases {
		if got := VerifySignature(tc.secret, tc.body, tc.header); got != tc.want {
			t.Errorf("%s: got %v want %v", tc.name, got, tc.want)
		}
	}
}

func TestParseWebhookBadInput(t *testing.T) {
	bad := map[string]string{
		"empty":            ``,
		"not json":         `events`,
		"truncated":        `{"destination":"U1","events":[`,
		"array":            `[]`,
		"null":             `null`,
		"number":           `42`,
		"events object":    `{"destination":"U1","events":{}}`,
		"events string":    `{"events":"x"}`,
		"event not object": `{"events":[1]}`,
		"event null":       `{"events":[null]}`,
		"trailing":         `{"events":[]}x`,
	}
	for name, body := range bad {
		if _, err := ParseWebhook([]byte(body)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: want ErrMalformed, got %v", name, err)
		}
	}
}

func TestParseWebhookOddButValid(t *testing.T) {
	b, err := ParseWebhook([]byte(`{"destination":"Ubot","events":[]}`))
	if err != nil || b.Destination != "Ubot" || b.Events == nil || len(b.Events) != 0 {
		t.Fatalf("verify ping: %+v %v", b, err)
	}
	b, err = ParseWebhook([]byte(`{"destination":12345678901234567890123}`))
	if err != nil || b.Destination != "12345678901234567890123" || len(b.Events) != 0 {
		t.Fatalf("missing events / numeric destination: %+v %v", b, err)
	}
	b, err = ParseWebhook([]byte(`{"events":[{"type":["message"],"timestamp":"1462629479859","source":"user",
		"deliveryContext":{"isRedelivery":"true"},"message":{"id":325708,"text":{"x":1}},"follow":{"isUnblocked":1},
		"postback":{"data":true,"params":{"date":2017,"nested":{"a":1}}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := b.Events[0]
	if e.Type != "" || !e.Timestamp.Equal(time.UnixMilli(1462629479859)) || e.UserID != "" || !e.IsRedelivery ||
		e.MessageID != "325708" || e.Text != "" || e.IsUnblocked || e.PostbackData != "true" ||
		!reflect.DeepEqual(e.PostbackParams, map[string]string{"date": "2017", "nested": ""}) {
		t.Fatalf("lenient event = %+v", e)
	}
	for _, ts := range []string{`-1`, `0`, `1e300`, `99999999999999999999`, `"soon"`, `null`} {
		b, err := ParseWebhook([]byte(`{"events":[{"type":"message","timestamp":` + ts + `}]}`))
		if err != nil || !b.Events[0].Timestamp.IsZero() {
			t.Errorf("timestamp %s: %v %v", ts, b.Events[0].Timestamp, err)
		}
	}
}

func FuzzParseWebhook(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "webhooks", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"events":[{}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := ParseWebhook(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		for _, e := range b.Events {
			if e.EventKey == "" || !json.Valid(e.Raw) {
				t.Fatalf("bad event: %+v", e)
			}
		}
	})
}

func FuzzVerifySignature(f *testing.F) {
	body := fixture(f, "message-text.json")
	f.Add(channelSecret, body, Sign(channelSecret, body))
	f.Add("", []byte{}, "")
	f.Add("s", []byte("x"), "====")
	f.Fuzz(func(t *testing.T, secret string, body []byte, header string) {
		got := VerifySignature(secret, body, header)
		if secret != "" && !VerifySignature(secret, body, Sign(secret, body)) {
			t.Fatal("own signature rejected")
		}
		if got && (secret == "" || strings.TrimSpace(header) != Sign(secret, body)) {
			t.Fatalf("accepted a signature that is not ours: %q", header)
		}
	})
}
