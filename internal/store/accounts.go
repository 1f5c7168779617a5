package store

import (
	"context"
	"slices"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/models"
)

// ErrEmailTaken is returned when another account already uses the email.
var ErrEmailTaken = apperr.Conflict("email", "error.email_taken")

// CreateTeam inserts a team; a team that names no alert roles gets the default ones.
func (s *Store) CreateTeam(ctx context.Context, t *models.Team) error {
	if t.AlertRoles == nil {
		t.AlertRoles = slices.Clone(models.DefaultAlertRoles)
	}
	return s.q(ctx).Create(t).Error
}

// TeamSystem loads a team by id: the session's team, or the team of a row the caller already holds.
func (s *Store) TeamSystem(ctx context.Context, id int64) (*models.Team, error) {
	return first[models.Team](s.q(ctx).Where("id = ?", id))
}

// CountTeams counts teams, to tell an empty database.
func (s *Store) CountTeams(ctx context.Context) (int64, error) {
	var n int64
	err := s.q(ctx).Model(&models.Team{}).Count(&n).Error
	return n, err
}

// UpdateTeamPlan sets a team's plan status.
func (s *Store) UpdateTeamPlan(ctx context.Context, teamID int64, status models.PlanStatus) error {
	return affected(s.q(ctx).Model(&models.Team{}).Where("id = ?", teamID).
		Updates(map[string]any{"plan_status": status, "updated_at": time.Now()}))
}

// CreateUser inserts a user; ErrEmailTaken when the email is in use.
func (s *Store) CreateUser(ctx context.Context, u *models.User) error {
	err := s.q(ctx).Create(u).Error
	if isUniqueViolation(err, "users_email_key") {
		return ErrEmailTaken
	}
	return err
}

// UserByEmailSystem loads a user for login; it is the one lookup not scoped by team.
func (s *Store) UserByEmailSystem(ctx context.Context, email string) (*models.User, error) {
	return first[models.User](s.q(ctx).Where("email = ?", email))
}

// UserByIDSystem loads the user a session belongs to; the session itself is the scope.
func (s *Store) UserByIDSystem(ctx context.Context, id int64) (*models.User, error) {
	return first[models.User](s.q(ctx).Where("id = ?", id))
}

// TeamUser loads one of a team's users.
func (s *Store) TeamUser(ctx context.Context, teamID, id int64) (*models.User, error) {
	return first[models.User](s.q(ctx).Where("team_id = ? AND id = ?", teamID, id))
}

// TeamUsers lists a team's users, enabled first, then by name.
func (s *Store) TeamUsers(ctx context.Context, teamID int64) ([]models.User, error) {
	var us []models.User
	err := s.q(ctx).Where("team_id = ?", teamID).Order("disabled_at IS NOT NULL, lower(name), id").Find(&us).Error
	return us, err
}

// CountActiveAdmins counts a team's enabled admins, locked for the rest of the transaction
// so two concurrent demotions cannot both pass the last-admin check.
func (s *Store) CountActiveAdmins(ctx context.Context, teamID int64) (int, error) {
	var ids []int64
	err := s.q(ctx).Raw("SELECT id FROM users WHERE team_id = ? AND role = 'admin' AND disabled_at IS NULL FOR UPDATE", teamID).Scan(&ids).Error
	return len(ids), err
}

// UpdateUserRole changes a team member's role.
func (s *Store) UpdateUserRole(ctx context.Context, teamID, id int64, role models.Role) error {
	return affected(s.q(ctx).Model(&models.User{}).Where("team_id = ? AND id = ?", teamID, id).
		Updates(map[string]any{"role": role, "updated_at": time.Now()}))
}

// SetUserDisabled switches a team member off (at the given time) or back on (nil).
func (s *Store) SetUserDisabled(ctx context.Context, teamID, id int64, at *time.Time) error {
	return affected(s.q(ctx).Model(&models.User{}).Where("team_id = ? AND id = ?", teamID, id).
		Updates(map[string]any{"disabled_at": at, "updated_at": time.Now()}))
}

// SetUserLocaleSystem stores a user's language choice.
func (s *Store) SetUserLocaleSystem(ctx context.Context, id int64, locale string) error {
	return affected(s.q(ctx).Model(&models.User{}).Where("id = ?", id).
		Updates(map[string]any{"locale": locale, "updated_at": time.Now()}))
}

// SetUserPasswordSystem replaces a user's password hash; a member who chooses a password has joined.
func (s *Store) SetUserPasswordSystem(ctx context.Context, id int64, hash string) error {
	return affected(s.q(ctx).Model(&models.User{}).Where("id = ?", id).
		Updates(map[string]any{"password_hash": hash, "invite_pending": false, "updated_at": time.Now()}))
}

// TouchLoginSystem records a successful login time.
func (s *Store) TouchLoginSystem(ctx context.Context, id int64, at time.Time) error {
	return s.q(ctx).Model(&models.User{}).Where("id = ?", id).Update("last_login_at", at).Error
}

// AddAudit appends an audit entry.
func (s *Store) AddAudit(ctx context.Context, e *models.AuditEntry) error {
	return s.q(ctx).Create(e).Error
}

// TeamAudit lists a team's newest audit entries.
func (s *Store) TeamAudit(ctx context.Context, teamID int64, limit int) ([]models.AuditEntry, error) {
	var es []models.AuditEntry
	err := s.q(ctx).Where("team_id = ?", teamID).Order("id DESC").Limit(limit).Find(&es).Error
	return es, err
}

// UpdateTeamSettings changes a team's name and time zone.
func (s *Store) UpdateTeamSettings(ctx context.Context, teamID int64, name string, zone models.TimeZone) error {
	return affected(s.q(ctx).Model(&models.Team{}).Where("id = ?", teamID).
		Updates(map[string]any{"name": name, "time_zone": string(zone), "updated_at": time.Now()}))
}
