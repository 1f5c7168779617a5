package store

import (
	"context"

	"github.com/omnilink/omnilink/models"
)

// TeamTags lists a team's tags by name.
func (s *Store) TeamTags(ctx context.Context, teamID int64) ([]models.Tag, error) {
	var out []models.Tag
	err := s.q(ctx).Where("team_id = ?", teamID).Order("lower(name), id").Find(&out).Error
	return out, err
}

// TeamTagsByID loads those of ids that are the team's tags.
func (s *Store) TeamTagsByID(ctx context.Context, teamID int64, ids []int64) ([]models.Tag, error) {
	var out []models.Tag
	if len(ids) == 0 {
		return out, nil
	}
	err := s.q(ctx).Where("team_id = ? AND id IN ?", teamID, ids).Find(&out).Error
	return out, err
}

// EnsureTeamTag returns the team's tag with this name (case-insensitive), creating it if needed.
func (s *Store) EnsureTeamTag(ctx context.Context, teamID int64, name string, by int64) (*models.Tag, error) {
	var out []models.Tag
	err := s.q(ctx).Raw(`INSERT INTO tags (team_id, name, created_by) VALUES (?, ?, ?)
		ON CONFLICT (team_id, lower(name)) DO UPDATE SET name = tags.name RETURNING *`, teamID, name, by).Scan(&out).Error
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

// TeamTag loads one of the team's tags.
func (s *Store) TeamTag(ctx context.Context, teamID, id int64) (*models.Tag, error) {
	return first[models.Tag](s.q(ctx).Where("team_id = ? AND id = ?", teamID, id))
}

// CreateTeamTag inserts a tag; a name the team already uses (case-insensitive) is ErrTagTaken.
func (s *Store) CreateTeamTag(ctx context.Context, t *models.Tag) error {
	err := s.q(ctx).Create(t).Error
	if isUniqueViolation(err, "tags_team_name_key") {
		return ErrTagTaken
	}
	return err
}

// RenameTeamTag renames one of the team's tags.
func (s *Store) RenameTeamTag(ctx context.Context, teamID, id int64, name string) error {
	err := affected(s.q(ctx).Model(&models.Tag{}).Where("team_id = ? AND id = ?", teamID, id).Update("name", name))
	if isUniqueViolation(err, "tags_team_name_key") {
		return ErrTagTaken
	}
	return err
}

// DeleteTeamTag deletes one of the team's tags (its contact tags and rules go with it).
func (s *Store) DeleteTeamTag(ctx context.Context, teamID, id int64) error {
	return affected(s.q(ctx).Where("team_id = ? AND id = ?", teamID, id).Delete(&models.Tag{}))
}

// TeamTagRows lists a team's tags with how many contacts carry each and how many rules it has.
func (s *Store) TeamTagRows(ctx context.Context, teamID int64) ([]models.TagRow, error) {
	var out []models.TagRow
	err := s.q(ctx).Raw(`SELECT t.*,
		(SELECT count(*) FROM contact_tags ct WHERE ct.tag_id = t.id) AS contacts,
		(SELECT count(*) FROM tag_rules r WHERE r.tag_id = t.id) AS rules
		FROM tags t WHERE t.team_id = ? ORDER BY lower(t.name), t.id`, teamID).Scan(&out).Error
	return out, err
}
