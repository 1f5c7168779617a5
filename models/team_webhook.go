package models

import "time"

// TeamWebhook is a team's outbound webhook setting; the secret is sealed.
type TeamWebhook struct {
	TeamID    int64 `gorm:"primaryKey"`
	URL       string
	SecretEnc string
	Enabled   bool
	UpdatedBy *int64
	UpdatedAt time.Time
}

// TeamWebhookDelivery is one event for a team's webhook and how its delivery went.
type TeamWebhookDelivery struct {
	ID          int64
	TeamID      int64
	EventID     string
	Kind        string
	Body        string
	Attempts    int
	LastStatus  int
	LastError   string
	CreatedAt   time.Time
	AttemptedAt *time.Time
	DeliveredAt *time.Time
	GivenUpAt   *time.Time
}
