package store

import (
	"context"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/models"
)

// ErrTagTaken is a tag name the team already uses.
var ErrTagTaken = apperr.Conflict("name", "tags.error.name_taken")

// AddContactTags puts the team's tags on a contact unless they are there already and returns the
// ids that were new; ids of other teams' tags are ignored (the caller checks them first).
func (s *Store) AddContactTags(ctx context.Context, teamID, contactID int64, tagIDs []int64, source models.TagSource, sourceID *int64, at time.Time) ([]int64, error) {
	if len(tagIDs) == 0 {
		return nil, nil
	}
	var added []int64
	err := s.q(ctx).Raw(`INSERT INTO contact_tags (team_id, contact_id, tag_id, source, source_id, applied_at)
		SELECT ?, ?, t.id, ?, ?, ? FROM tags t WHERE t.team_id = ? AND t.id IN ? ORDER BY t.id
		ON CONFLICT (contact_id, tag_id) DO NOTHING RETURNING tag_id`,
		teamID, contactID, source, sourceID, at, teamID, tagIDs).Scan(&added).Error
	return added, err
}

// RemoveContactTag takes a tag off one of the team's contacts; removed is false when it was not there.
func (s *Store) RemoveContactTag(ctx context.Context, teamID, contactID, tagID int64) (removed bool, err error) {
	res := s.q(ctx).Exec(`DELETE FROM contact_tags WHERE team_id = ? AND contact_id = ? AND tag_id = ?`, teamID, contactID, tagID)
	return res.RowsAffected > 0, res.Error
}

// ContactTagIDs lists the ids of the tags on one of the team's contacts.
func (s *Store) ContactTagIDs(ctx context.Context, teamID, contactID int64) ([]int64, error) {
	var out []int64
	err := s.q(ctx).Raw(`SELECT tag_id FROM contact_tags WHERE team_id = ? AND contact_id = ? ORDER BY tag_id`, teamID, contactID).Scan(&out).Error
	return out, err
}

// TeamTaggedContacts lists the team's contacts carrying a tag, most recently tagged first.
func (s *Store) TeamTaggedContacts(ctx context.Context, teamID, tagID int64, limit int) ([]models.TaggedContact, error) {
	var out []models.TaggedContact
	err := s.q(ctx).Raw(`SELECT c.id AS contact_id, c.channel_id, ch.display_name AS channel_name, ch.platform,
			c.name, c.external_user_id AS external_id, ct.source, ct.source_id, ct.applied_at,
			coalesce(m.status, '') AS menu_status, coalesce(m.error, '') AS menu_error
		FROM contact_tags ct JOIN contacts c ON c.id = ct.contact_id JOIN channels ch ON ch.id = c.channel_id
		LEFT JOIN contact_rich_menus m ON m.contact_id = c.id
		WHERE ct.team_id = ? AND ct.tag_id = ? ORDER BY ct.applied_at DESC, c.id LIMIT ?`, teamID, tagID, limit).Scan(&out).Error
	return out, err
}

// ContactChoice is a contact offered in a picker.
type ContactChoice struct {
	ID          int64
	Name        string
	ExternalID  string
	ChannelName string
	Platform    models.Platform
}

// TeamContactChoices lists the team's contacts for a picker, newest first.
func (s *Store) TeamContactChoices(ctx context.Context, teamID int64, limit int) ([]ContactChoice, error) {
	var out []ContactChoice
	err := s.q(ctx).Raw(`SELECT c.id, c.name, c.external_user_id AS external_id, ch.display_name AS channel_name, ch.platform
		FROM contacts c JOIN channels ch ON ch.id = c.channel_id
		WHERE c.team_id = ? AND ch.status <> 'disconnected' ORDER BY c.updated_at DESC, c.id DESC LIMIT ?`, teamID, limit).Scan(&out).Error
	return out, err
}

// CustomerContactOnChannel finds the contact of the same customer on a channel; the contact
// itself when it is on that channel.
func (s *Store) CustomerContactOnChannel(ctx context.Context, teamID int64, c *models.Contact, channelID int64) (*models.Contact, error) {
	if c.ChannelID == channelID {
		return c, nil
	}
	if c.CustomerID == nil {
		return nil, ErrNotFound
	}
	return first[models.Contact](s.q(ctx).Where("team_id = ? AND customer_id = ? AND channel_id = ?", teamID, *c.CustomerID, channelID).Order("id"))
}
