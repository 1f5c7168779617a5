package store

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/omnilink/omnilink/models"
)

// InsertWebhookEvent stores a signature-checked delivery. It is the only query on the webhook
// hot path, so it stays a single INSERT with nothing returned.
func (s *Store) InsertWebhookEvent(ctx context.Context, platform string, channelID *int64, body []byte) error {
	// Straight to the connection pool (or transaction): GORM's statement building would cost
	// more than the rest of the request's Go work.
	var ch any
	if channelID != nil {
		ch = *channelID
	}
	_, err := s.db.Statement.ConnPool.ExecContext(ctx, `INSERT INTO webhook_events (platform, channel_id, body) VALUES ($1, $2, $3)`, platform, ch, body)
	return err
}

// ClaimWebhookEvents locks up to n due, unprocessed deliveries, oldest first, for the calling
// transaction. Rows another transaction holds are skipped, so concurrent processors (in this
// process or other replicas) never work on the same delivery.
func (s *Store) ClaimWebhookEvents(ctx context.Context, n int, now time.Time) ([]models.WebhookEvent, error) {
	// Scanned by hand: on the processor's hot path GORM's reflection cost more than the query.
	rows, err := s.db.Statement.ConnPool.QueryContext(ctx, `SELECT id, platform, channel_id, body, received_at, attempts, error
		FROM webhook_events
		WHERE processed_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
		ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`, now, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]models.WebhookEvent, 0, n)
	for rows.Next() {
		var ev models.WebhookEvent
		if err := rows.Scan(&ev.ID, &ev.Platform, &ev.ChannelID, &ev.Body, &ev.ReceivedAt, &ev.Attempts, &ev.Error); err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, rows.Err()
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

// contactUpsertConflict is what an upsert of contacts (aliased c) does to a contact that exists:
// a name only replaces it when given; the window and the LINE friendship only move forward.
const contactUpsertConflict = `ON CONFLICT (channel_id, external_user_id) DO UPDATE SET
	name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE c.name END,
	last_inbound_at = GREATEST(c.last_inbound_at, EXCLUDED.last_inbound_at),
	line_friendship = CASE WHEN EXCLUDED.line_friendship_at IS NOT NULL
		AND (c.line_friendship_at IS NULL OR c.line_friendship_at <= EXCLUDED.line_friendship_at)
		THEN EXCLUDED.line_friendship ELSE c.line_friendship END,
	line_friendship_at = GREATEST(c.line_friendship_at, EXCLUDED.line_friendship_at),
	updated_at = now()`

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
		Spare      *int64
	}
	// A new contact is written once, with its customer: a contact row updated afterwards would
	// be written again into every index of contacts (the name's trigram index among them).
	err = s.conn().QueryRowContext(ctx, `WITH cu AS (
			INSERT INTO customers (team_id, display_name) SELECT $1, $4
			WHERE NOT EXISTS (SELECT 1 FROM contacts WHERE channel_id = $2 AND external_user_id = $3)
			RETURNING id),
		up AS (
			INSERT INTO contacts AS c (team_id, channel_id, external_user_id, name, last_inbound_at, line_friendship, line_friendship_at, customer_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT id FROM cu))
			`+contactUpsertConflict+`
			RETURNING c.id, c.customer_id, (c.xmax = 0) AS inserted)
		SELECT up.id, up.customer_id, up.inserted, (SELECT id FROM cu) AS spare FROM up`,
		a.TeamID, a.ChannelID, a.ExternalUserID, a.Name, a.InboundAt, friendship, a.FriendshipAt).
		Scan(&row.ID, &row.CustomerID, &row.Inserted, &row.Spare)
	if err != nil {
		return 0, false, err
	}
	if row.Spare != nil && !row.Inserted {
		// Another transaction made the contact between our check and our insert: its customer
		// stands, the one made here for nothing goes.
		if err := s.q(ctx).Exec(`DELETE FROM customers WHERE id = ?`, *row.Spare).Error; err != nil {
			return 0, false, err
		}
	}
	if row.CustomerID == nil {
		// A contact made before customers existed. The upsert holds its row lock, so no other
		// transaction can attach a customer meanwhile.
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

// The set-based forms below apply a whole batch of deliveries in a few statements. Their rows
// travel as one JSON parameter (jsonb_to_recordset), so a batch costs one round trip per table
// whatever its size. Callers pass rows free of NUL characters, which Postgres text refuses.

// EventKey is one platform event key claimed by a delivery.
type EventKey struct {
	Platform string `json:"platform"`
	Key      string `json:"event_key"`
	EventID  int64  `json:"event_id"`
}

// ClaimWebhookEventKeys records keys in one statement and returns which of them were new;
// the others were carried by an earlier delivery. Keys must be distinct; they are locked in
// sorted order so concurrent batches cannot deadlock on them.
func (s *Store) ClaimWebhookEventKeys(ctx context.Context, keys []EventKey) (map[EventKey]bool, error) {
	fresh := make(map[EventKey]bool, len(keys))
	if len(keys) == 0 {
		return fresh, nil
	}
	sorted := slices.Clone(keys)
	slices.SortFunc(sorted, func(a, b EventKey) int {
		return cmp.Or(cmp.Compare(a.Platform, b.Platform), cmp.Compare(a.Key, b.Key))
	})
	raw, err := json.Marshal(sorted)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Platform string
		EventKey string
		EventID  int64
	}
	err = s.q(ctx).Raw(`INSERT INTO webhook_event_keys (platform, event_key, event_id)
		SELECT platform, event_key, event_id FROM jsonb_to_recordset(CAST(? AS jsonb)) AS x(platform text, event_key text, event_id bigint)
		ORDER BY platform, event_key
		ON CONFLICT (platform, event_key) DO NOTHING
		RETURNING platform, event_key, event_id`, string(raw)).Scan(&rows).Error
	for _, r := range rows {
		fresh[EventKey{Platform: r.Platform, Key: r.EventKey, EventID: r.EventID}] = true
	}
	return fresh, err
}

