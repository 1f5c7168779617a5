package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/omnilink/omnilink/models"
)

// The …ForSweep methods serve the health monitor, which walks every team's channels.

// LockChannelForSweep loads a channel by id and locks its row until the transaction ends; the health
// monitor's state changes serialise on it, whichever replica or code path makes them.
func (s *Store) LockChannelForSweep(ctx context.Context, id int64) (*models.Channel, error) {
	return first[models.Channel](s.q(ctx).Clauses(noKeyUpdate).Where("id = ?", id))
}

// DueChannelsForSweep lists up to limit live channels with id > afterID whose next check is due at now
// (all live channels when force is set), in id order so callers can page through them.
func (s *Store) DueChannelsForSweep(ctx context.Context, now time.Time, force bool, afterID int64, limit int) ([]models.Channel, error) {
	var out []models.Channel
	q := s.q(ctx).Where("status <> ? AND id > ?", models.ChannelDisconnected, afterID)
	if !force {
		q = q.Where("(next_check_at IS NULL OR next_check_at <= ?)", now)
	}
	err := q.Order("id").Limit(limit).Find(&out).Error
	return out, err
}

// ChannelCheck is what one health check writes onto the channel row.
type ChannelCheck struct {
	CheckedAt      *time.Time // nil leaves last_checked_at alone (failures reported by sends)
	NextCheckAt    time.Time
	TokenExpiresAt *time.Time // nil leaves the known expiry alone
}

// RecordChannelCheckForSweep stores when a channel was checked and when it is due again.
func (s *Store) RecordChannelCheckForSweep(ctx context.Context, id int64, c ChannelCheck) error {
	set := map[string]any{"next_check_at": c.NextCheckAt}
	if c.CheckedAt != nil {
		set["last_checked_at"] = *c.CheckedAt
	}
	if c.TokenExpiresAt != nil {
		set["token_expires_at"] = *c.TokenExpiresAt
	}
	return affected(s.q(ctx).Model(&models.Channel{}).Where("id = ?", id).Updates(set))
}

// MarkChannelBrokenForSweep sets a channel invalid with its cause; since and alertedAt keep the episode's
// first values.
func (s *Store) MarkChannelBrokenForSweep(ctx context.Context, id int64, cause models.HealthCause, message string, since time.Time, alertedAt *time.Time, now time.Time) error {
	return affected(s.q(ctx).Model(&models.Channel{}).Where("id = ?", id).Updates(map[string]any{
		"status": models.ChannelInvalid, "status_cause": string(cause), "status_message": message,
		"failing_since": since, "alerted_at": alertedAt, "updated_at": now,
	}))
}

// MarkChannelActiveForSweep clears a channel's failure.
func (s *Store) MarkChannelActiveForSweep(ctx context.Context, id int64, now time.Time) error {
	return affected(s.q(ctx).Model(&models.Channel{}).Where("id = ?", id).Updates(map[string]any{
		"status": models.ChannelActive, "status_cause": "", "status_message": "",
		"failing_since": nil, "alerted_at": nil, "updated_at": now,
	}))
}

// ChannelHealthForSweep loads what the monitor knows about a channel; a zero value when never checked.
func (s *Store) ChannelHealthForSweep(ctx context.Context, channelID int64) (models.ChannelHealth, error) {
	var out []models.ChannelHealth
	if err := s.q(ctx).Where("channel_id = ?", channelID).Limit(1).Find(&out).Error; err != nil {
		return models.ChannelHealth{}, err
	}
	if len(out) == 0 {
		return models.ChannelHealth{ChannelID: channelID, Verdict: models.VerdictUnchecked}, nil
	}
	return out[0], nil
}

// SaveChannelHealth writes the monitor's knowledge about a channel.
func (s *Store) SaveChannelHealth(ctx context.Context, h *models.ChannelHealth) error {
	return s.q(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "channel_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"verdict", "cause", "detail", "transient_failures", "checks", "last_healthy_at", "webhook_resubscribed_at", "expiry_warned_for", "updated_at"}),
	}).Create(h).Error
}

// OpenEpisodeForSweep returns a channel's open failure episode, or ErrNotFound.
func (s *Store) OpenEpisodeForSweep(ctx context.Context, channelID int64) (*models.HealthEpisode, error) {
	return first[models.HealthEpisode](s.q(ctx).Where("channel_id = ? AND closed_at IS NULL", channelID))
}

