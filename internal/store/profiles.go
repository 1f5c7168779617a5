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

// ContactsAwaitingProfileSystem lists up to limit contacts, oldest first and at most perChannel
// of one channel (a channel that refuses cannot hold the others back), whose profile is due at
// now, on channels that are live (a broken channel's contacts wait for its repair).
func (s *Store) ContactsAwaitingProfileSystem(ctx context.Context, now time.Time, perChannel, limit int) ([]ContactAwaitingProfile, error) {
	var rows []struct {
		ContactID      int64
		ExternalUserID string
		ChannelID      int64
	}
	err := s.q(ctx).Raw(`SELECT contact_id, external_user_id, channel_id FROM (
			SELECT c.id AS contact_id, c.external_user_id, c.channel_id,
				row_number() OVER (PARTITION BY c.channel_id ORDER BY c.id) AS rank
			FROM contacts c JOIN channels ch ON ch.id = c.channel_id AND ch.status = ?
			WHERE c.name = '' AND c.profile_read_at IS NULL AND (c.profile_retry_at IS NULL OR c.profile_retry_at <= ?)) x
		WHERE rank <= ? ORDER BY contact_id LIMIT ?`, models.ChannelActive, now, perChannel, limit).Scan(&rows).Error
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
// An empty name records that the profile had none to give. Each statement locks one row, so it
// never waits on a merge holding the other.
func (s *Store) SaveContactProfileSystem(ctx context.Context, contactID int64, name, pictureURL string, at time.Time) error {
	if name != "" {
		if err := s.q(ctx).Exec(`UPDATE customers SET display_name = ?, updated_at = ?
			WHERE id = (SELECT customer_id FROM contacts WHERE id = ? AND name = '') AND display_name = ''`,
			name, at, contactID).Error; err != nil {
			return err
		}
	}
	return s.q(ctx).Exec(`UPDATE contacts SET name = CASE WHEN name = '' THEN ? ELSE name END,
			picture_url = CASE WHEN picture_url = '' THEN ? ELSE picture_url END,
			profile_read_at = ?, updated_at = ?
		WHERE id = ?`, name, pictureURL, at, at, contactID).Error
}

// PostponeContactProfilesSystem counts a failed read of each contact's profile and asks again
// at retryAt; after maxTries the contact is left nameless for good.
func (s *Store) PostponeContactProfilesSystem(ctx context.Context, contactIDs []int64, retryAt, now time.Time, maxTries int) error {
	if len(contactIDs) == 0 {
		return nil
	}
	return s.q(ctx).Exec(`UPDATE contacts SET profile_tries = profile_tries + 1, profile_retry_at = ?,
			profile_read_at = CASE WHEN profile_tries + 1 >= ? THEN ?::timestamptz END
		WHERE id IN ?`, retryAt, maxTries, now, contactIDs).Error
}