// UnroutedEvent is an event kept for an account no team has connected.
type UnroutedEvent struct {
	EventID   int64  `json:"event_id"`
	Platform  string `json:"platform"`
	AccountID string `json:"account_id"`
	Key       string `json:"event_key"`
}

// AddUnroutedEvents keeps a batch's unrouted events in one statement.
func (s *Store) AddUnroutedEvents(ctx context.Context, evs []UnroutedEvent) error {
	if len(evs) == 0 {
		return nil
	}
	raw, err := json.Marshal(evs)
	if err != nil {
		return err
	}
	return s.q(ctx).Exec(`INSERT INTO unrouted_events (event_id, platform, account_id, event_key)
		SELECT event_id, platform, account_id, event_key
		FROM jsonb_to_recordset(CAST(? AS jsonb)) AS x(event_id bigint, platform text, account_id text, event_key text)`, string(raw)).Error
}

// UpsertContacts is UpsertContact for many contacts in three statements, with the same rules
// (name kept when empty, window and friendship only forward); the input must name each
// (channel, external user) once. It returns the contact ids keyed by channel and external user.
func (s *Store) UpsertContacts(ctx context.Context, acts []ContactActivity) (map[ContactRef]int64, error) {
	ids := make(map[ContactRef]int64, len(acts))
	if len(acts) == 0 {
		return ids, nil
	}
	type row struct {
		TeamID       int64      `json:"team_id"`
		ChannelID    int64      `json:"channel_id"`
		External     string     `json:"external_user_id"`
		Name         string     `json:"name"`
		InboundAt    *time.Time `json:"last_inbound_at"`
		Friendship   string     `json:"line_friendship"`
		FriendshipAt *time.Time `json:"line_friendship_at"`
	}
	rows := make([]row, 0, len(acts))
	for _, a := range acts {
		r := row{TeamID: a.TeamID, ChannelID: a.ChannelID, External: a.ExternalUserID, Name: a.Name, InboundAt: a.InboundAt,
			Friendship: string(a.Friendship), FriendshipAt: a.FriendshipAt}
		if a.FriendshipAt == nil || a.Friendship == "" {
			r.Friendship, r.FriendshipAt = string(models.FriendshipUnknown), nil
		}
		rows = append(rows, r)
	}
	// Rows are locked in one order everywhere, so concurrent batches wait instead of deadlocking.
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(a.ChannelID, b.ChannelID), cmp.Compare(a.External, b.External))
	})
	raw, err := json.Marshal(rows)
	if err != nil {
		return nil, err
	}
	var out []struct {
		ID             int64
		ChannelID      int64
		ExternalUserID string
		CustomerID     *int64
	}
	err = s.q(ctx).Raw(`INSERT INTO contacts AS c (team_id, channel_id, external_user_id, name, last_inbound_at, line_friendship, line_friendship_at)
		SELECT team_id, channel_id, external_user_id, name, last_inbound_at, line_friendship, line_friendship_at
		FROM jsonb_to_recordset(CAST(? AS jsonb)) AS x(team_id bigint, channel_id bigint, external_user_id text, name text,
			last_inbound_at timestamptz, line_friendship text, line_friendship_at timestamptz)
		ORDER BY channel_id, external_user_id
		`+contactUpsertConflict+`
		RETURNING c.id, c.channel_id, c.external_user_id, c.customer_id`, string(raw)).Scan(&out).Error
	if err != nil {
		return nil, err
	}
	var bare []int64
	for _, r := range out {
		ids[ContactRef{ChannelID: r.ChannelID, ExternalUserID: r.ExternalUserID}] = r.ID
		if r.CustomerID == nil {
			bare = append(bare, r.ID)
		}
	}
	if len(bare) > 0 {
		// New contacts each get a customer of their own; the ids are drawn first so each customer
		// can be attached to its contact in the same statement. The upsert holds the rows' locks.
		rawIDs, _ := json.Marshal(bare)
		err = s.q(ctx).Exec(`WITH bare AS (
				SELECT c.id AS contact_id, c.team_id, c.name, nextval(pg_get_serial_sequence('customers', 'id')) AS customer_id
				FROM contacts c WHERE c.id IN (SELECT jsonb_array_elements_text(CAST(? AS jsonb))::bigint) AND c.customer_id IS NULL),
			made AS (INSERT INTO customers (id, team_id, display_name) SELECT customer_id, team_id, name FROM bare)
			UPDATE contacts SET customer_id = bare.customer_id FROM bare WHERE contacts.id = bare.contact_id`, string(rawIDs)).Error
	}
	return ids, err
}