// CreateEpisode opens a failure episode.
func (s *Store) CreateEpisode(ctx context.Context, e *models.HealthEpisode) error {
	return s.q(ctx).Create(e).Error
}

// UpdateEpisodeCauseForSweep records the latest cause of an open episode.
func (s *Store) UpdateEpisodeCauseForSweep(ctx context.Context, id int64, cause models.HealthCause, message string) error {
	return affected(s.q(ctx).Model(&models.HealthEpisode{}).Where("id = ?", id).
		Updates(map[string]any{"cause": string(cause), "message": message}))
}

// MarkEpisodeAlertQueuedForSweep records that the episode's alert email was queued under key; the
// episode counts as alerted only once that email is delivered (MarkAlertDeliveredForSweep).
func (s *Store) MarkEpisodeAlertQueuedForSweep(ctx context.Context, id int64, key string) error {
	return affected(s.q(ctx).Model(&models.HealthEpisode{}).Where("id = ?", id).
		Updates(map[string]any{"alert_key": key, "alert_skipped": "", "alert_attempts": gorm.Expr("alert_attempts + 1"),
			"alert_failed_at": nil, "alert_error": ""}))
}

// MarkAlertDeliveredForSweep records that the alert email queued under key was delivered: its episodes
// are alerted at that time, their channels too while still broken, and an episode that closed
// in the meantime is owed its "works again" email (unless recovered is false).
func (s *Store) MarkAlertDeliveredForSweep(ctx context.Context, key string, at time.Time, recovered bool) error {
	// Channel rows first, in id order, as every health state change takes them.
	var locked []int64
	if err := s.q(ctx).Raw(`SELECT id FROM channels WHERE id IN (SELECT channel_id FROM health_episodes WHERE alert_key = ?)
		ORDER BY id FOR NO KEY UPDATE`, key).Scan(&locked).Error; err != nil {
		return err
	}
	return s.q(ctx).Exec(`WITH eps AS (
			UPDATE health_episodes SET alerted_at = ?, alert_failed_at = NULL, alert_error = '',
				recovery_pending = recovery_pending OR (closed_at IS NOT NULL AND recovered_alert_key = '' AND ?)
			WHERE alert_key = ? AND alerted_at IS NULL RETURNING channel_id, closed_at)
		UPDATE channels SET alerted_at = ? WHERE id IN (SELECT channel_id FROM eps WHERE closed_at IS NULL) AND status = ?`,
		at, recovered, key, at, models.ChannelInvalid).Error
}

// MarkAlertFailedForSweep records that the alert email queued under key could not be delivered and why;
// its open episodes are owed an alert again (see TeamsWithPendingAlertsForSweep).
func (s *Store) MarkAlertFailedForSweep(ctx context.Context, key string, at time.Time, reason string) error {
	return s.q(ctx).Model(&models.HealthEpisode{}).Where("alert_key = ? AND alerted_at IS NULL", key).
		Updates(map[string]any{"alert_failed_at": at, "alert_error": reason}).Error
}

// MarkEpisodeAlertSkippedForSweep records why an episode has no alert email.
func (s *Store) MarkEpisodeAlertSkippedForSweep(ctx context.Context, id int64, reason string) error {
	return affected(s.q(ctx).Model(&models.HealthEpisode{}).Where("id = ?", id).Update("alert_skipped", reason))
}

// CloseEpisodeForSweep ends an episode; recoveryPending asks for a "works again" email.
func (s *Store) CloseEpisodeForSweep(ctx context.Context, id int64, at time.Time, by string, recoveryPending bool) error {
	return affected(s.q(ctx).Model(&models.HealthEpisode{}).Where("id = ? AND closed_at IS NULL", id).
		Updates(map[string]any{"closed_at": at, "closed_by": by, "recovery_pending": recoveryPending}))
}

// TeamUndeliveredAlerts maps a team's channels whose open episode's alert email failed for good
// (and waits to be sent again) to the reason, for the console banner.
func (s *Store) TeamUndeliveredAlerts(ctx context.Context, teamID int64) (map[int64]string, error) {
	var rows []struct {
		ChannelID  int64
		AlertError string
	}
	err := s.q(ctx).Model(&models.HealthEpisode{}).Select("channel_id, alert_error").
		Where("team_id = ? AND closed_at IS NULL AND alerted_at IS NULL AND alert_failed_at IS NOT NULL", teamID).Scan(&rows).Error
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		out[r.ChannelID] = r.AlertError
	}
	return out, err
}

