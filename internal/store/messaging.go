package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omnilink/omnilink/models"
)

// TeamContact loads one of a team's contacts; another team's id is ErrNotFound.
func (s *Store) TeamContact(ctx context.Context, teamID, id int64) (*models.Contact, error) {
	return first[models.Contact](s.q(ctx).Where("team_id = ? AND id = ?", teamID, id))
}

// ContactSystem loads a contact by id for background work that already holds a checked id.
func (s *Store) ContactSystem(ctx context.Context, id int64) (*models.Contact, error) {
	return first[models.Contact](s.q(ctx).Where("id = ?", id))
}

// CreateMessageSend records a send request. A queued one has its outbox item written by the
// same statement, with the send's id added to the item's payload under "send_id". created is
// false when the key was used before: m is then that send as it was, and nothing is written.
func (s *Store) CreateMessageSend(ctx context.Context, m *models.MessageSend, queue *models.OutboxItem) (created bool, err error) {
	send := `INSERT INTO message_sends AS m (team_id, channel_id, contact_id, idempotency_key, cause, automated, outcome, detail, parts, created_at, finished_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (team_id, idempotency_key) DO NOTHING
		RETURNING ` + messageSendColumns
	args := []any{m.TeamID, m.ChannelID, m.ContactID, m.IdempotencyKey, m.Cause, m.Automated, m.Outcome, m.Detail, m.Parts, m.CreatedAt, m.FinishedAt}
	if queue != nil && m.Outcome == models.SendQueued {
		send = `WITH m AS (` + send + `),
			o AS (INSERT INTO outbox (kind, team_id, payload, idempotency_key, lane, attempts, max_attempts, next_attempt_at, created_at)
				SELECT $12, $13, CAST($14 AS jsonb) || jsonb_build_object('send_id', m.id), $15, $16, 0, $17, $18, $10 FROM m
				ON CONFLICT (idempotency_key) DO NOTHING)
			SELECT ` + messageSendColumns + ` FROM m`
		args = append(args, queue.Kind, queue.TeamID, queue.Payload, queue.IdempotencyKey, queue.Lane, queue.MaxAttempts, queue.NextAttemptAt)
	}
	var row models.MessageSend
	err = scanMessageSend(s.conn().QueryRowContext(ctx, send, args...), &row)
	if errors.Is(err, sql.ErrNoRows) {
		prev, err := s.TeamMessageSendByKey(ctx, m.TeamID, m.IdempotencyKey)
		if err != nil {
			return false, err
		}
		*m = *prev
		return false, nil
	}
	if err != nil {
		return false, err
	}
	*m = row
	return true, nil
}

// messageSendColumns are a send's columns, in the order scanMessageSend reads them.
const messageSendColumns = `m.id, m.team_id, m.channel_id, m.contact_id, m.idempotency_key, m.cause, m.automated, m.outcome,
	m.detail, m.parts, m.created_at, m.finished_at`

func messageSendDest(m *models.MessageSend) []any {
	return []any{&m.ID, &m.TeamID, &m.ChannelID, &m.ContactID, &m.IdempotencyKey, &m.Cause, &m.Automated, &m.Outcome,
		&m.Detail, &m.Parts, &m.CreatedAt, &m.FinishedAt}
}

func scanMessageSend(row *sql.Row, m *models.MessageSend) error {
	return row.Scan(messageSendDest(m)...)
}

// TeamMessageSendByKey loads a team's send request by its idempotency key.
func (s *Store) TeamMessageSendByKey(ctx context.Context, teamID int64, key string) (*models.MessageSend, error) {
	return first[models.MessageSend](s.q(ctx).Where("team_id = ? AND idempotency_key = ?", teamID, key))
}

// MessageSendSystem loads a send request by id for the outbox worker.
func (s *Store) MessageSendSystem(ctx context.Context, id int64) (*models.MessageSend, error) {
	return first[models.MessageSend](s.q(ctx).Where("id = ?", id))
}

// FinishMessageSendSystem records a send's final outcome; a send already finished keeps its
// first outcome, so a late duplicate delivery cannot rewrite history.
func (s *Store) FinishMessageSendSystem(ctx context.Context, id int64, outcome models.SendOutcome, detail string, at time.Time) error {
	return s.q(ctx).Exec(`UPDATE message_sends SET outcome = ?, detail = ?, finished_at = ?
		WHERE id = ? AND outcome = 'queued'`, outcome, detail, at, id).Error
}

