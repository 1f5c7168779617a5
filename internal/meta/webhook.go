package meta

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/omnilink/omnilink/internal/jsontree"
)

// SignatureHeader is the header carrying Meta's webhook signature.
const SignatureHeader = "X-Hub-Signature-256"

const signaturePrefix = "sha256="

// VerifySignature reports whether header (the X-Hub-Signature-256 value) is the
// HMAC-SHA256 of the raw body under appSecret. It must run on the bytes as received:
// Meta signs its own escaped JSON, which re-encoding would change.
func VerifySignature(appSecret string, body []byte, header string) bool {
	if appSecret == "" {
		return false
	}
	header = strings.TrimSpace(header)
	if !strings.HasPrefix(header, signaturePrefix) {
		return false
	}
	got, err := hex.DecodeString(header[len(signaturePrefix):])
	if err != nil || len(got) != sha256.Size {
		return false
	}
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

// Sign returns the X-Hub-Signature-256 value for body; the sandbox and tests use it to
// deliver webhooks the way Meta does.
func Sign(appSecret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write(body)
	return signaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// maxChallenge bounds the echoed hub.challenge.
const maxChallenge = 256

// VerifyChallenge answers Meta's subscription handshake: when hub.mode is "subscribe"
// and hub.verify_token matches, it returns the hub.challenge to echo. The challenge is
// limited to a safe character set because it is written back verbatim.
func VerifyChallenge(query url.Values, verifyToken string) (challenge string, ok bool) {
	if verifyToken == "" || query.Get("hub.mode") != "subscribe" {
		return "", false
	}
	if subtle.ConstantTimeCompare([]byte(query.Get("hub.verify_token")), []byte(verifyToken)) != 1 {
		return "", false
	}
	ch := query.Get("hub.challenge")
	if ch == "" || len(ch) > maxChallenge {
		return "", false
	}
	for _, r := range ch {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_' || r == '.') {
			return "", false
		}
	}
	return ch, true
}

// Platform names the product a webhook event came from.
type Platform string

// Platforms carried by Meta webhooks.
const (
	PlatformFacebook  Platform = "facebook"  // Messenger, object "page"
	PlatformInstagram Platform = "instagram" // Instagram messaging, object "instagram"
	PlatformWhatsApp  Platform = "whatsapp"  // WhatsApp Cloud API, object "whatsapp_business_account"
)

// Webhook object values.
const (
	ObjectPage      = "page"                      // Facebook Page (Messenger)
	ObjectInstagram = "instagram"                 // Instagram professional account
	ObjectWhatsApp  = "whatsapp_business_account" // WhatsApp Business Account
)

// Kind is the normalized type of a webhook event.
type Kind string

// Event kinds.
const (
	KindMessage  Kind = "message"  // a customer's message
	KindPostback Kind = "postback" // a button or quick-reply tap carrying a payload
	KindRead     Kind = "read"     // the customer read messages up to Watermark
	KindDelivery Kind = "delivery" // messages up to Watermark were delivered
	KindReaction Kind = "reaction" // an emoji reaction added or removed
	KindEcho     Kind = "echo"     // a message the business itself sent
	KindStatus   Kind = "status"   // WhatsApp sent/delivered/read/failed
	KindReferral Kind = "referral" // an m.me / ig.me link or ad opened an existing thread
	KindOther    Kind = "other"    // anything else; see Field and Raw
)

// Batch is one parsed webhook delivery.
type Batch struct {
	Object   string
	Platform Platform // empty for objects this package does not handle
	Events   []Event
}

// EventAttachment is a media item attached to an incoming message.
type EventAttachment struct {
	Type    string // image, video, audio, file, sticker, share, document, …
	URL     string // Messenger / Instagram: where the media can be fetched
	MediaID string // WhatsApp: the media id to download through the Cloud API
}

// Event is one normalized item from a Meta webhook.
type Event struct {
	Platform Platform
	Object   string
	Field    string // the changes field (e.g. "messages"); empty for messaging items
	// AccountID is the business side: Page id, Instagram account id or WhatsApp
	// phone_number_id.
	AccountID   string
	WABAID      string // WhatsApp Business Account id (entry id), WhatsApp only
	SenderID    string
	RecipientID string
	Timestamp   time.Time
	Kind        Kind
	// MessageID is the message's mid or wamid; for reactions the message reacted to, for
	// statuses the message whose status changed.
	MessageID   string
	MessageType string // text, image, sticker, interactive, …
	// Text is the message text; for postbacks the button title, for reactions the emoji.
	Text string
	// Payload is the quick-reply, postback or WhatsApp button payload; for reactions the
	// action ("react" or "unreact").
	Payload     string
	Ref         string // referral ref from m.me / ig.me links and ads
	IsEcho      bool
	IsDeleted   bool // Instagram unsend
	Standby     bool // delivered on the standby channel (another app has the thread)
	ProfileName string
	Attachments []EventAttachment
	Watermark   time.Time // read and delivery: everything up to here
	Status      string    // WhatsApp status: sent, delivered, read, failed
	ErrorCode   int       // WhatsApp failed status: first error code
	ErrorTitle  string
	// EventKey identifies the event for de-duplication: the mid or wamid where the event
	// has its own id, otherwise a stable hash of the item.
	EventKey string
	Raw      json.RawMessage // the item, re-encoded canonically
}

// ErrMalformed wraps every ParseWebhook failure.
var ErrMalformed = errors.New("meta: malformed webhook body")

// ParseWebhook parses a Messenger, Instagram or WhatsApp webhook body into events sorted
// by timestamp (Meta does not guarantee order). Bodies for other objects parse to an
// empty batch. Odd field types are read as empty; broken JSON or a wrong overall shape
// is an error.
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
	b := Batch{Object: jsontree.Str(top, "object")}
	if b.Object == "" {
		return Batch{}, fmt.Errorf("%w: missing object", ErrMalformed)
	}
	switch b.Object {
	case ObjectPage:
		b.Platform = PlatformFacebook
	case ObjectInstagram:
		b.Platform = PlatformInstagram
	case ObjectWhatsApp:
		b.Platform = PlatformWhatsApp
	default:
		return b, nil
	}
	entries, ok := top["entry"].([]any)
	if !ok && top["entry"] != nil {
		return Batch{}, fmt.Errorf("%w: entry is not an array", ErrMalformed)
	}
	for i, e := range entries {
		entry, ok := e.(map[string]any)
		if !ok {
			return Batch{}, fmt.Errorf("%w: entry %d is not an object", ErrMalformed, i)
		}
		p := parser{b: &b, entry: entry, entryID: jsontree.Str(entry, "id")}
		if err := p.parseEntry(); err != nil {
			return Batch{}, fmt.Errorf("%w: entry %d: %v", ErrMalformed, i, err)
		}
	}
	sort.SliceStable(b.Events, func(i, j int) bool { return b.Events[i].Timestamp.Before(b.Events[j].Timestamp) })
	return b, nil
}