// pendingAlert is the condition of an open episode whose email is still to be queued: never
// queued, or failed for good before the time bound to it (a later try may succeed once the
// cause, such as a rejected address or a broken SMTP setup, is fixed).
const pendingAlert = "closed_at IS NULL AND alerted_at IS NULL AND alert_skipped = '' AND (alert_key = '' OR alert_failed_at <= ?)"

// TeamsWithPendingAlertsForSweep lists the teams owed a health email: open episodes not yet alerted
// (or whose alert failed before retryFailed), closed ones not yet reported recovered, and live
// channels whose token expires before warnUntil without a warning about that expiry.
func (s *Store) TeamsWithPendingAlertsForSweep(ctx context.Context, now, warnUntil, retryFailed time.Time) ([]int64, error) {
	var out []int64
	err := s.q(ctx).Raw(`SELECT team_id FROM health_episodes WHERE (`+pendingAlert+`) OR recovery_pending
		UNION
		SELECT c.team_id FROM channels c LEFT JOIN channel_health h ON h.channel_id = c.id
		WHERE c.status = ? AND c.token_expires_at > ? AND c.token_expires_at <= ?
		  AND h.expiry_warned_for IS DISTINCT FROM c.token_expires_at
		ORDER BY 1`, retryFailed, models.ChannelActive, now, warnUntil).Scan(&out).Error
	return out, err
}

// LockPendingAlerts locks a team's channels whose open episode awaits its email (channel rows
// first, in the order every health state change takes them) and returns those episodes.
// Channels locked elsewhere are skipped; their own transaction's follow-up picks them up.
func (s *Store) LockPendingAlerts(ctx context.Context, teamID int64, retryFailed time.Time) ([]models.HealthEpisode, error) {
	var ids []int64
	err := s.q(ctx).Raw(`SELECT id FROM channels WHERE team_id = ? AND id IN
		(SELECT channel_id FROM health_episodes WHERE team_id = ? AND `+pendingAlert+`)
		ORDER BY id FOR NO KEY UPDATE SKIP LOCKED`, teamID, teamID, retryFailed).Scan(&ids).Error
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	var out []models.HealthEpisode
	err = s.q(ctx).Where("team_id = ? AND channel_id IN ? AND "+pendingAlert, teamID, ids, retryFailed).Order("id").Find(&out).Error
	return out, err
}

// LockPendingRecoveries locks and returns a team's closed episodes owed a "works again" email.
func (s *Store) LockPendingRecoveries(ctx context.Context, teamID int64) ([]models.HealthEpisode, error) {
	var out []models.HealthEpisode
	err := s.q(ctx).Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}).
		Where("team_id = ? AND recovery_pending", teamID).Order("id").Find(&out).Error
	return out, err
}

// MarkRecoveryAlertedForSweep records that a closed episode's "works again" email was queued (key
// empty: none will be).
func (s *Store) MarkRecoveryAlertedForSweep(ctx context.Context, id int64, key string, at *time.Time) error {
	return affected(s.q(ctx).Model(&models.HealthEpisode{}).Where("id = ?", id).
		Updates(map[string]any{"recovery_pending": false, "recovered_alert_key": key, "recovered_alerted_at": at}))
}

// LockExpiringChannels locks and returns a team's live channels whose token expires in
// (now, warnUntil] and that were not warned about that expiry yet.
func (s *Store) LockExpiringChannels(ctx context.Context, teamID int64, now, warnUntil time.Time) ([]models.Channel, error) {
	var out []models.Channel
	err := s.q(ctx).Raw(`SELECT c.* FROM channels c LEFT JOIN channel_health h ON h.channel_id = c.id
		WHERE c.team_id = ? AND c.status = ? AND c.token_expires_at > ? AND c.token_expires_at <= ?
		  AND h.expiry_warned_for IS DISTINCT FROM c.token_expires_at
		ORDER BY c.id FOR NO KEY UPDATE OF c SKIP LOCKED`, teamID, models.ChannelActive, now, warnUntil).Scan(&out).Error
	return out, err
}

