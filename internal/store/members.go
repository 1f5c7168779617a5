package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/omnilink/omnilink/models"
)

// CreateUserToken stores a new account link (its hash).
func (s *Store) CreateUserToken(ctx context.Context, t *models.UserToken) error {
	return s.q(ctx).Create(t).Error
}

// LockUserTokenByHashSystem loads an account link by the hash of its secret and locks it for the rest
// of the transaction, so it can be used once. It is not scoped by team: the secret is the scope.
func (s *Store) LockUserTokenByHashSystem(ctx context.Context, hash string) (*models.UserToken, error) {
	return first[models.UserToken](s.q(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).Where("token_hash = ?", hash))
}

// UserTokenByHashSystem loads an account link by the hash of its secret, to show its page.
func (s *Store) UserTokenByHashSystem(ctx context.Context, hash string) (*models.UserToken, error) {
	return first[models.UserToken](s.q(ctx).Where("token_hash = ?", hash))
}

// MarkUserTokenUsedSystem records that a link was used.
func (s *Store) MarkUserTokenUsedSystem(ctx context.Context, id int64, at time.Time) error {
	return affected(s.q(ctx).Model(&models.UserToken{}).Where("id = ? AND used_at IS NULL", id).Update("used_at", at))
}

// RevokeUserTokensSystem revokes a user's live links, of every purpose when purpose is empty.
func (s *Store) RevokeUserTokensSystem(ctx context.Context, userID int64, purpose models.TokenPurpose, at time.Time) error {
	q := s.q(ctx).Model(&models.UserToken{}).Where("user_id = ? AND used_at IS NULL AND revoked_at IS NULL", userID)
	if purpose != "" {
		q = q.Where("purpose = ?", purpose)
	}
	return q.Update("revoked_at", at).Error
}

// LockTeamUser loads one of a team's users and locks the row for the rest of the transaction.
func (s *Store) LockTeamUser(ctx context.Context, teamID, id int64) (*models.User, error) {
	return first[models.User](s.q(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).Where("team_id = ? AND id = ?", teamID, id))
}

// LockUserForLinkSystem loads the user an account link belongs to, locked; the link is the scope.
func (s *Store) LockUserForLinkSystem(ctx context.Context, id int64) (*models.User, error) {
	return first[models.User](s.q(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", id))
}

// SetUserInvited records when a team member's latest invitation was sent.
func (s *Store) SetUserInvited(ctx context.Context, teamID, id int64, at time.Time) error {
	return affected(s.q(ctx).Model(&models.User{}).Where("team_id = ? AND id = ?", teamID, id).
		Updates(map[string]any{"invited_at": at, "updated_at": at}))
}

// UpdateUserName renames one of a team's users.
func (s *Store) UpdateUserName(ctx context.Context, teamID, id int64, name string) error {
	return affected(s.q(ctx).Model(&models.User{}).Where("team_id = ? AND id = ?", teamID, id).
		Updates(map[string]any{"name": name, "updated_at": time.Now()}))
}

// DeletePendingUser removes one of a team's invited users who has not accepted yet.
func (s *Store) DeletePendingUser(ctx context.Context, teamID, id int64) error {
	return affected(s.q(ctx).Where("team_id = ? AND id = ? AND invite_pending", teamID, id).Delete(&models.User{}))
}

// TeamAlertEmails lists the emails of a team's enabled, joined users holding one of roles.
func (s *Store) TeamAlertEmails(ctx context.Context, teamID int64, roles []models.Role) ([]string, error) {
	var out []string
	if len(roles) == 0 {
		return out, nil
	}
	err := s.q(ctx).Model(&models.User{}).
		Where("team_id = ? AND role IN ? AND disabled_at IS NULL AND NOT invite_pending", teamID, roles).
		Order("id").Pluck("email", &out).Error
	return out, err
}

// UpdateTeamAlerts stores who receives a team's channel alerts.
func (s *Store) UpdateTeamAlerts(ctx context.Context, teamID int64, a models.AlertSettings) error {
	return affected(s.q(ctx).Model(&models.Team{}).Where("id = ?", teamID).
		Updates(map[string]any{"alert_roles": a.Roles, "notification_emails": models.StringList(a.Addresses), "updated_at": time.Now()}))
}

// resetRequest is one forgot-password request.
type resetRequest struct {
	ID        int64
	Email     string
	IP        string
	CreatedAt time.Time
}

// RecordPasswordResetRequest counts one forgot-password request, known email or not.
func (s *Store) RecordPasswordResetRequest(ctx context.Context, email, ip string, at time.Time) error {
	return s.q(ctx).Table("password_reset_requests").Create(&resetRequest{Email: email, IP: ip, CreatedAt: at}).Error
}

// CountPasswordResetRequests counts recent forgot-password requests for an email and for an address.
func (s *Store) CountPasswordResetRequests(ctx context.Context, email, ip string, since time.Time) (byEmail, byIP int64, err error) {
	err = s.q(ctx).Raw(`SELECT
		count(*) FILTER (WHERE email = ?),
		count(*) FILTER (WHERE ip = ?)
		FROM password_reset_requests WHERE created_at > ? AND (email = ? OR ip = ?)`, email, ip, since, email, ip).
		Row().Scan(&byEmail, &byIP)
	return byEmail, byIP, err
}

// PrunePasswordResetRequests drops requests older than the limit's window.
func (s *Store) PrunePasswordResetRequests(ctx context.Context, before time.Time) error {
	return s.q(ctx).Exec("DELETE FROM password_reset_requests WHERE created_at < ?", before).Error
}
