package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/outbox"
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

// KindResetRequest is a forgot-password request waiting in the outbox to be answered.
const KindResetRequest = "account.reset_request"

// resetRequest is the payload of a KindResetRequest item.
type resetRequest struct {
	Email string `json:"email"`
}

// RequestPasswordReset accepts a forgot-password request. Every well-formed email is treated
// alike here (counted, then queued unless over a limit), so neither the answer nor its timing
// tells whether an account uses it; ResetRequestHandler decides later whether a link is sent.
// Only a malformed email is refused.
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
	limited := byEmail >= MaxResetsPerEmail || byIP >= MaxResetsPerAddress
	err = s.st.WithTx(ctx, func(tx *store.Store) error {
		if err := tx.RecordPasswordResetRequest(ctx, email, ip, now); err != nil {
			return err
		}
		if limited {
			return nil
		}
		id, _ := newLinkToken()
		_, err := outbox.Enqueue(ctx, tx, now, outbox.Entry{Kind: KindResetRequest, Key: KindResetRequest + "." + id, Payload: resetRequest{Email: email}})
		return err
	})
	if err != nil {
		return err
	}
	if !limited {
		s.notify()
	}
	return nil
}

// ResetRequestHandler answers queued forgot-password requests: an enabled account gets a reset
// link, valid for models.ResetLifetime, by email; any other address gets nothing. A request
// answered twice (a retry after a crash) sends one email.
func (s *Service) ResetRequestHandler() outbox.Handler {
	return func(ctx context.Context, it models.OutboxItem) error {
		var req resetRequest
		if err := json.Unmarshal([]byte(it.Payload), &req); err != nil {
			return outbox.Permanent(fmt.Errorf("decode reset request: %w", err))
		}
		u, err := s.st.UserByEmailSystem(ctx, req.Email)
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
			team, err := tx.TeamSystem(ctx, u.TeamID)
			if err != nil {
				return err
			}
			return s.issueLink(ctx, tx, u, team, nil, models.TokenReset, s.now(), fmt.Sprintf("account.reset.request.%d", it.ID))
		})
		if errors.Is(err, errAnswered) {
			return nil
		}
		return err
	}
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