// SentMessageSendSystem records the platform messages of a send the platform accepted in one
// request and marks the send sent, in one statement: both are written or neither is.
func (s *Store) SentMessageSendSystem(ctx context.Context, id int64, at time.Time, msgs []models.Message) error {
	if len(msgs) == 0 {
		return s.FinishMessageSendSystem(ctx, id, models.SendSent, "", at)
	}
	var b strings.Builder
	args := []any{id, models.SendSent, at}
	b.WriteString(`WITH m AS (INSERT INTO messages (team_id, channel_id, contact_id, direction, platform_message_id, kind, body, sent_at, send_id, part) VALUES `)
	for i, m := range msgs {
		if i > 0 {
			b.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&b, "($%d, $%d, $%d, 'out', $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9)
		args = append(args, m.TeamID, m.ChannelID, m.ContactID, m.PlatformMessageID, m.Kind, m.Body, m.SentAt, m.SendID, m.Part)
	}
	b.WriteString(` ON CONFLICT DO NOTHING)
		UPDATE message_sends SET outcome = $2, detail = '', finished_at = $3 WHERE id = $1 AND outcome = 'queued'`)
	_, err := s.conn().ExecContext(ctx, b.String(), args...)
	return err
}

// NoteMessageSendSystem keeps the latest transient trouble of a queued send for people to read.
func (s *Store) NoteMessageSendSystem(ctx context.Context, id int64, detail string) error {
	return s.q(ctx).Exec(`UPDATE message_sends SET detail = ? WHERE id = ? AND outcome = 'queued'`, detail, id).Error
}

// AddOutboundMessage records one platform message a send produced; false means the part (or
// the platform message id on this channel) was already recorded.
func (s *Store) AddOutboundMessage(ctx context.Context, m *models.Message) (bool, error) {
	res := s.q(ctx).Exec(`INSERT INTO messages (team_id, channel_id, contact_id, direction, platform_message_id, kind, body, sent_at, send_id, part)
		VALUES (?, ?, ?, 'out', ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		m.TeamID, m.ChannelID, m.ContactID, m.PlatformMessageID, m.Kind, m.Body, m.SentAt, m.SendID, m.Part)
	return res.RowsAffected == 1, res.Error
}

// SentPartsSystem lists the parts of a send the platform already accepted.
func (s *Store) SentPartsSystem(ctx context.Context, sendID int64) (map[int]string, error) {
	var rows []struct {
		Part              int
		PlatformMessageID string
	}
	if err := s.q(ctx).Raw(`SELECT part, platform_message_id FROM messages WHERE send_id = ? AND part IS NOT NULL`, sendID).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[int]string, len(rows))
	for _, r := range rows {
		out[r.Part] = r.PlatformMessageID
	}
	return out, nil
}

// TeamOutboundMessages lists the messages sent to one of a team's contacts, oldest first.
func (s *Store) TeamOutboundMessages(ctx context.Context, teamID, contactID int64) ([]models.Message, error) {
	var out []models.Message
	err := s.q(ctx).Where("team_id = ? AND contact_id = ? AND direction = 'out'", teamID, contactID).Order("sent_at, part, id").Find(&out).Error
	return out, err
}

// contactChannelColumns are a contact's columns and its channel's, in the order scanContactChannel reads them.
const contactChannelColumns = `ct.id, ct.team_id, ct.channel_id, ct.external_user_id, ct.name, ct.picture_url, ct.customer_id,
	ct.last_inbound_at, ct.line_friendship, ct.first_seen_at, ct.updated_at,
	ch.id, ch.team_id, ch.platform, ch.external_id, ch.display_name, ch.username, ch.picture_url, ch.authorized_by,
	ch.credentials, ch.settings, ch.status, ch.status_cause, ch.status_message, ch.failing_since, ch.alerted_at,
	ch.last_checked_at, ch.next_check_at, ch.token_expires_at, ch.created_at, ch.updated_at`

// scanContactChannel reads a row of contactChannelColumns, after the destinations in first.
// Every send reads a contact with its channel, so the row is scanned column by column rather
// than by gorm's reflection.
func scanContactChannel(row *sql.Row, first ...any) (*models.Contact, *models.Channel, error) {
	var c models.Contact
	var ch models.Channel
	err := row.Scan(append(first, &c.ID, &c.TeamID, &c.ChannelID, &c.ExternalUserID, &c.Name, &c.PictureURL, &c.CustomerID,
		&c.LastInboundAt, &c.LineFriendship, &c.FirstSeenAt, &c.UpdatedAt,
		&ch.ID, &ch.TeamID, &ch.Platform, &ch.ExternalID, &ch.DisplayName, &ch.Username, &ch.PictureURL, &ch.AuthorizedBy,
		&ch.Credentials, &ch.Settings, &ch.Status, &ch.StatusCause, &ch.StatusMessage, &ch.FailingSince, &ch.AlertedAt,
		&ch.LastCheckedAt, &ch.NextCheckAt, &ch.TokenExpiresAt, &ch.CreatedAt, &ch.UpdatedAt)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	return &c, &ch, nil
}

// TeamContactWithChannel loads one of a team's contacts with its channel, in one query.
func (s *Store) TeamContactWithChannel(ctx context.Context, teamID, contactID int64) (*models.Contact, *models.Channel, error) {
	return scanContactChannel(s.conn().QueryRowContext(ctx, `SELECT `+contactChannelColumns+`
		FROM contacts ct JOIN channels ch ON ch.id = ct.channel_id AND ch.team_id = ct.team_id
		WHERE ct.team_id = $1 AND ct.id = $2`, teamID, contactID))
}

// MessageSendWithContactSystem loads a send request by id with its contact and the contact's
// channel, in one query, for the outbox worker.
func (s *Store) MessageSendWithContactSystem(ctx context.Context, id int64) (*models.MessageSend, *models.Contact, *models.Channel, error) {
	var m models.MessageSend
	c, ch, err := scanContactChannel(s.conn().QueryRowContext(ctx, `SELECT `+messageSendColumns+`, `+contactChannelColumns+`
		FROM message_sends m JOIN contacts ct ON ct.id = m.contact_id JOIN channels ch ON ch.id = ct.channel_id
		WHERE m.id = $1`, id), messageSendDest(&m)...)
	if err != nil {
		return nil, nil, nil, err
	}
	return &m, c, ch, nil
}
