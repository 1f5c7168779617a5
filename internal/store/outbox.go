package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/omnilink/omnilink/models"
)

// EnqueueOutbox inserts an item unless one with the same idempotency key exists; created says
// which happened, so a caller can tell a first request from a repeat.
func (s *Store) EnqueueOutbox(ctx context.Context, it *models.OutboxItem) (created bool, err error) {
	res := s.q(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "idempotency_key"}}, DoNothing: true}).Create(it)
	if res.Error != nil {
		return false, res.Error
	}
	return res.RowsAffected == 1, nil
}

// ClaimOutbox takes up to limit due items of the given kinds for delivery: rows locked by another
// claimer are skipped, and each claimed row is hidden until leaseUntil, so a worker that dies
// mid-delivery hands the item back instead of losing it. An item waits while an earlier item of
// its lane is pending (claimed, retrying or due), so a lane is delivered in order.
func (s *Store) ClaimOutbox(ctx context.Context, kinds []string, now, leaseUntil time.Time, limit int) ([]models.OutboxItem, error) {
	var out []models.OutboxItem
	err := s.q(ctx).Raw(`UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?
		WHERE id IN (
			SELECT id FROM outbox o
			WHERE done_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ? AND kind IN ?
			AND (lane = '' OR NOT EXISTS (SELECT 1 FROM outbox p WHERE p.lane = o.lane AND p.lane <> '' AND p.id < o.id
				AND p.done_at IS NULL AND p.failed_at IS NULL))
			ORDER BY next_attempt_at, id
			LIMIT ?
			FOR UPDATE SKIP LOCKED)
		RETURNING *`, leaseUntil, now, kinds, limit).Scan(&out).Error
	return out, err
}

// CompleteOutboxItems marks items delivered in one statement; every id must be an item not yet
// settled.
func (s *Store) CompleteOutboxItems(ctx context.Context, ids []int64, at time.Time) error {
	res := s.q(ctx).Model(&models.OutboxItem{}).Where("id IN ?", ids).
		Updates(map[string]any{"done_at": at, "last_error": ""})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != int64(len(ids)) {
		return fmt.Errorf("complete outbox items: %d of %d found", res.RowsAffected, len(ids))
	}
	return nil
}

// RetryOutbox records a failed attempt and when to try again.
func (s *Store) RetryOutbox(ctx context.Context, id int64, next time.Time, lastError string) error {
	return affected(s.q(ctx).Model(&models.OutboxItem{}).Where("id = ?", id).
		Updates(map[string]any{"next_attempt_at": next, "last_error": lastError}))
}

// FailOutbox gives up on an item, keeping the error for people to see.
func (s *Store) FailOutbox(ctx context.Context, id int64, at time.Time, lastError string) error {
	return affected(s.q(ctx).Model(&models.OutboxItem{}).Where("id = ?", id).
		Updates(map[string]any{"failed_at": at, "last_error": lastError}))
}

// OutboxByKeys loads the items with the given idempotency keys.
func (s *Store) OutboxByKeys(ctx context.Context, keys []string) ([]models.OutboxItem, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var out []models.OutboxItem
	err := s.q(ctx).Where("idempotency_key IN ?", keys).Find(&out).Error
	return out, err
}

// OutboxItems lists items of a kind, oldest first (operators and tests).
func (s *Store) OutboxItems(ctx context.Context, kind string) ([]models.OutboxItem, error) {
	var out []models.OutboxItem
	err := s.q(ctx).Where("kind = ?", kind).Order("id").Find(&out).Error
	return out, err
}
