package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// Platform is a messaging platform a channel lives on.
type Platform string

// The four platforms.
const (
	Facebook  Platform = "facebook"
	Instagram Platform = "instagram"
	LINE      Platform = "line"
	WhatsApp  Platform = "whatsapp"
)

// Platforms lists every platform in display order.
var Platforms = []Platform{Instagram, Facebook, LINE, WhatsApp}

// Valid reports whether p is a known platform.
func (p Platform) Valid() bool {
	for _, k := range Platforms {
		if p == k {
			return true
		}
	}
	return false
}

// Brand is the platform's own name, the same in every language.
func (p Platform) Brand() string {
	switch p {
	case Facebook:
		return "Facebook"
	case Instagram:
		return "Instagram"
	case LINE:
		return "LINE"
	case WhatsApp:
		return "WhatsApp"
	}
	return string(p)
}

// ChannelLabel names a channel with its platform first: a team's channels usually share one
// display name, so the platform is what tells them apart.
func ChannelLabel(p Platform, name string) string {
	if b := p.Brand(); b != "" {
		return b + " · " + name
	}
	return name
}

// ViaFacebookLogin reports whether the platform is connected through Facebook Login.
func (p Platform) ViaFacebookLogin() bool { return p == Facebook || p == Instagram }

// ChannelStatus is a connection's state.
type ChannelStatus string

// Channel states: invalid means the platform refuses our credentials and a person must act.
const (
	ChannelActive       ChannelStatus = "active"
	ChannelInvalid      ChannelStatus = "invalid"
	ChannelDisconnected ChannelStatus = "disconnected"
)

// Channel is a connected account on one platform: a Page, an Instagram account, a LINE
// official account or a WhatsApp number.
type Channel struct {
	ID             int64
	TeamID         int64
	Platform       Platform
	ExternalID     string
	DisplayName    string
	Username       string
	PictureURL     string
	AuthorizedBy   *int64
	Credentials    string          // sealed; opened only by the channels service
	Settings       ChannelSettings `gorm:"type:jsonb"`
	Status         ChannelStatus
	StatusCause    string
	StatusMessage  string
	FailingSince   *time.Time
	AlertedAt      *time.Time
	LastCheckedAt  *time.Time
	NextCheckAt    *time.Time
	TokenExpiresAt *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Broken reports whether the channel needs a person to repair it.
func (c *Channel) Broken() bool { return c.Status == ChannelInvalid }

// ChannelSettings are the platform-specific, non-secret facts about a channel.
type ChannelSettings struct {
	PageID         string `json:"page_id,omitempty"`          // Instagram: the linked Facebook Page
	LineChannelID  string `json:"line_channel_id,omitempty"`  // LINE Messaging API channel id
	LoginChannelID string `json:"login_channel_id,omitempty"` // LINE Login channel id (LIFF lives there)
	LiffID         string `json:"liff_id,omitempty"`
	BasicID        string `json:"basic_id,omitempty"`
	WABAID         string `json:"waba_id,omitempty"`
	DisplayNumber  string `json:"display_number,omitempty"`
	VerifiedName   string `json:"verified_name,omitempty"`
}

// Value encodes the settings as JSON.
func (s ChannelSettings) Value() (driver.Value, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

// Scan decodes the settings.
func (s *ChannelSettings) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		return json.Unmarshal(v, s)
	case string:
		return json.Unmarshal([]byte(v), s)
	case nil:
		*s = ChannelSettings{}
		return nil
	}
	return fmt.Errorf("ChannelSettings: cannot scan %T", src)
}

// Credentials are a channel's secrets; they exist in memory only, sealed at rest.
type Credentials struct {
	AccessToken   string `json:"access_token,omitempty"`   // Page token, LINE channel token or WhatsApp token
	ChannelSecret string `json:"channel_secret,omitempty"` // LINE: signs webhooks
}

// MetaAuthorization is the Facebook user who granted us access to Pages and Instagram accounts.
type MetaAuthorization struct {
	ID             int64
	TeamID         int64
	FBUserID       string `gorm:"column:fb_user_id"`
	FBUserName     string `gorm:"column:fb_user_name"`
	AccessToken    string // sealed
	ExpiresAt      *time.Time
	GrantedScopes  StringList `gorm:"type:jsonb"`
	DeclinedScopes StringList `gorm:"type:jsonb"`
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// OAuthState is one Facebook Login attempt, from the button press to the chosen accounts.
type OAuthState struct {
	ID              string
	TeamID          int64
	UserID          int64
	SessionHash     string
	Purpose         Platform
	ChannelID       *int64
	CreatedAt       time.Time
	ExpiresAt       time.Time
	UsedAt          *time.Time
	Outcome         string
	OutcomeCode     string
	OutcomeArgs     Args `gorm:"type:jsonb"` // arguments of OutcomeCode's message
	AuthorizationID *int64
	Candidates      Candidates `gorm:"type:jsonb"`
	Notes           Notes      `gorm:"type:jsonb"` // about other channels, e.g. a sibling left broken
	ClosedAt        *time.Time
}

// TableName maps OAuthState to oauth_states.
func (OAuthState) TableName() string { return "oauth_states" }

// Candidate is an account found through Facebook Login, with whether it can be connected and why not.
type Candidate struct {
	Platform   Platform `json:"platform"`
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Username   string   `json:"username,omitempty"`
	PictureURL string   `json:"picture_url,omitempty"`
	PageID     string   `json:"page_id"`
	PageName   string   `json:"page_name"`
	Problem    string   `json:"problem,omitempty"` // i18n key; empty when connectable
	ProblemArg string   `json:"problem_arg,omitempty"`
	// ProblemArgs are further arguments of Problem's message (the failed step, the platform's reason).
	ProblemArgs Args `json:"problem_args,omitempty"`
	Connected   bool `json:"connected,omitempty"`
}

// MessageArgs are the arguments of the candidate's Problem message.
func (c Candidate) MessageArgs() Args {
	out := Args{"User": c.ProblemArg, "Page": c.PageName, "Name": c.Name}
	for k, v := range c.ProblemArgs {
		out[k] = v
	}
	return out
}

// Candidates is a JSON list of Candidate.
type Candidates []Candidate

// Value encodes the list.
func (c Candidates) Value() (driver.Value, error) {
	if c == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]Candidate(c))
	return string(b), err
}

// Scan decodes the list.
func (c *Candidates) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		return json.Unmarshal(v, (*[]Candidate)(c))
	case string:
		return json.Unmarshal([]byte(v), (*[]Candidate)(c))
	case nil:
		*c = nil
		return nil
	}
	return fmt.Errorf("Candidates: cannot scan %T", src)
}
