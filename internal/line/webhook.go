package line

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/omnilink/omnilink/internal/jsontree"
)

// SignatureHeader is the header carrying LINE's webhook signature.
const SignatureHeader = "X-Line-Signature"

// VerifySignature reports whether header (X-Line-Signature) is the Base64 HMAC-SHA256
// of the raw body under the channel secret, compared in constant time.
func VerifySignature(channelSecret string, body []byte, header string) bool {
	if channelSecret == "" {
		return false
	}
	header = strings.TrimSpace(header)
	// The length check also rejects embedded newlines, which the decoder would skip.
	if len(header) != base64.StdEncoding.EncodedLen(sha256.Size) {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(header)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	m := hmac.New(sha256.New, []byte(channelSecret))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

// Sign returns the X-Line-Signature value for body; the sandbox and tests use it to
// deliver webhooks the way LINE does.
func Sign(channelSecret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(channelSecret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Webhook event types omnilink acts on; others keep LINE's type string.
const (
	EventMessage       = "message"       // a user message
	EventMessageEdited = "messageEdited" // a user edited a message
	EventFollow        = "follow"        // added as friend, or unblocked (IsUnblocked)
	EventUnfollow      = "unfollow"      // the user blocked the account
	EventPostback      = "postback"      // a postback action was tapped
	EventUnsend        = "unsend"        // a user withdrew a message
	EventJoin          = "join"          // the bot joined a group or room
	EventLeave         = "leave"         // the bot left a group or room
	EventAccountLink   = "accountLink"   // LINE account-link result
)

// Batch is one parsed webhook delivery.
type Batch struct {
	Destination string // the bot's userId
	Events      []Event
}

// Event is one normalized LINE webhook event.
type Event struct {
	Type           string
	WebhookEventID string // as sent; empty in old payloads
	// EventKey identifies the event for de-duplication: the webhookEventId, or for old
	// events without one a stable hash of the event.
	EventKey     string
	Timestamp    time.Time
	Mode         string // active or standby
	IsRedelivery bool
	SourceType   string // user, group or room
	UserID       string // source.userId (may be empty in groups)
	GroupID      string
	RoomID       string
	ReplyToken   string
	// MessageID is message.id; for unsend events the id of the withdrawn message.
	MessageID      string
	MessageType    string // text, image, sticker, …
	Text           string
	QuoteToken     string
	IsUnblocked    bool // follow: the user unblocked rather than newly added
	PostbackData   string
	PostbackParams map[string]string // date/time pickers, rich-menu switch results
	Raw            json.RawMessage   // the event, re-encoded canonically
}

// ErrMalformed wraps every ParseWebhook failure.
var ErrMalformed = errors.New("line: malformed webhook body")

// ParseWebhook parses a LINE webhook body. An empty events list is valid (the console's
// Verify button sends one). Odd field types are read as empty; broken JSON or a wrong
// overall shape is an error.
func ParseWebhook(body []byte) (Batch, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return Batch{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Batch{}, fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	top, ok := root.(map[string]any)
	if !ok {
		return Batch{}, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	b := Batch{Destination: jsontree.Str(top, "destination")}
	evs, ok := top["events"].([]any)
	if !ok && top["events"] != nil {
		return Batch{}, fmt.Errorf("%w: events is not an array", ErrMalformed)
	}
	b.Events = make([]Event, 0, len(evs))
	for i, it := range evs {
		raw, ok := it.(map[string]any)
		if !ok {
			return Batch{}, fmt.Errorf("%w: event %d is not an object", ErrMalformed, i)
		}
		b.Events = append(b.Events, parseEvent(b.Destination, raw))
	}
	return b, nil
}

func parseEvent(destination string, e map[string]any) Event {
	ev := Event{
		Type:           jsontree.Str(e, "type"),
		WebhookEventID: jsontree.Str(e, "webhookEventId"),
		Timestamp:      unixMilli(jsontree.Int(e, "timestamp")),
		Mode:           jsontree.Str(e, "mode"),
		IsRedelivery:   jsontree.Bool(e, "deliveryContext", "isRedelivery"),
		SourceType:     jsontree.Str(e, "source", "type"),
		UserID:         jsontree.Str(e, "source", "userId"),
		GroupID:        jsontree.Str(e, "source", "groupId"),
		RoomID:         jsontree.Str(e, "source", "roomId"),
		ReplyToken:     jsontree.Str(e, "replyToken"),
		MessageID:      jsontree.Str(e, "message", "id"),
		MessageType:    jsontree.Str(e, "message", "type"),
		Text:           jsontree.Str(e, "message", "text"),
		QuoteToken:     jsontree.Str(e, "message", "quoteToken"),
		IsUnblocked:    jsontree.Bool(e, "follow", "isUnblocked"),
		PostbackData:   jsontree.Str(e, "postback", "data"),
	}
	if ev.Type == EventUnsend {
		ev.MessageID = jsontree.Str(e, "unsend", "messageId")
	}
	if params, ok := jsontree.Field(e, "postback", "params").(map[string]any); ok {
		ev.PostbackParams = make(map[string]string, len(params))
		for k := range params {
			ev.PostbackParams[k] = jsontree.Str(params, k)
		}
	}
	raw, _ := json.Marshal(e) // map keys come out sorted: a canonical form
	ev.Raw = raw
	ev.EventKey = ev.WebhookEventID
	if ev.EventKey == "" {
		h := sha256.New()
		h.Write([]byte(destination))
		h.Write([]byte{0})
		h.Write(raw)
		ev.EventKey = "sha256:" + hex.EncodeToString(h.Sum(nil))
	}
	return ev
}

func unixMilli(ms int64) time.Time {
	// Zero, negative and absurd values (beyond year ~5000) mean "unknown".
	if ms <= 0 || ms > 100_000_000_000_000 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}
