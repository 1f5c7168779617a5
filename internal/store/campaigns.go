package store

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/models"
)

// ErrStale is returned when a campaign changed since the version the writer loaded.
var ErrStale = apperr.Conflict("version", "campaigns.error_stale")

// CreateCampaign inserts a campaign at version 1.
func (s *Store) CreateCampaign(ctx context.Context, c *models.Campaign) error {
	c.Version = 1
	return s.q(ctx).Create(c).Error
}

// Campaign loads one of a team's campaigns that is not deleted.
func (s *Store) Campaign(ctx context.Context, teamID, id int64) (*models.Campaign, error) {
	return first[models.Campaign](s.q(ctx).Where("team_id = ? AND id = ? AND deleted_at IS NULL", teamID, id))
}

// CampaignWithRowVersion is Campaign with the row's version in Postgres (its xmin), which
// changes with every write to the row, however it is made: a cache key for the campaign.
func (s *Store) CampaignWithRowVersion(ctx context.Context, teamID, id int64) (*models.Campaign, int64, error) {
	var out []struct {
		models.Campaign
		RowVersion int64
	}
	err := s.q(ctx).Raw(`SELECT *, xmin::text::bigint AS row_version FROM campaigns WHERE team_id = ? AND id = ? AND deleted_at IS NULL`,
		teamID, id).Scan(&out).Error
	if err != nil {
		return nil, 0, err
	}
	if len(out) == 0 {
		return nil, 0, ErrNotFound
	}
	return &out[0].Campaign, out[0].RowVersion, nil
}

// UpdateCampaign writes a team's campaign if it is still at version expect, and bumps the
// version; ErrStale when someone saved in between, ErrNotFound when it is gone.
func (s *Store) UpdateCampaign(ctx context.Context, c *models.Campaign, expect int) error {
	c.UpdatedAt = time.Now()
	c.Version = expect + 1
	res := s.q(ctx).Model(&models.Campaign{}).
		Where("team_id = ? AND id = ? AND version = ? AND deleted_at IS NULL", c.TeamID, c.ID, expect).
		Select("*").Omit("id", "team_id", "created_at", "created_by", "deleted_at").Updates(c)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		if _, err := s.Campaign(ctx, c.TeamID, c.ID); err != nil {
			return err
		}
		return ErrStale
	}
	return nil
}

// CampaignForUpdate loads one of a team's live campaigns and locks it until the transaction ends.
func (s *Store) CampaignForUpdate(ctx context.Context, teamID, id int64) (*models.Campaign, error) {
	return first[models.Campaign](s.q(ctx).Clauses(noKeyUpdate).Where("team_id = ? AND id = ? AND deleted_at IS NULL", teamID, id))
}

// SetCampaignStatus enables or disables one of a team's campaigns and bumps its version.
func (s *Store) SetCampaignStatus(ctx context.Context, teamID, id int64, status models.CampaignStatus, by int64) error {
	return affected(s.q(ctx).Model(&models.Campaign{}).Where("team_id = ? AND id = ? AND deleted_at IS NULL", teamID, id).
		Updates(map[string]any{"status": status, "version": gorm.Expr("version + 1"), "updated_by": by, "updated_at": time.Now()}))
}

// SoftDeleteCampaign hides one of a team's campaigns; its statistics stay.
func (s *Store) SoftDeleteCampaign(ctx context.Context, teamID, id int64, by int64) error {
	now := time.Now()
	return affected(s.q(ctx).Model(&models.Campaign{}).Where("team_id = ? AND id = ? AND deleted_at IS NULL", teamID, id).
		Updates(map[string]any{"deleted_at": now, "version": gorm.Expr("version + 1"), "updated_by": by, "updated_at": now}))
}

// TeamCampaigns lists a team's live campaigns, newest change first, with channel and author names.
func (s *Store) TeamCampaigns(ctx context.Context, teamID int64, f models.CampaignFilter) ([]models.CampaignRow, error) {
	q := s.q(ctx).Table("campaigns c").
		Select(`c.*, sc.platform AS source_platform, sc.display_name AS source_name, sc.status AS source_status,
			tc.platform AS target_platform, tc.display_name AS target_name, tc.status AS target_status,
			COALESCE(u.name, '') AS creator_name,
			st.participants, st.successes, st.failures`).
		Joins("JOIN channels sc ON sc.id = c.source_channel_id").
		Joins("JOIN channels tc ON tc.id = c.target_channel_id").
		Joins("LEFT JOIN users u ON u.id = c.created_by").
		// A participant is an attempt whose card was clicked (the first click is participation);
		// every participant not linked counts as a failure, as on the statistics page, whose
		// hourly counters these are too.
		Joins(`CROSS JOIN LATERAL (SELECT coalesce(sum(x.n), 0) AS participants,
			coalesce(sum(x.n) FILTER (WHERE x.status = 'linked'), 0) AS successes,
			coalesce(sum(x.n) FILTER (WHERE x.status <> 'linked'), 0) AS failures
			FROM link_stats_clicks x WHERE x.campaign_id = c.id) st`).
		Where("c.team_id = ? AND c.deleted_at IS NULL", teamID)
	if qs := strings.TrimSpace(f.Query); qs != "" {
		q = q.Where("c.name ILIKE ?", "%"+escapeLike(qs)+"%")
	}
	if f.Status != "" {
		q = q.Where("c.status = ?", f.Status)
	}
	if f.ChannelID != 0 {
		q = q.Where("(c.source_channel_id = ? OR c.target_channel_id = ?)", f.ChannelID, f.ChannelID)
	}
	var out []models.CampaignRow
	err := q.Order("c.updated_at DESC, c.id DESC").Scan(&out).Error
	return out, err
}

// CountTeamCampaigns counts a team's live campaigns (for the first-time empty state).
func (s *Store) CountTeamCampaigns(ctx context.Context, teamID int64) (int64, error) {
	var n int64
	err := s.q(ctx).Model(&models.Campaign{}).Where("team_id = ? AND deleted_at IS NULL", teamID).Count(&n).Error
	return n, err
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// TeamAuditVersionsAfter lists a team's audit entries about one target that record a version
// after since (the edits a stale form missed), newest first, however much else was logged since.
func (s *Store) TeamAuditVersionsAfter(ctx context.Context, teamID int64, target string, since int) ([]models.AuditRow, error) {
	var out []models.AuditRow
	err := s.q(ctx).Table("audit_log a").Select("a.*, COALESCE(u.name, '') AS actor_name").
		Joins("LEFT JOIN users u ON u.id = a.actor_user_id").
		Where("a.team_id = ? AND a.target = ? AND CASE WHEN jsonb_typeof(a.detail->'version') = 'number' THEN (a.detail->>'version')::numeric > ? ELSE false END", teamID, target, since).
		Order("a.created_at DESC, a.id DESC").Limit(50).Scan(&out).Error
	return out, err
}

// TeamAuditFor lists a team's audit entries about one target, newest first.
func (s *Store) TeamAuditFor(ctx context.Context, teamID int64, target string, limit int) ([]models.AuditRow, error) {
	var out []models.AuditRow
	err := s.q(ctx).Table("audit_log a").Select("a.*, COALESCE(u.name, '') AS actor_name").
		Joins("LEFT JOIN users u ON u.id = a.actor_user_id").
		Where("a.team_id = ? AND a.target = ?", teamID, target).
		Order("a.created_at DESC, a.id DESC").Limit(limit).Scan(&out).Error
	return out, err
}
