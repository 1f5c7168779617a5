package store

import (
	"context"
	"time"

	"github.com/omnilink/omnilink/models"
)

// ContactAwaitingProfile is a contact made without a name, with its live channel.
type ContactAwaitingProfile struct {
	ContactID      int64
	ExternalUserID string
	Channel        models.Channel
}

// ContactsAwaitingProfileSystem lists up to limit contacts, oldest first, whose profile was
// never read, on channels that are live (a broken channel's contacts wait for its repair).
func (s *Store) ContactsAwaitingProfileSystem(ctx context.Context, limit int) ([]ContactAwaitingProfile, error) {
	var rows []struct {
		ContactID      int64
		ExternalUserID string
		ChannelID      int64
	}
	err := s.q(ctx).Raw(`SELECT c.id AS contact_id, c.external_user_id, c.channel_id FROM contacts c
		JOIN channels ch ON ch.id = c.channel_id AND ch.status = ?
		WHERE c.name = '' AND c.profile_read_at IS NULL ORDER BY c.id LIMIT ?`, models.ChannelActive, limit).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.ChannelID)
	}
	var chans []models.Channel
	if err := s.q(ctx).Where("id IN ?", ids).Find(&chans).Error; err != nil {
		return nil, err
	}
	byID := make(map[int64]models.Channel, len(chans))
	for _, ch := range chans {
		byID[ch.ID] = ch
	}
	out := make([]ContactAwaitingProfile, 0, len(rows))
	for _, r := range rows {
		out = append(out, ContactAwaitingProfile{ContactID: r.ContactID, ExternalUserID: r.ExternalUserID, Channel: byID[r.ChannelID]})
	}
	return out, nil
}

// SaveContactProfileSystem records a read of a contact's profile: the name and picture fill
// what is still empty (a name typed meanwhile stays), and so does the customer's display name.
// An empty name records that the profile had none to give.
func (s *Store) SaveContactProfileSystem(ctx context.Context, contactID int64, name, pictureURL string, at time.Time) error {
	return s.q(ctx).Exec(`WITH c AS (
			UPDATE contacts SET name = CASE WHEN name = '' THEN ? ELSE name END,
				picture_url = CASE WHEN picture_url = '' THEN ? ELSE picture_url END,
				profile_read_at = ?, updated_at = ?
			WHERE id = ? RETURNING customer_id, name)
		UPDATE customers SET display_name = c.name FROM c
		WHERE customers.id = c.customer_id AND customers.display_name = '' AND c.name <> ''`,
		name, pictureURL, at, at, contactID).Error
}