// MarkExpiryWarned records that the channel's token expiry has been warned about.
func (s *Store) MarkExpiryWarned(ctx context.Context, teamID, channelID int64, expires, now time.Time) error {
	// The row is written only for the team's own channel: the insert selects it by team, and
	// the update of an existing row checks the team too.
	return affected(s.q(ctx).Exec(`INSERT INTO channel_health (channel_id, team_id, expiry_warned_for, updated_at)
		SELECT id, team_id, ?, ? FROM channels WHERE id = ? AND team_id = ?
		ON CONFLICT (channel_id) DO UPDATE SET expiry_warned_for = EXCLUDED.expiry_warned_for, updated_at = EXCLUDED.updated_at
		WHERE channel_health.team_id = EXCLUDED.team_id`,
		expires, now, channelID, teamID))
}

// ChannelsByIDs loads a team's channels by id.
func (s *Store) ChannelsByIDs(ctx context.Context, teamID int64, ids []int64) ([]models.Channel, error) {
	var out []models.Channel
	err := s.q(ctx).Where("team_id = ? AND id IN ?", teamID, ids).Order("id").Find(&out).Error
	return out, err
}

// ChannelEpisodes lists a team's channel's latest episodes, newest first.
func (s *Store) ChannelEpisodes(ctx context.Context, teamID, channelID int64, limit int) ([]models.HealthEpisode, error) {
	var out []models.HealthEpisode
	err := s.q(ctx).Where("team_id = ? AND channel_id = ?", teamID, channelID).Order("opened_at DESC, id DESC").Limit(limit).Find(&out).Error
	return out, err
}

// TeamChannelHealth loads the monitor's knowledge about every channel of a team.
func (s *Store) TeamChannelHealth(ctx context.Context, teamID int64) ([]models.ChannelHealth, error) {
	var out []models.ChannelHealth
	err := s.q(ctx).Where("team_id = ?", teamID).Find(&out).Error
	return out, err
}

// TeamEpisodes lists a team's latest episodes over all channels, newest first, at most
// perChannel per channel.
func (s *Store) TeamEpisodes(ctx context.Context, teamID int64, perChannel int) ([]models.HealthEpisode, error) {
	var out []models.HealthEpisode
	err := s.q(ctx).Raw(`SELECT * FROM (
		SELECT e.*, row_number() OVER (PARTITION BY channel_id ORDER BY opened_at DESC, id DESC) AS rn
		FROM health_episodes e WHERE team_id = ?) x WHERE rn <= ? ORDER BY channel_id, opened_at DESC, id DESC`, teamID, perChannel).Scan(&out).Error
	return out, err
}

// AdvisoryLock is a held Postgres session-level advisory lock.
type AdvisoryLock struct {
	conn *sql.Conn
	key  int64
}

// Unlock releases the lock and returns its connection to the pool.
func (l *AdvisoryLock) Unlock() error {
	if l == nil || l.conn == nil {
		return nil
	}
	// A fresh context: the caller's may be cancelled, and an unreleased lock would outlive it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := l.conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", l.key)
	cerr := l.conn.Close()
	l.conn = nil
	if err != nil {
		return err
	}
	return cerr
}

// TryAdvisoryLock takes the advisory lock key on a dedicated connection when it is free; it
// returns nil when another session holds it. The lock dies with the connection, so a crashed
// holder never blocks others for long.
func (s *Store) TryAdvisoryLock(ctx context.Context, key int64) (*AdvisoryLock, error) {
	return s.advisoryLock(ctx, key, "SELECT pg_try_advisory_lock($1)")
}

// WaitAdvisoryLock takes the advisory lock key, waiting for its holder to release it.
func (s *Store) WaitAdvisoryLock(ctx context.Context, key int64) (*AdvisoryLock, error) {
	return s.advisoryLock(ctx, key, "SELECT true FROM pg_advisory_lock($1)")
}

func (s *Store) advisoryLock(ctx context.Context, key int64, query string) (*AdvisoryLock, error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("advisory lock: %w", err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, query, key).Scan(&ok); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("advisory lock: %w", err)
	}
	if !ok {
		_ = conn.Close()
		return nil, nil
	}
	return &AdvisoryLock{conn: conn, key: key}, nil
}

// CloseDisconnectedEpisodesForSweep ends the open episodes of channels that were disconnected since, so
// their failure no longer counts anywhere.
func (s *Store) CloseDisconnectedEpisodesForSweep(ctx context.Context, at time.Time) (int64, error) {
	res := s.q(ctx).Exec(`UPDATE health_episodes SET closed_at = ?, closed_by = ?
		WHERE closed_at IS NULL AND channel_id IN (SELECT id FROM channels WHERE status = ?)`,
		at, models.ClosedByDisconnect, models.ChannelDisconnected)
	return res.RowsAffected, res.Error
}
