package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// CampaignStatus says whether a campaign's cards and links work.
type CampaignStatus string

// Campaign states.
const (
	CampaignEnabled  CampaignStatus = "enabled"
	CampaignDisabled CampaignStatus = "disabled"
)

// Valid reports whether s is a known status.
func (s CampaignStatus) Valid() bool { return s == CampaignEnabled || s == CampaignDisabled }

// ActionKind is what a campaign sends on success or failure: nothing, a text or a bot module.
type ActionKind string

// Action kinds.
const (
	ActionNone   ActionKind = "none"
	ActionText   ActionKind = "text"
	ActionModule ActionKind = "module"
)

// Valid reports whether k is a known kind.
func (k ActionKind) Valid() bool { return k == ActionNone || k == ActionText || k == ActionModule }

// Action is one success or failure message: its kind, and the text or module it sends.
type Action struct {
	Kind     ActionKind
	Text     string
	ModuleID *int64
}

// CardContent is the OmniLink card the source channel shows: image, title, text, button label.
type CardContent struct {
	MediaID *int64
	Title   string
	Text    string
	Button  string
}

// Campaign is an OmniLink campaign: a card on a source channel that links its customers'
// identities to a target channel (LINE or WhatsApp).
type Campaign struct {
	ID              int64
	TeamID          int64
	Name            string
	Status          CampaignStatus
	SourceChannelID int64
	TargetChannelID int64
	Card            CardContent `gorm:"embedded;embeddedPrefix:card_"`
	WAMessage       string      `gorm:"column:wa_message"`
	SuccessSource   Action      `gorm:"embedded;embeddedPrefix:success_source_"`
	SuccessTarget   Action      `gorm:"embedded;embeddedPrefix:success_target_"`
	FailureSource   Action      `gorm:"embedded;embeddedPrefix:failure_source_"`
	TagsSource      IDList      `gorm:"type:jsonb"`
	TagsTarget      IDList      `gorm:"type:jsonb"`
	TokenTTLDays    int         `gorm:"column:token_ttl_days"`
	// LinkOnFollow completes a link when the LINE user who met the add-friend screen follows
	// within FollowGrace of the verified LIFF visit (off by default).
	LinkOnFollow bool
	Version      int
	CreatedBy    *int64
	UpdatedBy    *int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
	DeletedAt    *time.Time
}

// TokenTTL is how long a sent card's link stays valid.
func (c *Campaign) TokenTTL() time.Duration { return time.Duration(c.TokenTTLDays) * 24 * time.Hour }

// Media is one uploaded image of a team with its renditions (content-addressed blobs).
type Media struct {
	ID           int64
	TeamID       int64
	SourceWidth  int
	SourceHeight int
	Mime         string // of both renditions: the upload's own format
	CardHash     string
	SquareHash   string
	CreatedBy    *int64
	CreatedAt    time.Time
}

// TableName keeps the table name as the migration has it.
func (Media) TableName() string { return "media" }

// MediaBlob is one encoded image file, addressed by the SHA-256 of its bytes.
type MediaBlob struct {
	Hash      string
	Mime      string
	Width     int
	Height    int
	Data      []byte
	CreatedAt time.Time
}

// Ext is the file extension the blob is served under.
func (b *MediaBlob) Ext() string { return MimeExt(b.Mime) }

// MimeExt maps the two image types we store to their extensions.
func MimeExt(mime string) string {
	if mime == "image/png" {
		return "png"
	}
	return "jpg"
}

// Tag is a label a team applies to contacts.
type Tag struct {
	ID        int64
	TeamID    int64
	Name      string
	CreatedBy *int64
	CreatedAt time.Time
}

// IDList is a list of row ids kept in a jsonb column.
type IDList []int64

// Value encodes the list as a JSON array; nil becomes [].
func (l IDList) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]int64(l))
	return string(b), err
}

// Scan decodes a JSON array of ids.
func (l *IDList) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*l = nil
		return nil
	case []byte:
		return json.Unmarshal(v, (*[]int64)(l))
	case string:
		return json.Unmarshal([]byte(v), (*[]int64)(l))
	}
	return fmt.Errorf("IDList: cannot scan %T", src)
}

// TextLimits are the longest texts (in characters) a platform accepts for the card and for a
// plain text message. Where a platform has no limit of its own we keep a sane cap.
type TextLimits struct {
	Title   int // Messenger/IG generic template title; LINE flex altText (the title); WhatsApp: see Body
	Text    int // Messenger/IG subtitle; LINE bubble text (our cap)
	Button  int // Messenger/IG button title; LINE button label; WhatsApp cta_url display_text
	Body    int // WhatsApp cta_url body, which carries title and text together (0: no joint limit)
	Message int // a plain text message on the platform
}

