package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/omnilink/omnilink/models"
)

// TeamTagRules lists the rules of one of the team's tags, highest priority first.
func (s *Store) TeamTagRules(ctx context.Context, teamID, tagID int64) ([]models.TagRule, error) {
	var out []models.TagRule
	err := s.q(ctx).Where("team_id = ? AND tag_id = ?", teamID, tagID).Order("priority DESC, id").Find(&out).Error
	return out, err
}

// TeamTagRule loads one of the team's rules.
func (s *Store) TeamTagRule(ctx context.Context, teamID, id int64) (*models.TagRule, error) {
	return first[models.TagRule](s.q(ctx).Where("team_id = ? AND id = ?", teamID, id))
}

// CreateTagRule inserts a rule; the caller checked its tag, journey or channel belong to the team.
func (s *Store) CreateTagRule(ctx context.Context, r *models.TagRule) error {
	return s.q(ctx).Create(r).Error
}

// DeleteTeamTagRule deletes one of the team's rules.
func (s *Store) DeleteTeamTagRule(ctx context.Context, teamID, id int64) error {
	return affected(s.q(ctx).Where("team_id = ? AND id = ?", teamID, id).Delete(&models.TagRule{}))
}

// SetRuleMenuMissingSystem marks (at non-nil) or clears whether LINE still has a rule's menu.
func (s *Store) SetRuleMenuMissingSystem(ctx context.Context, id int64, at *time.Time) error {
	return s.q(ctx).Model(&models.TagRule{}).Where("id = ?", id).Update("menu_missing_at", at).Error
}

// JourneyRulesForTags lists the journeys the team's rules start for any of the tags.
func (s *Store) JourneyRulesForTags(ctx context.Context, teamID int64, tagIDs []int64) ([]int64, error) {
	var out []int64
	if len(tagIDs) == 0 {
		return out, nil
	}
	err := s.q(ctx).Raw(`SELECT DISTINCT journey_id FROM tag_rules WHERE team_id = ? AND action = 'journey' AND tag_id IN ?`, teamID, tagIDs).Scan(&out).Error
	return out, err
}

// WinningRichMenuRule is the highest-priority usable rich-menu rule on a channel among the
// contact's tags, or nil when none applies (the default menu).
func (s *Store) WinningRichMenuRule(ctx context.Context, teamID, contactID, channelID int64) (*models.TagRule, error) {
	var out []models.TagRule
	err := s.q(ctx).Raw(`SELECT r.* FROM tag_rules r JOIN contact_tags ct ON ct.tag_id = r.tag_id AND ct.contact_id = ?
		WHERE r.team_id = ? AND r.action = 'rich_menu' AND r.channel_id = ? AND r.menu_missing_at IS NULL
		ORDER BY r.priority DESC, r.id LIMIT 1`, contactID, teamID, channelID).Scan(&out).Error
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return &out[0], nil
}

// LockContactRichMenu loads a contact's rich-menu row for update, or ErrNotFound.
func (s *Store) LockContactRichMenu(ctx context.Context, contactID int64) (*models.ContactRichMenu, error) {
	return first[models.ContactRichMenu](s.q(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).Where("contact_id = ?", contactID))
}

// ContactRichMenu loads a contact's rich-menu row, or ErrNotFound.
func (s *Store) ContactRichMenu(ctx context.Context, contactID int64) (*models.ContactRichMenu, error) {
	return first[models.ContactRichMenu](s.q(ctx).Where("contact_id = ?", contactID))
}

// SaveContactRichMenu inserts or replaces a contact's rich-menu row.
func (s *Store) SaveContactRichMenu(ctx context.Context, m *models.ContactRichMenu) error {
	return s.q(ctx).Save(m).Error
}

// RichMenusToRetryOnChannel lists the contacts of a channel whose rich menu LINE has not taken.
func (s *Store) RichMenusToRetryOnChannel(ctx context.Context, channelID int64) ([]models.ContactRichMenu, error) {
	var out []models.ContactRichMenu
	err := s.q(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).Where("channel_id = ? AND status <> ?", channelID, models.RichMenuApplied).Order("contact_id").Find(&out).Error
	return out, err
}

// ContactsWithTagOnChannel lists the team's contacts on a channel that carry a tag,
// so a changed rule can be re-evaluated for each.
func (s *Store) ContactsWithTagOnChannel(ctx context.Context, teamID, tagID, channelID int64) ([]int64, error) {
	var out []int64
	err := s.q(ctx).Raw(`SELECT ct.contact_id FROM contact_tags ct JOIN contacts c ON c.id = ct.contact_id
		WHERE ct.team_id = ? AND ct.tag_id = ? AND c.channel_id = ? ORDER BY ct.contact_id`, teamID, tagID, channelID).Scan(&out).Error
	return out, err
}