// ContactRef names a contact by its channel and the platform's id for the person.
type ContactRef struct {
	ChannelID      int64
	ExternalUserID string
}

// AddInboundMessages records a batch of customers' messages in one statement; messages already
// recorded (same channel and platform message id) are skipped.
func (s *Store) AddInboundMessages(ctx context.Context, msgs []models.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	type row struct {
		TeamID    int64     `json:"team_id"`
		ChannelID int64     `json:"channel_id"`
		ContactID int64     `json:"contact_id"`
		MID       string    `json:"platform_message_id"`
		Kind      string    `json:"kind"`
		Body      string    `json:"body"`
		SentAt    time.Time `json:"sent_at"`
	}
	rows := make([]row, 0, len(msgs))
	for _, m := range msgs {
		rows = append(rows, row{m.TeamID, m.ChannelID, m.ContactID, m.PlatformMessageID, m.Kind, m.Body, m.SentAt})
	}
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(a.ChannelID, b.ChannelID), cmp.Compare(a.MID, b.MID))
	})
	raw, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	return s.q(ctx).Exec(`INSERT INTO messages (team_id, channel_id, contact_id, direction, platform_message_id, kind, body, sent_at)
		SELECT team_id, channel_id, contact_id, 'in', platform_message_id, kind, body, sent_at
		FROM jsonb_to_recordset(CAST(? AS jsonb)) AS x(team_id bigint, channel_id bigint, contact_id bigint,
			platform_message_id text, kind text, body text, sent_at timestamptz)
		ORDER BY channel_id, platform_message_id
		ON CONFLICT (channel_id, platform_message_id) DO NOTHING`, string(raw)).Error
}

