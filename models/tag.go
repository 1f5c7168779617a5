package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// TagSource says what put a tag on a contact.
type TagSource string

// Tag sources.
const (
	TagByUser     TagSource = "user"
	TagByCampaign TagSource = "campaign"
	TagByJourney  TagSource = "journey"
)

// ContactTag is one tag on one contact, with who or what applied it and when.
type ContactTag struct {
	TeamID    int64
	ContactID int64
	TagID     int64
	Source    TagSource
	SourceID  *int64
	AppliedAt time.Time
}

// TagRow is a tag with how many contacts carry it and how many rules it has.
type TagRow struct {
	Tag
	Contacts int64
	Rules    int64
}

// TaggedContact is a contact carrying a tag, for the tag page.
type TaggedContact struct {
	ContactID   int64
	ChannelID   int64
	ChannelName string
	Platform    Platform
	Name        string
	ExternalID  string
	Source      TagSource
	SourceID    *int64
	AppliedAt   time.Time
	// LINE contacts: where their rich menu stands (empty when never changed).
	MenuStatus RichMenuStatus
	MenuError  string
}

// TagRuleAction is what a tag rule does when its tag is added.
type TagRuleAction string

// Tag rule actions.
const (
	RuleStartJourney TagRuleAction = "journey"
	RuleRichMenu     TagRuleAction = "rich_menu"
)

// Valid reports whether a is a known action.
func (a TagRuleAction) Valid() bool { return a == RuleStartJourney || a == RuleRichMenu }

// TagRule is one effect of adding a tag.
type TagRule struct {
	ID            int64
	TeamID        int64
	TagID         int64
	Action        TagRuleAction
	JourneyID     *int64
	ChannelID     *int64
	RichMenuID    string
	RichMenuName  string
	Priority      int
	MenuMissingAt *time.Time
	CreatedBy     *int64
	CreatedAt     time.Time
}

// RichMenuStatus is where a contact's rich-menu change stands.
type RichMenuStatus string

// Rich-menu change states.
const (
	RichMenuPending RichMenuStatus = "pending"
	RichMenuApplied RichMenuStatus = "applied"
	RichMenuFailed  RichMenuStatus = "failed"
)

// ContactRichMenu is the rich menu a LINE contact should see and what LINE was last told.
type ContactRichMenu struct {
	ContactID  int64 `gorm:"primaryKey"`
	TeamID     int64
	ChannelID  int64
	RuleID     *int64
	Desired    string // "" is the default menu
	Applied    *string
	Generation int
	Status     RichMenuStatus
	Error      string
	UpdatedAt  time.Time
}

// StepKind is what one journey step does.
type StepKind string

// Journey step kinds.
const (
	StepWait       StepKind = "wait"
	StepSendText   StepKind = "send_text"
	StepSendModule StepKind = "send_module"
	StepAddTag     StepKind = "add_tag"
	StepRemoveTag  StepKind = "remove_tag"
)

// StepKinds lists the step kinds in display order.
var StepKinds = []StepKind{StepWait, StepSendText, StepSendModule, StepAddTag, StepRemoveTag}

// Valid reports whether k is a known step kind.
func (k StepKind) Valid() bool {
	for _, s := range StepKinds {
		if s == k {
			return true
		}
	}
	return false
}

// Journey limits.
const (
	MaxJourneySteps   = 30
	MaxWaitMinutes    = 90 * 24 * 60 // 90 days
	MaxStepTextLength = 2000
)

// JourneyStep is one step of a journey.
type JourneyStep struct {
	Kind      StepKind `json:"kind"`
	Minutes   int      `json:"minutes,omitempty"`    // wait
	ChannelID int64    `json:"channel_id,omitempty"` // sends
	Text      string   `json:"text,omitempty"`       // send_text
	ModuleID  int64    `json:"module_id,omitempty"`  // send_module
	TagID     int64    `json:"tag_id,omitempty"`     // add_tag, remove_tag
}

// JourneySteps is a journey's ordered steps, kept in a jsonb column.
type JourneySteps []JourneyStep

// Value encodes the steps as a JSON array; nil becomes [].
func (s JourneySteps) Value() (driver.Value, error) {
	if s == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]JourneyStep(s))
	return string(b), err
}

// Scan decodes the JSON array.
func (s *JourneySteps) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		return json.Unmarshal(v, s)
	case string:
		return json.Unmarshal([]byte(v), s)
	case nil:
		*s = nil
		return nil
	}
	return fmt.Errorf("JourneySteps: cannot scan %T", src)
}

