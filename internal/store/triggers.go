package store

import (
	"context"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/models"
)

// ErrTriggerTaken is returned when the channel already has a trigger for the same keyword.
var ErrTriggerTaken = apperr.Conflict("pattern", "triggers.error_taken")

// CreateTrigger inserts a team's trigger; the same keyword twice on a channel is ErrTriggerTaken.
func (s *Store) CreateTrigger(ctx context.Context, t *models.Trigger) error {
	err := s.q(ctx).Create(t).Error
	if isUniqueViolation(err, "triggers_channel_pattern_key") {
		return ErrTriggerTaken
	}
	return err
}

// TeamTriggers lists a team's triggers with channel and module names, by channel then pattern.
func (s *Store) TeamTriggers(ctx context.Context, teamID int64) ([]models.TriggerRow, error) {
	var out []models.TriggerRow
	err := s.q(ctx).Raw(`SELECT t.*, c.display_name AS channel_name, c.platform AS channel_platform, m.name AS module_name
		FROM triggers t JOIN channels c ON c.id = t.channel_id JOIN bot_modules m ON m.id = t.module_id
		WHERE t.team_id = ? ORDER BY c.display_name, t.channel_id, t.kind, t.normalized, t.id`, teamID).Scan(&out).Error
	return out, err
}

// DeleteTrigger removes one of a team's triggers.
func (s *Store) DeleteTrigger(ctx context.Context, teamID, id int64) error {
	return affected(s.q(ctx).Where("team_id = ? AND id = ?", teamID, id).Delete(&models.Trigger{}))
}

// TeamChannelTriggers lists the triggers of one of a team's channels.
func (s *Store) TeamChannelTriggers(ctx context.Context, teamID, channelID int64) ([]models.Trigger, error) {
	var out []models.Trigger
	err := s.q(ctx).Where("team_id = ? AND channel_id = ?", teamID, channelID).Order("id").Find(&out).Error
	return out, err
}

// CountTeamSendsByCausePrefix counts the sends to one of a team's contacts since a time whose
// cause starts with prefix (e.g. the trigger replies of the last minute).
func (s *Store) CountTeamSendsByCausePrefix(ctx context.Context, teamID, contactID int64, prefix string, since time.Time) (int64, error) {
	var n int64
	err := s.q(ctx).Model(&models.MessageSend{}).
		Where("team_id = ? AND contact_id = ? AND cause LIKE ? AND created_at >= ?", teamID, contactID, prefix+"%", since).Count(&n).Error
	return n, err
}
