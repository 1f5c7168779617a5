package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// SessionRow is a server-side session, keyed by the hash of its cookie token.
type SessionRow struct {
	ID         string
	UserID     *int64
	Data       []byte
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// TableName maps SessionRow to the sessions table.
func (SessionRow) TableName() string { return "sessions" }

// Session loads a live session.
func (s *Store) Session(ctx context.Context, id string, now time.Time) (*SessionRow, error) {
	return first[SessionRow](s.q(ctx).Where("id = ? AND expires_at > ?", id, now))
}

// SaveSession inserts or replaces a session.
func (s *Store) SaveSession(ctx context.Context, row *SessionRow) error {
	return s.q(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"user_id", "data", "last_seen_at", "expires_at"}),
	}).Create(row).Error
}

// TouchSession records activity on a session, for idle expiry.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	return s.q(ctx).Exec("UPDATE sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?", at, id, at).Error
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.q(ctx).Where("id = ?", id).Delete(&SessionRow{}).Error
}

// DeleteUserSessions ends every session of a user.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) error {
	return s.q(ctx).Where("user_id = ?", userID).Delete(&SessionRow{}).Error
}

// DeleteExpiredSessions removes sessions past their expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res := s.q(ctx).Where("expires_at <= ?", now).Delete(&SessionRow{})
	return res.RowsAffected, res.Error
}

// loginFailure is one failed login attempt.
type loginFailure struct {
	ID        int64
	Email     string
	IP        string
	CreatedAt time.Time
}

// Advisory lock namespaces for login throttling (the first key of pg_advisory_xact_lock(int, int)).
const (
	lockLoginEmail = 7301
	lockLoginIP    = 7302
)

// ReserveLoginAttempt records an attempt as a failure before its password is checked, unless
// the email already has maxEmail failures since since, or the address maxIP; ok tells which.
// The count and the insert run under transaction locks on the email and on the address, so
// parallel attempts queue instead of all reading the same count. A correct password later
// clears the account's failures (ClearLoginFailures), this reservation with them.
func (s *Store) ReserveLoginAttempt(ctx context.Context, email, ip string, at, since time.Time, maxEmail, maxIP int64) (ok bool, err error) {
	err = s.WithTx(ctx, func(tx *Store) error {
		// Email first, then address, always: one order, so no two attempts wait on each other.
		if err := tx.q(ctx).Exec("SELECT pg_advisory_xact_lock(?, hashtext(?))", lockLoginEmail, email).Error; err != nil {
			return err
		}
		if err := tx.q(ctx).Exec("SELECT pg_advisory_xact_lock(?, hashtext(?))", lockLoginIP, ip).Error; err != nil {
			return err
		}
		byEmail, byIP, err := tx.CountLoginFailures(ctx, email, ip, since)
		if err != nil {
			return err
		}
		if byEmail >= maxEmail || byIP >= maxIP {
			return nil
		}
		ok = true
		return tx.RecordLoginFailure(ctx, email, ip, at)
	})
	return ok, err
}

// RecordLoginFailure counts one failed attempt.
func (s *Store) RecordLoginFailure(ctx context.Context, email, ip string, at time.Time) error {
	return s.q(ctx).Table("login_failures").Create(&loginFailure{Email: email, IP: ip, CreatedAt: at}).Error
}

// CountLoginFailures counts recent failures for an email and for an address.
func (s *Store) CountLoginFailures(ctx context.Context, email, ip string, since time.Time) (byEmail, byIP int64, err error) {
	err = s.q(ctx).Raw(`SELECT
		count(*) FILTER (WHERE email = ?),
		count(*) FILTER (WHERE ip = ?)
		FROM login_failures WHERE created_at > ? AND (email = ? OR ip = ?)`, email, ip, since, email, ip).
		Row().Scan(&byEmail, &byIP)
	return byEmail, byIP, err
}

// ClearLoginFailures forgets an account's failures after a successful login.
func (s *Store) ClearLoginFailures(ctx context.Context, email string) error {
	return s.q(ctx).Exec("DELETE FROM login_failures WHERE email = ?", email).Error
}

// PruneLoginFailures drops failures older than the throttle window.
func (s *Store) PruneLoginFailures(ctx context.Context, before time.Time) error {
	return s.q(ctx).Exec("DELETE FROM login_failures WHERE created_at < ?", before).Error
}
