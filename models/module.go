package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// BlockOmniLinkCard is a bot module's OmniLink card block: the card of a campaign, rendered at
// send time with a fresh link token behind its button.
const BlockOmniLinkCard BlockKind = "omnilink_card"

// ModuleBlockKinds lists the blocks a bot module may hold, in the editor's order.
var ModuleBlockKinds = []BlockKind{BlockText, BlockImage, BlockButtons, BlockOmniLinkCard}

// ValidModuleBlock reports whether k is a block a module may hold.
func ValidModuleBlock(k BlockKind) bool {
	for _, m := range ModuleBlockKinds {
		if m == k {
			return true
		}
	}
	return false
}

// ModulePayloadPrefix starts the postback payload of a button that sends another module.
const ModulePayloadPrefix = "module:"

// ModulePayload is the postback payload of a button that sends module id.
func ModulePayload(id int64) string { return fmt.Sprintf("%s%d", ModulePayloadPrefix, id) }

// ParseModulePayload reads the module id out of a module button's payload.
func ParseModulePayload(p string) (int64, bool) {
	var id int64
	if len(p) <= len(ModulePayloadPrefix) || p[:len(ModulePayloadPrefix)] != ModulePayloadPrefix {
		return 0, false
	}
	if _, err := fmt.Sscanf(p[len(ModulePayloadPrefix):], "%d", &id); err != nil || id <= 0 || ModulePayload(id) != p {
		return 0, false
	}
	return id, true
}

// ModuleBlock is one block of a bot module: a message block, or an OmniLink card naming its
// campaign (whose card supplies image, title, text and button label). A postback button that
// sends another module carries ModulePayload(id) as its payload.
type ModuleBlock struct {
	Block
	CampaignID int64 `json:"campaign_id,omitempty"`
}

// ModuleBlocks is a module's ordered blocks, stored as one JSON document.
type ModuleBlocks []ModuleBlock

// Value encodes the blocks as JSON.
func (b ModuleBlocks) Value() (driver.Value, error) {
	if b == nil {
		b = ModuleBlocks{}
	}
	out, err := json.Marshal(b)
	return string(out), err
}

// Scan decodes the blocks.
func (b *ModuleBlocks) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		return json.Unmarshal(v, b)
	case string:
		return json.Unmarshal([]byte(v), b)
	case nil:
		*b = nil
		return nil
	}
	return fmt.Errorf("ModuleBlocks: cannot scan %T", src)
}

// Module is a bot module (機器人模組): a team's named, ordered blocks for one platform.
type Module struct {
	ID        int64
	TeamID    int64
	Platform  Platform
	Name      string
	Blocks    ModuleBlocks `gorm:"type:jsonb"`
	CreatedBy *int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName keeps the table name as the migration has it.
func (Module) TableName() string { return "bot_modules" }

// ModuleInput is what the module editor submits.
type ModuleInput struct {
	Name     string
	Platform Platform
	Blocks   ModuleBlocks
}

// MaxModuleName is the longest module name.
const MaxModuleName = 100

// MaxModuleBlocks is how many blocks a module may hold.
const MaxModuleBlocks = 10

// ModuleUse is one place that uses a module, for the refusal to delete it.
type ModuleUse struct {
	Kind string // campaign, trigger or module
	ID   int64
	Name string
}

// TriggerKind is how a trigger matches what a customer sends.
type TriggerKind string

// Trigger kinds.
const (
	TriggerExact    TriggerKind = "exact"    // the whole message equals the keyword
	TriggerContains TriggerKind = "contains" // the message contains the keyword
	TriggerPostback TriggerKind = "postback" // a button's postback payload equals the pattern
	TriggerNoMatch  TriggerKind = "no_match" // any text no other trigger answered
)

// TriggerKinds lists every kind in the form's order.
var TriggerKinds = []TriggerKind{TriggerExact, TriggerContains, TriggerPostback, TriggerNoMatch}

// Valid reports whether k is a known kind.
func (k TriggerKind) Valid() bool {
	for _, t := range TriggerKinds {
		if t == k {
			return true
		}
	}
	return false
}

// Trigger answers a customer on one channel with a module.
type Trigger struct {
	ID         int64
	TeamID     int64
	ChannelID  int64
	Kind       TriggerKind
	Pattern    string // as typed
	Normalized string // as compared
	ModuleID   int64
	CreatedBy  *int64
	CreatedAt  time.Time
}

// TriggerInput is what the trigger form submits.
type TriggerInput struct {
	ChannelID int64
	Kind      TriggerKind
	Pattern   string
	ModuleID  int64
}

// TriggerRow is a trigger with its channel and module names, for the list.
type TriggerRow struct {
	Trigger
	ChannelName     string
	ChannelPlatform Platform
	ModuleName      string
}