// Journey is a trigger tag and the steps a contact goes through after it.
type Journey struct {
	ID           int64
	TeamID       int64
	Name         string
	TriggerTagID *int64
	Enabled      bool
	Steps        JourneySteps `gorm:"type:jsonb"`
	CreatedBy    *int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// RunStatus is where a journey run stands.
type RunStatus string

// Journey run states.
const (
	RunRunning RunStatus = "running"
	RunDone    RunStatus = "done"
	RunStopped RunStatus = "stopped"
)

// JourneyRun is one contact's way through a journey.
type JourneyRun struct {
	ID         int64
	TeamID     int64
	JourneyID  int64
	ContactID  int64
	Status     RunStatus
	Step       int
	NextStepAt *time.Time
	StartedAt  time.Time
	FinishedAt *time.Time
	UpdatedAt  time.Time
}

// StepOutcome is what became of one step of a run.
type StepOutcome string

// Step outcomes.
const (
	StepDone    StepOutcome = "done"
	StepSkipped StepOutcome = "skipped"
)

// JourneyRunStep records one step of a run.
type JourneyRunStep struct {
	ID      int64
	RunID   int64
	Step    int
	Kind    StepKind
	Outcome StepOutcome
	Reason  string
	At      time.Time
}

// Why a step was skipped; each is also an i18n key under journeys.skip.
const (
	SkipNoContactOnChannel = "no_contact_on_channel"
	SkipModulesUnavailable = "modules_unavailable"
	SkipTagGone            = "tag_gone"
	SkipSendRefused        = "send_refused"
)

// MaxTagName is the longest tag name.
const MaxTagName = 50

// TagInput is the tag form.
type TagInput struct {
	Name string
}

// Validate returns every problem with the form at once.
func (in *TagInput) Validate() FieldProblems {
	errs := FieldProblems{}
	in.Name = strings.TrimSpace(in.Name)
	switch n := utf8.RuneCountInString(in.Name); {
	case n == 0:
		errs.Add("name", "tags.error.name_required")
	case n > MaxTagName:
		errs.Add("name", "tags.error.name_too_long", "Max", MaxTagName)
	}
	return errs
}

// MaxRulePriority bounds a rule's priority.
const MaxRulePriority = 1000

// RuleInput is the tag-rule form. A rich-menu rule names its channel and menu as one picked
// value, "{channelID}:{richMenuID}", from the list LINE gave.
type RuleInput struct {
	Action    TagRuleAction
	JourneyID int64
	Menu      string
	Priority  string
	// Parsed by Validate.
	ChannelID  int64
	RichMenuID string
	PriorityN  int
}

// Validate returns every problem with the form at once.
func (in *RuleInput) Validate() FieldProblems {
	errs := FieldProblems{}
	switch in.Action {
	case RuleStartJourney:
		if in.JourneyID <= 0 {
			errs.Add("journey_id", "tags.error.journey_required")
		}
	case RuleRichMenu:
		ch, menu, ok := strings.Cut(in.Menu, ":")
		id, err := strconv.ParseInt(ch, 10, 64)
		if !ok || err != nil || id <= 0 || menu == "" {
			errs.Add("menu", "tags.error.menu_required")
		} else {
			in.ChannelID, in.RichMenuID = id, menu
		}
	default:
		errs.Add("action", "tags.error.action_required")
	}
	in.Priority = strings.TrimSpace(in.Priority)
	if in.Priority == "" {
		in.PriorityN = 0
	} else if n, err := strconv.Atoi(in.Priority); err != nil || n < 0 || n > MaxRulePriority {
		errs.Add("priority", "tags.error.priority_range", "Max", MaxRulePriority)
	} else {
		in.PriorityN = n
	}
	return errs
}

// JourneyInput is the journey form.
type JourneyInput struct {
	Name         string
	TriggerTagID int64
	Enabled      bool
}

// Validate returns every problem with the form at once.
func (in *JourneyInput) Validate() FieldProblems {
	errs := FieldProblems{}
	in.Name = strings.TrimSpace(in.Name)
	switch n := utf8.RuneCountInString(in.Name); {
	case n == 0:
		errs.Add("name", "journeys.error.name_required")
	case n > 80:
		errs.Add("name", "journeys.error.name_too_long", "Max", 80)
	}
	if in.TriggerTagID <= 0 {
		errs.Add("trigger_tag_id", "journeys.error.trigger_required")
	}
	return errs
}

// Wait units offered by the step form.
const (
	UnitMinutes = "minutes"
	UnitHours   = "hours"
	UnitDays    = "days"
)

// StepInput is the add-step form.
type StepInput struct {
	Kind      StepKind
	Wait      string
	Unit      string
	ChannelID int64
	Text      string
	ModuleID  int64
	TagID     int64
}

// Validate returns every problem with the form at once, and the step it describes.
func (in *StepInput) Validate() (JourneyStep, FieldProblems) {
	errs := FieldProblems{}
	st := JourneyStep{Kind: in.Kind}
	switch in.Kind {
	case StepWait:
		n, err := strconv.Atoi(strings.TrimSpace(in.Wait))
		mult := map[string]int{UnitMinutes: 1, UnitHours: 60, UnitDays: 24 * 60}[in.Unit]
		if err != nil || n <= 0 || mult == 0 || n*mult > MaxWaitMinutes {
			errs.Add("wait", "journeys.error.wait_range", "Max", MaxWaitMinutes/(24*60))
		} else {
			st.Minutes = n * mult
		}
	case StepSendText:
		in.Text = strings.TrimSpace(in.Text)
		if in.ChannelID <= 0 {
			errs.Add("channel_id", "journeys.error.channel_required")
		}
		if in.Text == "" {
			errs.Add("text", "journeys.error.text_required")
		} else if utf8.RuneCountInString(in.Text) > MaxStepTextLength {
			errs.Add("text", "journeys.error.text_too_long", "Max", MaxStepTextLength)
		}
		st.ChannelID, st.Text = in.ChannelID, in.Text
	case StepSendModule:
		if in.ChannelID <= 0 {
			errs.Add("channel_id", "journeys.error.channel_required")
		}
		if in.ModuleID <= 0 {
			errs.Add("module_id", "journeys.error.module_required")
		}
		st.ChannelID, st.ModuleID = in.ChannelID, in.ModuleID
	case StepAddTag, StepRemoveTag:
		if in.TagID <= 0 {
			errs.Add("tag_id", "journeys.error.tag_required")
		}
		st.TagID = in.TagID
	default:
		errs.Add("kind", "journeys.error.kind_required")
	}
	return st, errs
}
