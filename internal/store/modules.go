package store

import (
	"context"
	"fmt"
	"time"

	"github.com/omnilink/omnilink/models"
)

// CreateModule inserts a team's bot module.
func (s *Store) CreateModule(ctx context.Context, m *models.Module) error {
	return s.q(ctx).Create(m).Error
}

// TeamModule loads one of a team's bot modules; another team's id is ErrNotFound.
func (s *Store) TeamModule(ctx context.Context, teamID, id int64) (*models.Module, error) {
	return first[models.Module](s.q(ctx).Where("team_id = ? AND id = ?", teamID, id))
}

// TeamModules lists a team's bot modules by name, only those of p when p is set.
func (s *Store) TeamModules(ctx context.Context, teamID int64, p models.Platform) ([]models.Module, error) {
	var out []models.Module
	q := s.q(ctx).Where("team_id = ?", teamID)
	if p != "" {
		q = q.Where("platform = ?", p)
	}
	err := q.Order("lower(name), id").Find(&out).Error
	return out, err
}

// TeamModulesByID loads those of ids that are the team's modules.
func (s *Store) TeamModulesByID(ctx context.Context, teamID int64, ids []int64) ([]models.Module, error) {
	var out []models.Module
	if len(ids) == 0 {
		return out, nil
	}
	err := s.q(ctx).Where("team_id = ? AND id IN ?", teamID, ids).Find(&out).Error
	return out, err
}

// UpdateModule rewrites a team's module's name and blocks; its platform never changes.
func (s *Store) UpdateModule(ctx context.Context, m *models.Module) error {
	m.UpdatedAt = time.Now()
	return affected(s.q(ctx).Model(&models.Module{}).Where("team_id = ? AND id = ?", m.TeamID, m.ID).
		Updates(map[string]any{"name": m.Name, "blocks": m.Blocks, "updated_at": m.UpdatedAt}))
}

// DeleteModule removes one of a team's modules.
func (s *Store) DeleteModule(ctx context.Context, teamID, id int64) error {
	return affected(s.q(ctx).Where("team_id = ? AND id = ?", teamID, id).Delete(&models.Module{}))
}

// TeamModuleUses lists what in the team uses a module: live campaigns (success and failure
// messages), triggers, and other modules whose buttons send it.
func (s *Store) TeamModuleUses(ctx context.Context, teamID, id int64) ([]models.ModuleUse, error) {
	var out []models.ModuleUse
	err := s.q(ctx).Raw(`
		SELECT 'campaign' AS kind, id, name FROM campaigns
		 WHERE team_id = ? AND deleted_at IS NULL
		   AND (success_source_module_id = ? AND success_source_kind = 'module'
		     OR success_target_module_id = ? AND success_target_kind = 'module'
		     OR failure_source_module_id = ? AND failure_source_kind = 'module')
		UNION ALL
		SELECT 'trigger', t.id, c.display_name || ' · ' || CASE WHEN t.kind = 'no_match' THEN '*' ELSE t.pattern END
		  FROM triggers t JOIN channels c ON c.id = t.channel_id
		 WHERE t.team_id = ? AND t.module_id = ?
		UNION ALL
		SELECT 'module', id, name FROM bot_modules
		 WHERE team_id = ? AND id <> ? AND blocks @> ?::jsonb
		ORDER BY 1, 3`, teamID, id, id, id, teamID, id, teamID, id,
		fmt.Sprintf(`[{"buttons":[{"payload":%q}]}]`, models.ModulePayload(id))).Scan(&out).Error
	return out, err
}

// TeamCampaignNames maps those of ids that are the team's live campaigns to their names.
func (s *Store) TeamCampaignNames(ctx context.Context, teamID int64, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID   int64
		Name string
	}
	err := s.q(ctx).Raw(`SELECT id, name FROM campaigns WHERE team_id = ? AND id IN ? AND deleted_at IS NULL`, teamID, ids).Scan(&rows).Error
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, err
}