// PlatformLimits is the one table of per-platform text limits the card and messages obey.
var PlatformLimits = map[Platform]TextLimits{
	Facebook:  {Title: 80, Text: 80, Button: 20, Message: 2000},
	Instagram: {Title: 80, Text: 80, Button: 20, Message: 1000},
	LINE:      {Title: 400, Text: 2000, Button: 40, Message: 5000},
	WhatsApp:  {Title: 1024, Text: 1024, Button: 20, Body: 1024, Message: 4096},
}

// Limits shared by every platform.
const (
	CampaignNameMax   = 100
	TagNameMax        = 50
	WAMessageMax      = 200 // the link code is appended after it
	TokenTTLMinDays   = 1
	TokenTTLMaxDays   = 30
	TokenTTLDefault   = 7
	CardImageMinWidth = 660 // narrower images are accepted with a warning
	LineMaxAspect     = 3   // a LINE card image may be at most 3× taller than wide
)

// Length counts characters as the platforms do for these limits: one per code point.
func Length(s string) int { return utf8.RuneCountInString(s) }

// WABody is the body a WhatsApp cta_url message carries for a card: title and text together.
func WABody(title, text string) string {
	if text == "" {
		return title
	}
	return title + "\n\n" + text
}

// CanBeTarget reports whether customers can be sent to p to link their identity there.
func (p Platform) CanBeTarget() bool { return p == LINE || p == WhatsApp }

// FieldProblem is one form field's problem: an i18n key with its arguments.
type FieldProblem struct {
	Key  string
	Args map[string]any
}

// FieldProblems maps form field names to their problems; empty means valid.
type FieldProblems map[string]FieldProblem

// Error lists the fields at fault, for logs.
func (f FieldProblems) Error() string {
	names := make([]string, 0, len(f))
	for k := range f {
		names = append(names, k)
	}
	sort.Strings(names)
	return "invalid fields: " + strings.Join(names, ", ")
}

