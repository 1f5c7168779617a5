package store

import (
	"context"
	"time"

	"github.com/omnilink/omnilink/models"
)

// InsertWebhookEvent stores a signature-checked delivery. It is the only query on the webhook
// hot path, so it stays a single INSERT with nothing returned.
func (s *Store) InsertWebhookEvent(ctx context.Context, platform string, channelID *int64, body []byte) error {
	return s.q(ctx).Exec(`INSERT INTO webhook_events (platform, channel_id, body) VALUES (?, ?, ?)`, platform, channelID, body).Error
}

// ClaimWebhookEvents locks up to n due, unprocessed deliveries, oldest first, for the calling
// transaction. Rows another transaction holds are skipped, so concurrent processors (in this
// process or other replicas) never work on the same delivery.
func (s *Store) ClaimWebhookEvents(ctx context.Context, n int, now time.Time) ([]models.WebhookEvent, error) {
	var out []models.WebhookEvent
	err := s.q(ctx).Raw(`SELECT id, platform, channel_id, body, received_at, processed_at, attempts, error
		FROM webhook_events
		WHERE processed_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
		ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`, now, n).Scan(&out).Error
	return out, err
}

// FinishWebhookEvent marks a delivery done; errText is empty on success and otherwise says
// why the delivery was given up (it stays visible and is not tried again).
func (s *Store) FinishWebhookEvent(ctx context.Context, id int64, now time.Time, errText string) error {
	return affected(s.q(ctx).Exec(`UPDATE webhook_events
		SET processed_at = ?, attempts = attempts + 1, error = ?, next_attempt_at = NULL WHERE id = ?`, now, errText, id))
}

// RetryWebhookEvent records a failed try and when the delivery may be tried again.
func (s *Store) RetryWebhookEvent(ctx context.Context, id int64, errText string, next time.Time) error {
	return affected(s.q(ctx).Exec(`UPDATE webhook_events
		SET attempts = attempts + 1, error = ?, next_attempt_at = ? WHERE id = ?`, errText, next, id))
}

// ClaimWebhookEventKey records that delivery eventID carried the platform event key; false
// means an earlier delivery already carried it, so the event is a replay to skip. Inside the
// transaction that applies the event, a concurrent claim of the same key waits for this one.
func (s *Store) ClaimWebhookEventKey(ctx context.Context, platform, key string, eventID int64) (bool, error) {
	res := s.q(ctx).Exec(`INSERT INTO webhook_event_keys (platform, event_key, event_id) VALUES (?, ?, ?)
		ON CONFLICT (platform, event_key) DO NOTHING`, platform, key, eventID)
	return res.RowsAffected == 1, res.Error
}

// AddUnroutedEvent keeps an event whose account no team has connected.
func (s *Store) AddUnroutedEvent(ctx context.Context, eventID int64, platform, accountID, key string) error {
	return s.q(ctx).Exec(`INSERT INTO unrouted_events (event_id, platform, account_id, event_key) VALUES (?, ?, ?, ?)`,
		eventID, platform, accountID, key).Error
}

// ContactActivity is what one inbound event tells about a contact.
type ContactActivity struct {
	TeamID         int64
	ChannelID      int64
	ExternalUserID string
	Name           string     // empty keeps the known name
	InboundAt      *time.Time // the customer wrote: opens the 24-hour window; nil leaves it
	Friendship     models.Friendship
	FriendshipAt   *time.Time // set with Friendship; older than the stored change means ignored
}

// UpsertContact creates or updates the contact for a channel's external user and returns its
// id. A new contact also gets a customer of its own, so identity linking has something to merge.
// The window and the LINE friendship only move forward in platform time, so redeliveries and
// out-of-order events cannot reopen an old state.
func (s *Store) UpsertContact(ctx context.Context, a ContactActivity) (id int64, created bool, err error) {
	friendship := a.Friendship
	if a.FriendshipAt == nil || friendship == "" {
		friendship, a.FriendshipAt = models.FriendshipUnknown, nil
	}
	var row struct {
		ID         int64
		CustomerID *int64
		Inserted   bool
	}
	err = s.q(ctx).Raw(`INSERT INTO contacts AS c (team_id, channel_id, external_user_id, name, last_inbound_at, line_friendship, line_friendship_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (channel_id, external_user_id) DO UPDATE SET
			name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE c.name END,
			last_inbound_at = GREATEST(c.last_inbound_at, EXCLUDED.last_inbound_at),
			line_friendship = CASE WHEN EXCLUDED.line_friendship_at IS NOT NULL
				AND (c.line_friendship_at IS NULL OR c.line_friendship_at <= EXCLUDED.line_friendship_at)
				THEN EXCLUDED.line_friendship ELSE c.line_friendship END,
			line_friendship_at = GREATEST(c.line_friendship_at, EXCLUDED.line_friendship_at),
			updated_at = now()
		RETURNING c.id, c.customer_id, (c.xmax = 0) AS inserted`,
		a.TeamID, a.ChannelID, a.ExternalUserID, a.Name, a.InboundAt, friendship, a.FriendshipAt).Scan(&row).Error
	if err != nil {
		return 0, false, err
	}
	if row.CustomerID == nil {
		// The upsert holds the contact's row lock, so no other transaction can attach a customer meanwhile.
		err = s.q(ctx).Exec(`WITH cu AS (INSERT INTO customers (team_id, display_name) VALUES (?, ?) RETURNING id)
			UPDATE contacts SET customer_id = (SELECT id FROM cu) WHERE id = ?`, a.TeamID, a.Name, row.ID).Error
	}
	return row.ID, row.Inserted, err
}

// AddInboundMessage records a customer's message once per channel and platform message id;
// false means it was already recorded.
func (s *Store) AddInboundMessage(ctx context.Context, m *models.Message) (bool, error) {
	res := s.q(ctx).Exec(`INSERT INTO messages (team_id, channel_id, contact_id, direction, platform_message_id, kind, body, sent_at)
		VALUES (?, ?, ?, 'in', ?, ?, ?, ?) ON CONFLICT (channel_id, platform_message_id) DO NOTHING`,
		m.TeamID, m.ChannelID, m.ContactID, m.PlatformMessageID, m.Kind, m.Body, m.SentAt)
	return res.RowsAffected == 1, res.Error
}