type parser struct {
	b       *Batch
	entry   map[string]any
	entryID string
}

func (p *parser) base(field string) Event {
	return Event{Platform: p.b.Platform, Object: p.b.Object, Field: field, AccountID: p.entryID}
}

func (p *parser) add(ev Event, item any) {
	raw, _ := json.Marshal(item) // map keys come out sorted: a canonical form
	ev.Raw = raw
	if ev.EventKey == "" {
		ev.EventKey = hashKey(p.b.Object, p.entryID, ev.Field, raw)
	}
	p.b.Events = append(p.b.Events, ev)
}

// hashKey identifies events that carry no id of their own. The item is canonical JSON,
// so a redelivery hashes the same even if Meta reorders keys or whitespace.
func hashKey(object, entryID, field string, raw []byte) string {
	h := sha256.New()
	for _, s := range []string{object, entryID, field} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	h.Write(raw)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func (p *parser) parseEntry() error {
	for _, k := range []string{"messaging", "standby", "changes"} {
		if v, ok := p.entry[k]; ok && v != nil {
			if _, isList := v.([]any); !isList {
				return fmt.Errorf("%s is not an array", k)
			}
		}
	}
	for _, k := range []string{"messaging", "standby"} {
		for i, it := range jsontree.List(p.entry, k) {
			item, ok := it.(map[string]any)
			if !ok {
				return fmt.Errorf("%s item %d is not an object", k, i)
			}
			ev := p.messagingEvent(item, "")
			ev.Standby = k == "standby"
			p.add(ev, item)
		}
	}
	for i, it := range jsontree.List(p.entry, "changes") {
		ch, ok := it.(map[string]any)
		if !ok {
			return fmt.Errorf("changes item %d is not an object", i)
		}
		field := jsontree.Str(ch, "field")
		value := jsontree.Object(ch, "value")
		switch {
		case p.b.Platform == PlatformWhatsApp && field == "messages" && value != nil:
			p.whatsAppValue(field, value, ch)
		case p.b.Platform != PlatformWhatsApp && value != nil && field != "" && field != "feed" && jsontree.Object(value, "sender") != nil:
			// Instagram (and dashboard test deliveries) can wrap a messaging item in changes.
			p.add(p.messagingEvent(value, field), ch)
		default:
			ev := p.base(field)
			ev.Kind = KindOther
			ev.Timestamp = metaTime(jsontree.Int(p.entry, "time"))
			if p.b.Platform == PlatformWhatsApp {
				// A WhatsApp entry is the WABA; the phone number, if any, is in metadata.
				ev.WABAID = p.entryID
				ev.AccountID = jsontree.Str(value, "metadata", "phone_number_id")
			}
			p.add(ev, ch)
		}
	}
	return nil
}

// metaTime converts Meta's timestamps, which are milliseconds in messaging items and
// seconds in WhatsApp and change entries; realistic values of the two never overlap.
func metaTime(v int64) time.Time {
	switch {
	case v <= 0:
		return time.Time{}
	case v < 100_000_000_000:
		return time.Unix(v, 0)
	case v < 100_000_000_000_000:
		return time.UnixMilli(v)
	}
	return time.Time{}
}

func (p *parser) messagingEvent(item map[string]any, field string) Event {
	ev := p.base(field)
	ev.SenderID = jsontree.Str(item, "sender", "id")
	ev.RecipientID = jsontree.Str(item, "recipient", "id")
	ts := jsontree.Int(item, "timestamp")
	if ts == 0 {
		ts = jsontree.Int(p.entry, "time")
	}
	ev.Timestamp = metaTime(ts)
	switch {
	case jsontree.Object(item, "message") != nil:
		m := jsontree.Object(item, "message")
		ev.Kind = KindMessage
		ev.MessageID = jsontree.Str(m, "mid")
		ev.Text = jsontree.Str(m, "text")
		ev.Payload = jsontree.Str(m, "quick_reply", "payload")
		ev.Ref = jsontree.Str(m, "referral", "ref")
		ev.IsEcho = jsontree.Bool(m, "is_echo")
		ev.IsDeleted = jsontree.Bool(m, "is_deleted")
		for _, a := range jsontree.List(m, "attachments") {
			ev.Attachments = append(ev.Attachments, EventAttachment{Type: jsontree.Str(a, "type"), URL: jsontree.Str(a, "payload", "url")})
		}
		switch {
		case ev.Text != "":
			ev.MessageType = "text"
		case len(ev.Attachments) > 0:
			ev.MessageType = ev.Attachments[0].Type
		}
		if ev.IsEcho {
			ev.Kind = KindEcho
		}
		// An unsend reuses the original mid, so it needs its own key.
		switch {
		case ev.IsDeleted && ev.MessageID != "":
			ev.EventKey = "deleted:" + ev.MessageID
		case ev.MessageID != "":
			ev.EventKey = ev.MessageID
		}
	case jsontree.Object(item, "postback") != nil:
		pb := jsontree.Object(item, "postback")
		ev.Kind = KindPostback
		ev.MessageID = jsontree.Str(pb, "mid")
		ev.Text = jsontree.Str(pb, "title")
		ev.Payload = jsontree.Str(pb, "payload")
		ev.Ref = jsontree.Str(pb, "referral", "ref")
		if ev.MessageID != "" {
			ev.EventKey = "postback:" + ev.MessageID
		}
	case jsontree.Object(item, "reaction") != nil:
		r := jsontree.Object(item, "reaction")
		ev.Kind = KindReaction
		ev.MessageID = jsontree.Str(r, "mid")
		ev.Text = jsontree.Str(r, "emoji")
		if ev.Text == "" {
			ev.Text = jsontree.Str(r, "reaction")
		}
		ev.Payload = jsontree.Str(r, "action")
	case jsontree.Object(item, "read") != nil:
		ev.Kind = KindRead
		ev.MessageID = jsontree.Str(item, "read", "mid")
		ev.Watermark = metaTime(jsontree.Int(item, "read", "watermark"))
	case jsontree.Object(item, "delivery") != nil:
		ev.Kind = KindDelivery
		ev.Watermark = metaTime(jsontree.Int(item, "delivery", "watermark"))
		if mids := jsontree.List(item, "delivery", "mids"); len(mids) > 0 {
			ev.MessageID = jsontree.Str(mids[0])
		}
	case jsontree.Object(item, "referral") != nil:
		ev.Kind = KindReferral
		ev.Ref = jsontree.Str(item, "referral", "ref")
	default:
		ev.Kind = KindOther
	}
	return ev
}

func (p *parser) whatsAppValue(field string, value map[string]any, change map[string]any) {
	phoneID := jsontree.Str(value, "metadata", "phone_number_id")
	names := map[string]string{}
	contacts := jsontree.List(value, "contacts")
	for _, c := range contacts {
		if id := jsontree.Str(c, "wa_id"); id != "" {
			names[id] = jsontree.Str(c, "profile", "name")
		}
	}
	base := func() Event {
		ev := p.base(field)
		ev.AccountID = phoneID
		ev.WABAID = p.entryID
		return ev
	}
	n := 0
	for _, it := range jsontree.List(value, "messages") {
		m, ok := it.(map[string]any)
		if !ok {
			continue
		}
		n++
		ev := base()
		ev.Kind = KindMessage
		ev.SenderID = jsontree.Str(m, "from")
		ev.RecipientID = phoneID
		ev.Timestamp = metaTime(jsontree.Int(m, "timestamp"))
		ev.MessageID = jsontree.Str(m, "id")
		ev.EventKey = ev.MessageID
		ev.MessageType = jsontree.Str(m, "type")
		ev.ProfileName = names[ev.SenderID]
		if ev.ProfileName == "" && len(contacts) == 1 {
			ev.ProfileName = jsontree.Str(contacts[0], "profile", "name")
		}
		ev.Ref = jsontree.Str(m, "referral", "source_id")
		switch ev.MessageType {
		case "text":
			ev.Text = jsontree.Str(m, "text", "body")
		case "button":
			ev.Kind = KindPostback
			ev.Text = jsontree.Str(m, "button", "text")
			ev.Payload = jsontree.Str(m, "button", "payload")
		case "interactive":
			for _, k := range []string{"button_reply", "list_reply"} {
				if r := jsontree.Object(m, "interactive", k); r != nil {
					ev.Kind = KindPostback
					ev.Text = jsontree.Str(r, "title")
					ev.Payload = jsontree.Str(r, "id")
				}
			}
		case "reaction":
			ev.Kind = KindReaction
			ev.MessageID = jsontree.Str(m, "reaction", "message_id")
			ev.Text = jsontree.Str(m, "reaction", "emoji")
			ev.Payload = "react"
			if ev.Text == "" {
				ev.Payload = "unreact"
			}
		case "image", "video", "audio", "document", "sticker":
			ev.Attachments = []EventAttachment{{Type: ev.MessageType, MediaID: jsontree.Str(m, ev.MessageType, "id")}}
			ev.Text = jsontree.Str(m, ev.MessageType, "caption")
		}
		p.add(ev, m)
	}
	for _, it := range jsontree.List(value, "statuses") {
		s, ok := it.(map[string]any)
		if !ok {
			continue
		}
		n++
		ev := base()
		ev.Kind = KindStatus
		ev.SenderID = phoneID
		ev.RecipientID = jsontree.Str(s, "recipient_id")
		ev.Timestamp = metaTime(jsontree.Int(s, "timestamp"))
		ev.MessageID = jsontree.Str(s, "id")
		ev.Status = jsontree.Str(s, "status")
		if errs := jsontree.List(s, "errors"); len(errs) > 0 {
			ev.ErrorCode = int(jsontree.Int(errs[0], "code"))
			ev.ErrorTitle = jsontree.Str(errs[0], "title")
		}
		// One message has several statuses, so the wamid alone is not unique.
		if ev.MessageID != "" {
			ev.EventKey = "status:" + ev.MessageID + ":" + ev.Status
		}
		p.add(ev, s)
	}
	if n == 0 {
		ev := base()
		ev.Kind = KindOther
		p.add(ev, change)
	}
}