// FinishWebhookEvents marks a batch of deliveries applied.
func (s *Store) FinishWebhookEvents(ctx context.Context, ids []int64, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	raw, _ := json.Marshal(ids)
	return s.q(ctx).Exec(`UPDATE webhook_events SET processed_at = ?, attempts = attempts + 1, error = '', next_attempt_at = NULL
		WHERE id IN (SELECT jsonb_array_elements_text(CAST(? AS jsonb))::bigint)`, now, string(raw)).Error
}

// PruneWebhookEventsSystem deletes up to limit deliveries received and processed before cutoff,
// with their unrouted events, and returns how many it deleted. Pending deliveries stay, however
// old. Small batches keep each transaction short, so pruning never holds up live work.
func (s *Store) PruneWebhookEventsSystem(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	res := s.q(ctx).Exec(`DELETE FROM webhook_events WHERE id IN (
		SELECT id FROM webhook_events WHERE received_at < ? AND processed_at < ? LIMIT ? FOR UPDATE SKIP LOCKED)`, cutoff, cutoff, limit)
	return res.RowsAffected, res.Error
}

// PruneWebhookEventKeysSystem deletes up to limit deduplication keys recorded before cutoff and
// returns how many it deleted; a platform's redelivery of so old an event is no longer expected.
func (s *Store) PruneWebhookEventKeysSystem(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	res := s.q(ctx).Exec(`DELETE FROM webhook_event_keys WHERE (platform, event_key) IN (
		SELECT platform, event_key FROM webhook_event_keys WHERE created_at < ? LIMIT ? FOR UPDATE SKIP LOCKED)`, cutoff, limit)
	return res.RowsAffected, res.Error
}

// RequeueUnroutedEventsSystem makes the kept events of an account that just got a live channel
// pending again: their deduplication keys and unrouted rows are dropped and their deliveries
// are handed back to the processor, which now routes them (events of those deliveries applied
// before stay skipped by their own keys). It returns how many deliveries were requeued.
func (s *Store) RequeueUnroutedEventsSystem(ctx context.Context, platform models.Platform, account string) (int64, error) {
	var n int64
	err := s.WithTx(ctx, func(tx *Store) error {
		var ids []int64
		err := tx.q(ctx).Raw(`WITH gone AS (
				DELETE FROM unrouted_events u WHERE u.platform = ? AND u.account_id = ? RETURNING u.event_id, u.event_key),
			keys AS (
				DELETE FROM webhook_event_keys k USING gone, webhook_events e
				WHERE e.id = gone.event_id AND k.platform = ? AND k.event_key =
					CASE WHEN e.platform = 'line' THEN coalesce(e.channel_id, 0)::text ELSE ? END || ':' || gone.event_key)
			SELECT DISTINCT event_id FROM gone`, string(platform), account, string(platform), account).Scan(&ids).Error
		if err != nil || len(ids) == 0 {
			return err
		}
		raw, _ := json.Marshal(ids)
		res := tx.q(ctx).Exec(`UPDATE webhook_events SET processed_at = NULL, next_attempt_at = NULL, attempts = 0, error = ''
			WHERE id IN (SELECT jsonb_array_elements_text(CAST(? AS jsonb))::bigint)`, string(raw))
		n = res.RowsAffected
		return res.Error
	})
	return n, err
}
