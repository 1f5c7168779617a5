package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// BlockKind is the kind of one block of an outbound message.
type BlockKind string

// Block kinds. A bot module is an ordered list of these; an OmniLink card is a card whose one
// button opens the campaign's link.
const (
	BlockText    BlockKind = "text"    // plain text
	BlockImage   BlockKind = "image"   // an image by https URL
	BlockButtons BlockKind = "buttons" // text with up to three buttons
	BlockCard    BlockKind = "card"    // optional image, title, text and up to three buttons
)

// ButtonKind says what tapping a button does.
type ButtonKind string

// Button kinds.
const (
	ButtonURL      ButtonKind = "url"      // opens URL
	ButtonPostback ButtonKind = "postback" // sends Payload back to us in a webhook
)

// MaxBlockButtons is how many buttons a card or button list may carry on any platform.
const MaxBlockButtons = 3

// Button is one tappable button of a card or button list.
type Button struct {
	Kind    ButtonKind `json:"kind"`
	Label   string     `json:"label"`
	URL     string     `json:"url,omitempty"`
	Payload string     `json:"payload,omitempty"`
}

// Block is one part of an outbound message; which fields matter depends on Kind.
type Block struct {
	Kind     BlockKind `json:"kind"`
	Text     string    `json:"text,omitempty"`      // text, buttons, card body
	Title    string    `json:"title,omitempty"`     // card
	ImageURL string    `json:"image_url,omitempty"` // image, card (optional)
	Buttons  []Button  `json:"buttons,omitempty"`   // buttons, card
}

// Content is a platform-neutral outbound message: a text or a bot module's blocks, in order.
type Content struct {
	Blocks []Block `json:"blocks"`
}

// TextContent is a message of one text block.
func TextContent(text string) Content {
	return Content{Blocks: []Block{{Kind: BlockText, Text: text}}}
}

// Value encodes the content as JSON.
func (c Content) Value() (driver.Value, error) {
	b, err := json.Marshal(c)
	return string(b), err
}

// Scan decodes the content.
func (c *Content) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		return json.Unmarshal(v, c)
	case string:
		return json.Unmarshal([]byte(v), c)
	case nil:
		*c = Content{}
		return nil
	}
	return fmt.Errorf("Content: cannot scan %T", src)
}

// SendOutcome is where one send request ended up.
type SendOutcome string

// Send outcomes. Skipped outcomes made no platform call; failed ones did and were refused.
const (
	SendQueued               SendOutcome = "queued"                 // in the outbox, not sent yet
	SendSent                 SendOutcome = "sent"                   // the platform accepted every part
	SendSkippedWindow        SendOutcome = "skipped_window"         // outside the 24-hour window
	SendSkippedBlocked       SendOutcome = "skipped_blocked"        // the LINE user blocked the account
	SendSkippedBrokenChannel SendOutcome = "skipped_broken_channel" // the channel needs reauthorising or is disconnected
	SendFailedRecipient      SendOutcome = "failed_recipient"       // the platform cannot reach this recipient
	SendFailedBrokenChannel  SendOutcome = "failed_broken_channel"  // the platform refused our credentials at send time
	SendFailedPermanent      SendOutcome = "failed_permanent"       // refused for another reason no retry can fix
)

// SendOutcomes lists every outcome, for translations and checks.
var SendOutcomes = []SendOutcome{SendQueued, SendSent, SendSkippedWindow, SendSkippedBlocked,
	SendSkippedBrokenChannel, SendFailedRecipient, SendFailedBrokenChannel, SendFailedPermanent}

// Final reports whether nothing more will happen to the send.
func (o SendOutcome) Final() bool { return o != SendQueued }

// MessageSend is one request to send content to a contact, with its outcome.
type MessageSend struct {
	ID             int64
	TeamID         int64
	ChannelID      int64
	ContactID      int64
	IdempotencyKey string
	Cause          string // what asked for it (a campaign, a trigger, an agent), for people reading it
	Automated      bool
	Outcome        SendOutcome
	Detail         string // the platform's answer or the refusal, for people reading it
	Parts          int    // platform messages the content renders to
	CreatedAt      time.Time
	FinishedAt     *time.Time
}