// Add records a problem for a field unless one is already there (the first problem wins).
func (f FieldProblems) Add(field, key string, args ...any) {
	if _, ok := f[field]; ok {
		return
	}
	fe := FieldProblem{Key: key}
	if len(args) > 1 {
		fe.Args = map[string]any{}
		for i := 0; i+1 < len(args); i += 2 {
			fe.Args[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	f[field] = fe
}

// CampaignInput is what a marketer submits for a campaign, already parsed from the form.
type CampaignInput struct {
	Name            string
	Status          CampaignStatus
	SourceChannelID int64
	TargetChannelID int64
	MediaID         int64
	Title           string
	Text            string
	Button          string
	WAMessage       string
	SuccessSource   Action
	SuccessTarget   Action
	FailureSource   Action
	TagsSource      []int64
	TagsTarget      []int64
	NewTagSource    string // a tag to create and apply, typed inline
	NewTagTarget    string
	TokenTTLDays    int
	Version         int // the version the form was loaded at; 0 for a new campaign
}

// Normalize trims what was typed and drops what the chosen channels do not use.
func (in *CampaignInput) Normalize() {
	for _, s := range []*string{&in.Name, &in.Title, &in.Button, &in.NewTagSource, &in.NewTagTarget} {
		*s = strings.TrimSpace(*s)
	}
	for _, s := range []*string{&in.Text, &in.WAMessage, &in.SuccessSource.Text, &in.SuccessTarget.Text, &in.FailureSource.Text} {
		*s = strings.TrimSpace(strings.ReplaceAll(*s, "\r\n", "\n"))
	}
	for _, a := range []*Action{&in.SuccessSource, &in.SuccessTarget, &in.FailureSource} {
		if a.Kind != ActionText {
			a.Text = ""
		}
		if a.Kind != ActionModule {
			a.ModuleID = nil
		}
	}
	in.TagsSource, in.TagsTarget = uniqueIDs(in.TagsSource), uniqueIDs(in.TagsTarget)
}

func uniqueIDs(ids []int64) []int64 {
	seen := map[int64]bool{}
	out := []int64{}
	for _, id := range ids {
		if id != 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// ImageFacts is what validation needs to know of the chosen image.
type ImageFacts struct {
	Width, Height int
}

// CampaignFacts are what the service looked up for an input, so validation stays pure:
// the channels (nil when the id is not one of the team's), the image, the modules' platforms
// and which tag ids are the team's.
type CampaignFacts struct {
	Source, Target *Channel
	Image          *ImageFacts // nil when no image or not the team's
	ModulePlatform map[int64]Platform
	KnownTags      map[int64]bool
	// ImageUnreachable is a server address platforms cannot fetch images from (not https):
	// the cards go out without the image.
	ImageUnreachable bool
}

// Validate checks a normalized input against every setup rule and returns each field's
// first problem; an empty result means the campaign can be saved.
func (in *CampaignInput) Validate(f CampaignFacts) FieldProblems {
	errs := FieldProblems{}
	switch n := Length(in.Name); {
	case n == 0:
		errs.Add("name", "campaigns.error_required")
	case n > CampaignNameMax:
		errs.Add("name", "campaigns.error_too_long", "Max", CampaignNameMax, "Count", n)
	}
	if !in.Status.Valid() {
		errs.Add("status", "campaigns.error_status")
	}
	switch {
	case in.SourceChannelID == 0:
		errs.Add("source", "campaigns.error_choose_source")
	case f.Source == nil:
		errs.Add("source", "campaigns.error_channel_unknown")
	case f.Source.Status == ChannelDisconnected:
		errs.Add("source", "campaigns.error_channel_disconnected")
	}
	switch {
	case in.TargetChannelID == 0:
		errs.Add("target", "campaigns.error_choose_target")
	case f.Target == nil:
		errs.Add("target", "campaigns.error_channel_unknown")
	case f.Target.Status == ChannelDisconnected:
		errs.Add("target", "campaigns.error_channel_disconnected")
	case !f.Target.Platform.CanBeTarget():
		errs.Add("target", "campaigns.error_target_platform")
	case in.TargetChannelID == in.SourceChannelID:
		errs.Add("target", "campaigns.error_same_channel")
	case f.Target.Platform == LINE && (f.Target.Settings.LiffID == "" || f.Target.Settings.LoginChannelID == ""):
		errs.Add("target", "campaigns.error_target_liff")
	}
	srcPlatform := Platform("")
	if f.Source != nil {
		srcPlatform = f.Source.Platform
	}
	tgtPlatform := Platform("")
	if f.Target != nil {
		tgtPlatform = f.Target.Platform
	}
	// Image.
	if in.MediaID != 0 {
		switch {
		case f.Image == nil:
			errs.Add("image", "campaigns.error_image_unknown")
		case srcPlatform == LINE && f.Image.Height > LineMaxAspect*f.Image.Width:
			errs.Add("image", "campaigns.error_image_line_ratio")
		}
	}
	// Card texts: generic limits always, the source platform's where stricter.
	lim, haveLim := PlatformLimits[srcPlatform]
	if !haveLim {
		lim = TextLimits{Title: 80, Text: 2000, Button: 20}
	}
	checkText(errs, "title", in.Title, lim.Title, true)
	checkText(errs, "text", in.Text, lim.Text, false)
	checkText(errs, "button", in.Button, lim.Button, true)
	if lim.Body > 0 {
		if n := Length(WABody(in.Title, in.Text)); n > lim.Body {
			errs.Add("text", "campaigns.error_wa_body", "Max", lim.Body, "Count", n)
		}
	}
	if tgtPlatform == WhatsApp {
		checkText(errs, "wa_message", in.WAMessage, WAMessageMax, false)
	}
	// Messages.
	checkAction(errs, "success_source", in.SuccessSource, srcPlatform, false, f.ModulePlatform)
	checkAction(errs, "success_target", in.SuccessTarget, tgtPlatform, true, f.ModulePlatform)
	checkAction(errs, "failure_source", in.FailureSource, srcPlatform, false, f.ModulePlatform)
	// Tags.
	for field, ids := range map[string][]int64{"tags_source": in.TagsSource, "tags_target": in.TagsTarget} {
		for _, id := range ids {
			if !f.KnownTags[id] {
				errs.Add(field, "campaigns.error_tag_unknown")
			}
		}
	}
	for field, name := range map[string]string{"tags_source": in.NewTagSource, "tags_target": in.NewTagTarget} {
		if n := Length(name); n > TagNameMax {
			errs.Add(field, "campaigns.error_tag_too_long", "Max", TagNameMax, "Count", n)
		}
	}
	if in.TokenTTLDays < TokenTTLMinDays || in.TokenTTLDays > TokenTTLMaxDays {
		errs.Add("token_ttl", "campaigns.error_token_ttl", "Min", TokenTTLMinDays, "Max", TokenTTLMaxDays)
	}
	return errs
}

func checkText(errs FieldProblems, field, s string, max int, required bool) {
	n := Length(s)
	switch {
	case required && n == 0:
		errs.Add(field, "campaigns.error_required")
	case n > max:
		errs.Add(field, "campaigns.error_too_long", "Max", max, "Count", n)
	}
}

func checkAction(errs FieldProblems, field string, a Action, p Platform, required bool, modules map[int64]Platform) {
	switch {
	case !a.Kind.Valid(), required && a.Kind == ActionNone:
		errs.Add(field, "campaigns.error_action_kind")
	case a.Kind == ActionText:
		max := 2000
		if l, ok := PlatformLimits[p]; ok {
			max = l.Message
		}
		checkText(errs, field, a.Text, max, true)
	case a.Kind == ActionModule:
		if a.ModuleID == nil {
			errs.Add(field, "campaigns.error_module_required")
		} else if mp, ok := modules[*a.ModuleID]; !ok {
			errs.Add(field, "campaigns.error_module_unknown")
		} else if mp != p {
			errs.Add(field, "campaigns.error_module_platform")
		}
	}
}

// CardWarnings are the non-blocking notes about a card: a narrow image, an image platforms
// cannot fetch, a broken channel.
func CardWarnings(f CampaignFacts) []FieldProblem {
	var out []FieldProblem
	if f.Image != nil && f.Image.Width < CardImageMinWidth {
		out = append(out, FieldProblem{Key: "campaigns.warn_image_narrow", Args: map[string]any{"Min": CardImageMinWidth, "Width": f.Image.Width}})
	}
	if f.Image != nil && f.ImageUnreachable {
		out = append(out, FieldProblem{Key: "campaigns.warn_image_http"})
	}
	for _, ch := range []*Channel{f.Source, f.Target} {
		if ch != nil && ch.Broken() {
			out = append(out, FieldProblem{Key: "campaigns.warn_channel_broken", Args: map[string]any{"Name": ch.DisplayName}})
		}
	}
	return out
}

// FailureReason is why a link attempt failed, as the statistics show it.
type FailureReason string

// The spec's failure reasons; ReasonNone is a click that never completed.
const (
	ReasonDisabled       FailureReason = "disabled"
	ReasonLinkFailed     FailureReason = "link_failed"
	ReasonSourceNotFound FailureReason = "source_not_found"
	ReasonTargetNotFound FailureReason = "target_not_found"
	ReasonMemberConflict FailureReason = "member_conflict"
	ReasonInternal       FailureReason = "internal"
	ReasonNone           FailureReason = "none"
)

// FailureReasons lists every reason in the order the console explains them.
var FailureReasons = []FailureReason{ReasonDisabled, ReasonLinkFailed, ReasonSourceNotFound, ReasonTargetNotFound, ReasonMemberConflict, ReasonInternal, ReasonNone}

// Key is the reason's i18n message key.
func (r FailureReason) Key() string { return "campaigns.reason_" + string(r) }

// CampaignFilter narrows the campaign list; zero values match everything.
type CampaignFilter struct {
	Query     string // part of the name, case-insensitive
	Status    CampaignStatus
	ChannelID int64 // source or target
}

// CampaignRow is a campaign with what the list shows of its channels and author.
type CampaignRow struct {
	Campaign
	SourcePlatform Platform
	SourceName     string
	SourceStatus   ChannelStatus
	TargetPlatform Platform
	TargetName     string
	TargetStatus   ChannelStatus
	CreatorName    string
	// Participants clicked a card at least once; Successes and Failures are finished attempts.
	Participants, Successes, Failures int
}

// AuditRow is an audit entry with its actor's name.
type AuditRow struct {
	AuditEntry
	ActorName string
}

// ModuleRef is a bot module as a campaign's pickers show it.
type ModuleRef struct {
	ID       int64
	Name     string
	Platform Platform
}

// WASampleCode is the link code previews show in place of a real one.
const WASampleCode = "OL-K7Q2M9XA"

// WADraft is the message a WhatsApp customer is asked to send: the campaign's text, then the code.
func WADraft(message, code string) string {
	if message == "" {
		return code
	}
	return message + " " + code
}

// NewCampaignInput is the input of a new campaign form: enabled, text success message, 7-day links.
func NewCampaignInput() CampaignInput {
	return CampaignInput{Status: CampaignEnabled, SuccessSource: Action{Kind: ActionNone}, SuccessTarget: Action{Kind: ActionText},
		FailureSource: Action{Kind: ActionNone}, TokenTTLDays: TokenTTLDefault}
}

// Input is the campaign as its edit form starts.
func (c *Campaign) Input() CampaignInput {
	in := CampaignInput{Name: c.Name, Status: c.Status, SourceChannelID: c.SourceChannelID, TargetChannelID: c.TargetChannelID,
		Title: c.Card.Title, Text: c.Card.Text, Button: c.Card.Button, WAMessage: c.WAMessage,
		SuccessSource: c.SuccessSource, SuccessTarget: c.SuccessTarget, FailureSource: c.FailureSource,
		TagsSource: append([]int64(nil), c.TagsSource...), TagsTarget: append([]int64(nil), c.TagsTarget...),
		TokenTTLDays: c.TokenTTLDays, Version: c.Version}
	if c.Card.MediaID != nil {
		in.MediaID = *c.Card.MediaID
	}
	return in
}
