package models

import "time"

// AttemptStatus is where one participation ended.
type AttemptStatus string

// Attempt states.
const (
	AttemptOpen   AttemptStatus = "open"
	AttemptLinked AttemptStatus = "linked"
	AttemptFailed AttemptStatus = "failed"
)

// LinkToken is one card's link: only the token's hash is stored.
type LinkToken struct {
	ID              int64
	TeamID          int64
	CampaignID      int64
	SourceContactID int64
	TokenHash       []byte
	WACode          *string `gorm:"column:wa_code"`
	CreatedAt       time.Time
	ExpiresAt       time.Time
	UsedAt          *time.Time
}

// LinkAttempt is one source contact's participation in a campaign, step by step.
type LinkAttempt struct {
	ID               int64
	TeamID           int64
	CampaignID       int64
	SourceContactID  int64
	LastTokenID      *int64
	CardSentAt       *time.Time
	FirstClickedAt   *time.Time
	OpenedAt         *time.Time
	Device           string
	OS               string `gorm:"column:os"`
	InApp            string
	FriendRequiredAt *time.Time
	LiffVerifiedAt   *time.Time
	LiffUserID       string
	IDTokenHash      []byte
	TargetContactID  *int64
	TargetCreated    bool
	Status           AttemptStatus
	Reason           FailureReason
	ReasonDetail     string
	CompletedAt      *time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Merge is one merge of two customers, with the snapshot that undoes it.
type Merge struct {
	ID         int64
	TeamID     int64
	SurvivorID int64
	AbsorbedID int64
	Snapshot   JSONMap `gorm:"type:jsonb"`
	Actor      string
	CreatedAt  time.Time
	UndoneAt   *time.Time
}

// Customer groups a team's contacts (one identity per channel) into one person.
type Customer struct {
	ID          int64
	TeamID      int64
	MemberNo    *string
	DisplayName string
	MergedInto  *int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}
