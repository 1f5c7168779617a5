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
