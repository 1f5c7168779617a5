package accounts

import (
	"context"
	"errors"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Forgot-password limits: requests counted within ResetWindow per email and per client address.
// Past a limit the form answers as always but sends nothing, so it can neither flood a mailbox
// nor tell which emails exist.
const (
	ResetWindow         = time.Hour
	MaxResetsPerEmail   = 3
	MaxResetsPerAddress = 20
)

// RequestPasswordReset emails a reset link, valid for models.ResetLifetime, when email belongs
// to an enabled account. The answer is the same whether or not it does; only a malformed email
// is refused.
func (s *Service) RequestPasswordReset(ctx context.Context, email, ip string) error {
	email = models.NormalizeEmail(email)
	if key := models.EmailProblem(email); key != "" {
		return apperr.Invalid("email", key)
	}
	now := s.now()
	byEmail, byIP, err := s.st.CountPasswordResetRequests(ctx, email, ip, now.Add(-ResetWindow))
	if err != nil {
		return err
	}
	if err := s.st.RecordPasswordResetRequest(ctx, email, ip, now); err != nil {
		return err
	}
	if byEmail >= MaxResetsPerEmail || byIP >= MaxResetsPerAddress {
		return nil
	}
	u, err := s.st.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if u.Disabled() {
		return nil
	}
	err = s.st.WithTx(ctx, func(tx *store.Store) error {
		team, err := tx.Team(ctx, u.TeamID)
		if err != nil {
			return err
		}
		return s.issueLink(ctx, tx, u, team, nil, models.TokenReset, now)
	})
	if err != nil {
		return err
	}
	s.notify()
	return nil
}

// ResetPassword sets a new password through a reset link, spends the link and ends every session
// of the account (someone else may be signed in with the old password); the caller then signs
// the person in with a fresh session.
func (s *Service) ResetPassword(ctx context.Context, token, password string) (*models.User, error) {
	return s.useLink(ctx, models.TokenReset, token, password, func(tx *store.Store, u *models.User) error {
		if err := tx.DeleteUserSessions(ctx, u.ID); err != nil {
			return err
		}
		return tx.AddAudit(ctx, &models.AuditEntry{TeamID: u.TeamID, ActorUserID: &u.ID, Action: auditPasswordReset, Target: "user:" + u.Email})
	})
}

// PruneResetRequests drops forgot-password requests older than the limit's window.
func (s *Service) PruneResetRequests(ctx context.Context) error {
	return s.st.PrunePasswordResetRequests(ctx, s.now().Add(-ResetWindow))
}
