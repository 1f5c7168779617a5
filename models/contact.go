package models

import "time"

// Friendship is a LINE user's relation to the official account.
type Friendship string

// LINE friendship states.
const (
	FriendshipFriend  Friendship = "friend"
	FriendshipBlocked Friendship = "blocked"
	FriendshipUnknown Friendship = "unknown"
)

// MessagingWindow is how long after a customer's last message a business may send freely.
const MessagingWindow = 24 * time.Hour

// Contact is one customer identity on one channel.
type Contact struct {
	ID             int64
	TeamID         int64
	ChannelID      int64
	ExternalUserID string
	Name           string
	PictureURL     string
	CustomerID     *int64
	LastInboundAt  *time.Time
	LineFriendship Friendship
	FirstSeenAt    time.Time
	UpdatedAt      time.Time
}

// InWindow reports whether the 24-hour window is open at now.
func (c *Contact) InWindow(now time.Time) bool {
	return c.LastInboundAt != nil && now.Sub(*c.LastInboundAt) < MessagingWindow
}

// Message is one message in or out of a contact's conversation.
type Message struct {
	ID                int64
	TeamID            int64
	ChannelID         int64
	ContactID         int64
	Direction         string
	PlatformMessageID string
	Kind              string
	Body              string
	SentAt            time.Time
	CreatedAt         time.Time
	SendID            *int64 // outbound: the send it belongs to
	Part              *int   // outbound: its place among the send's platform messages
}

// Message directions.
const (
	DirectionIn  = "in"
	DirectionOut = "out"
)

// WebhookEvent is a raw, signature-checked webhook delivery.
type WebhookEvent struct {
	ID          int64
	Platform    string
	ChannelID   *int64
	Body        []byte
	ReceivedAt  time.Time
	ProcessedAt *time.Time
	Attempts    int
	Error       string
}
