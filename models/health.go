package models

import "time"

// HealthVerdict is the outcome of one health check of a channel.
type HealthVerdict string

// Verdicts: unknown means the platform could not be asked (rate limit, 5xx, timeout), which
// never counts as broken.
const (
	VerdictUnchecked HealthVerdict = "unchecked"
	VerdictHealthy   HealthVerdict = "healthy"
	VerdictBroken    HealthVerdict = "broken"
	VerdictUnknown   HealthVerdict = "unknown"
)

// HealthCause says why a channel is broken; each has its own explanation and fix.
type HealthCause string

// Causes of a broken channel.
const (
	CausePasswordChanged     HealthCause = "password_changed"     // the authorising user changed their password
	CauseCheckpoint          HealthCause = "checkpoint"           // security checkpoint or two-factor setup pending
	CauseTokenExpired        HealthCause = "token_expired"        // the token reached its expiry
	CauseAppRemoved          HealthCause = "app_removed"          // the user removed the app from their account
	CausePermissionRemoved   HealthCause = "permission_removed"   // a required permission or role was taken away
	CauseAccountGone         HealthCause = "account_gone"         // the Page, account or number no longer exists or is out of reach
	CauseWebhookUnsubscribed HealthCause = "webhook_unsubscribed" // the platform stopped sending us its webhooks
	CauseTokenInvalid        HealthCause = "token_invalid"        // the token was revoked, logged out or replaced
	CauseNumberNotConnected  HealthCause = "number_not_connected" // the WhatsApp number is disconnected, pending or unverified
)

// HealthCauses lists every cause, for translations and documentation.
var HealthCauses = []HealthCause{
	CausePasswordChanged, CauseCheckpoint, CauseTokenExpired, CauseAppRemoved,
	CausePermissionRemoved, CauseAccountGone, CauseWebhookUnsubscribed, CauseTokenInvalid,
	CauseNumberNotConnected,
}

// Known reports whether c is one of HealthCauses.
func (c HealthCause) Known() bool {
	for _, k := range HealthCauses {
		if c == k {
			return true
		}
	}
	return false
}

// OrInvalid returns c when known and CauseTokenInvalid otherwise, so a cause written by other
// code still maps to an explanation.
func (c HealthCause) OrInvalid() HealthCause {
	if c.Known() {
		return c
	}
	return CauseTokenInvalid
}

// ChannelHealth is what the monitor last learned about a channel.
type ChannelHealth struct {
	ChannelID             int64 `gorm:"primaryKey;autoIncrement:false"`
	TeamID                int64
	Verdict               HealthVerdict
	Cause                 string
	Detail                string
	TransientFailures     int
	Checks                int64
	LastHealthyAt         *time.Time
	WebhookResubscribedAt *time.Time
	ExpiryWarnedFor       *time.Time // the token expiry the last warning was about
	UpdatedAt             time.Time
}

// TableName maps ChannelHealth to channel_health.
func (ChannelHealth) TableName() string { return "channel_health" }

// Episode sources and endings.
const (
	DetectedByCheck = "check" // an hourly (or on-demand) health check
	DetectedBySend  = "send"  // a send or API call that failed with an auth error

	ClosedByCheck      = "check"      // a check found the channel working again
	ClosedByRepair     = "repair"     // someone reauthorised the channel
	ClosedByDisconnect = "disconnect" // the channel was disconnected

	AlertSkippedPlanEnded    = "plan_ended"
	AlertSkippedNoRecipients = "no_recipients"
)

// HealthEpisode is one failure of a channel, from the check that found it to its repair.
type HealthEpisode struct {
	ID                 int64
	TeamID             int64
	ChannelID          int64
	Cause              HealthCause
	Message            string
	DetectedBy         string
	OpenedAt           time.Time
	ClosedAt           *time.Time
	ClosedBy           string
	AlertKey           string
	AlertSkipped       string
	AlertedAt          *time.Time // when the alert email was delivered
	AlertAttempts      int        // alert emails queued for the episode so far
	AlertFailedAt      *time.Time // the last alert email failed for good; another is queued later
	AlertError         string     // why it failed
	RecoveryPending    bool       // closed after its alert went out; the "works again" email is still to be queued
	RecoveredAlertKey  string
	RecoveredAlertedAt *time.Time
}

// Open reports whether the episode is still going on.
func (e *HealthEpisode) Open() bool { return e.ClosedAt == nil }

// OutboxItem is one piece of durable outbound work, such as an email.
type OutboxItem struct {
	ID             int64
	Kind           string
	TeamID         *int64
	Payload        string `gorm:"type:jsonb"`
	IdempotencyKey string
	// Lane orders delivery: items of one non-empty lane go out one at a time, oldest first.
	Lane          string
	Attempts      int
	MaxAttempts   int
	NextAttemptAt time.Time
	DoneAt        *time.Time
	FailedAt      *time.Time
	LastError     string
	CreatedAt     time.Time
}

// TableName maps OutboxItem to outbox.
func (OutboxItem) TableName() string { return "outbox" }

// OutboxState is an item's delivery state as shown to people.
type OutboxState string

// Delivery states.
const (
	OutboxPending   OutboxState = "pending"   // not yet tried
	OutboxRetrying  OutboxState = "retrying"  // failed at least once, will try again
	OutboxDelivered OutboxState = "delivered" // done
	OutboxFailed    OutboxState = "failed"    // given up; LastError says why
)

// State derives the delivery state.
func (o *OutboxItem) State() OutboxState {
	switch {
	case o.DoneAt != nil:
		return OutboxDelivered
	case o.FailedAt != nil:
		return OutboxFailed
	case o.LastError != "":
		return OutboxRetrying
	}
	return OutboxPending
}

// HealthReport is everything the console shows about one channel's health.
type HealthReport struct {
	Channel  Channel
	Health   ChannelHealth // zero Verdict means never checked
	Episodes []HealthEpisode
	// Alerts maps an episode's AlertKey to its email's delivery.
	Alerts map[string]OutboxItem
}

// AlertKind is the kind of health email.
type AlertKind string

// Health emails.
const (
	AlertBroken    AlertKind = "broken"    // a channel stopped working
	AlertRecovered AlertKind = "recovered" // it works again
	AlertExpiring  AlertKind = "expiring"  // its token expires within a week
)

// HealthAlert is the data of one health email, captured when the email is queued. Channels
// that changed together (an Instagram account and the Page whose token it uses) share one email.
type HealthAlert struct {
	Kind        AlertKind
	Locale      string
	TeamName    string
	TimeZone    TimeZone  // the team's zone; the email shows times in it and names it
	At          time.Time // when the alert was raised
	ChannelsURL string
	Channels    []AlertChannel
}

// AlertChannel is one channel in a health email.
type AlertChannel struct {
	ChannelID      int64
	Platform       Platform
	Name           string
	Username       string
	Cause          HealthCause // AlertBroken and AlertRecovered
	FacebookUser   string      // Facebook and Instagram: the Facebook user to reauthorise with
	Since          time.Time   // when the failure began
	ExpiresAt      time.Time   // AlertExpiring only
	ReauthorizeURL string
}
