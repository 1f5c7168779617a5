// Package accounts handles logins and a team's user management.
package accounts

import (
	"context"
	"errors"
	"net/http"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Throttle limits: failures counted within Window per account and per client address.
const (
	Window        = 15 * time.Minute
	MaxPerAccount = 5
	MaxPerAddress = 30
	DefaultBCCost = 12
	auditRole     = "user.role_changed"
	auditDisabled = "user.disabled"
	auditEnabled  = "user.enabled"
)

// Errors a login or a user change may answer with.
var (
	// ErrBadCredentials is the one answer for unknown email, wrong password and disabled account,
	// so the form never reveals which emails exist.
	ErrBadCredentials = &apperr.Error{Status: http.StatusUnauthorized, Key: "login.invalid"}
	ErrSelfChange     = apperr.Forbidden("users.error_self")
	ErrLastAdmin      = apperr.Forbidden("users.error_last_admin")
	ErrCannotGrant    = apperr.Forbidden("users.error_cannot_grant")
)

// Service is the accounts service.
type Service struct {
	st     *store.Store
	cost   int
	now    func() time.Time
	dummy  []byte
	prefix string
	mail   Mail
}

// New builds the service; cost is the bcrypt cost (tests use bcrypt.MinCost).
func New(st *store.Store, cost int, now func() time.Time) *Service {
	if cost == 0 {
		cost = DefaultBCCost
	}
	if now == nil {
		now = time.Now
	}
	// A hash to compare against when the email is unknown, so both paths take the same time.
	dummy, _ := bcrypt.GenerateFromPassword([]byte("omnilink-timing-equaliser"), cost)
	return &Service{st: st, cost: cost, now: now, dummy: dummy}
}

// HashPassword hashes a password with the service's bcrypt cost; a password outside the rules
// (models.PasswordProblem) is refused as a field error, never handed to bcrypt.
func (s *Service) HashPassword(p string) (string, error) {
	if key := models.PasswordProblem(p); key != "" {
		return "", apperr.Invalid("password", key)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(p), s.cost)
	return string(h), err
}

// Login checks a password, applying the throttle before anything else: the attempt is counted
// as a failure before bcrypt runs, so parallel guesses cannot all slip under the limit.
func (s *Service) Login(ctx context.Context, email, password, ip string) (*models.User, error) {
	email = models.NormalizeEmail(email)
	now := s.now()
	ok, err := s.st.ReserveLoginAttempt(ctx, email, ip, now, now.Add(-Window), MaxPerAccount, MaxPerAddress)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apperr.ErrTooMany
	}
	u, err := s.st.UserByEmailSystem(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	hash := s.dummy
	if u != nil {
		hash = []byte(u.PasswordHash)
	}
	okPassword := len(password) <= models.MaxPasswordLen && bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	if u == nil || !okPassword || u.Disabled() {
		return nil, ErrBadCredentials // the reservation stays as the recorded failure
	}
	if err := s.st.ClearLoginFailures(ctx, email); err != nil {
		return nil, err
	}
	if err := s.st.TouchLoginSystem(ctx, u.ID, now); err != nil {
		return nil, err
	}
	return u, nil
}

// ChangeRole gives a team member a new role and returns the member; a team always keeps one
// enabled admin.
func (s *Service) ChangeRole(ctx context.Context, actor *models.User, userID int64, role models.Role) (*models.User, error) {
	if !actor.Role.Can(models.CapUsers) {
		return nil, apperr.ErrForbidden
	}
	if !role.Valid() {
		return nil, apperr.Invalid("role", "error.role_invalid")
	}
	if !actor.Role.CanGrant(role) {
		return nil, ErrCannotGrant
	}
	if userID == actor.ID {
		return nil, ErrSelfChange
	}
	var member *models.User
	err := s.st.WithTx(ctx, func(tx *store.Store) error {
		u, err := tx.TeamUser(ctx, actor.TeamID, userID)
		if err != nil {
			return err
		}
		member = u
		if u.Role == role {
			return nil
		}
		if u.Role == models.RoleAdmin && !u.Disabled() {
			if err := keepOneAdmin(ctx, tx, actor.TeamID); err != nil {
				return err
			}
		}
		if err := tx.UpdateUserRole(ctx, actor.TeamID, userID, role); err != nil {
			return err
		}
		return tx.AddAudit(ctx, audit(actor, auditRole, u, models.JSONMap{"from": string(u.Role), "to": string(role)}))
	})
	return member, err
}

// SetDisabled switches a team member off or on and returns the member; switching off ends their
// sessions at once.
func (s *Service) SetDisabled(ctx context.Context, actor *models.User, userID int64, disabled bool) (*models.User, error) {
	if !actor.Role.Can(models.CapUsers) {
		return nil, apperr.ErrForbidden
	}
	if userID == actor.ID {
		return nil, ErrSelfChange
	}
	var member *models.User
	err := s.st.WithTx(ctx, func(tx *store.Store) error {
		u, err := tx.TeamUser(ctx, actor.TeamID, userID)
		if err != nil {
			return err
		}
		member = u
		if u.Disabled() == disabled {
			return nil
		}
		var at *time.Time
		action := auditEnabled
		if disabled {
			if u.Role == models.RoleAdmin {
				if err := keepOneAdmin(ctx, tx, actor.TeamID); err != nil {
					return err
				}
			}
			now := s.now()
			at = &now
			action = auditDisabled
			if err := tx.DeleteUserSessions(ctx, userID); err != nil {
				return err
			}
			// A switched-off account's invitation or reset link must not switch it back on.
			if err := tx.RevokeUserTokensSystem(ctx, userID, "", now); err != nil {
				return err
			}
		}
		if err := tx.SetUserDisabled(ctx, actor.TeamID, userID, at); err != nil {
			return err
		}
		return tx.AddAudit(ctx, audit(actor, action, u, nil))
	})
	return member, err
}

// SetLocale stores the language a user chose.
func (s *Service) SetLocale(ctx context.Context, userID int64, locale string) error {
	if !models.ValidLocale(locale) {
		return apperr.Invalid("locale", "error.locale_invalid")
	}
	return s.st.SetUserLocaleSystem(ctx, userID, locale)
}

// keepOneAdmin refuses a change that would leave the team with no enabled admin.
func keepOneAdmin(ctx context.Context, tx *store.Store, teamID int64) error {
	n, err := tx.CountActiveAdmins(ctx, teamID)
	if err != nil {
		return err
	}
	if n <= 1 {
		return ErrLastAdmin
	}
	return nil
}

func audit(actor *models.User, action string, target *models.User, detail models.JSONMap) *models.AuditEntry {
	id := actor.ID
	return &models.AuditEntry{TeamID: actor.TeamID, ActorUserID: &id, Action: action, Target: "user:" + target.Email, Detail: detail}
}
