package accounts

import (
	"context"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Audit actions of the invitation flow.
const (
	auditInvited       = "user.invited"
	auditInviteResent  = "user.invite_resent"
	auditInviteRevoked = "user.invite_revoked"
	auditJoined        = "user.joined"
	auditRenamed       = "user.renamed"
	auditPasswordReset = "user.password_reset"
	auditAlerts        = "team.alerts_changed"
)

// ErrNotPending refuses to resend or revoke the invitation of someone who has already joined.
var ErrNotPending = apperr.Conflict("", "users.error_not_pending")

// Invite adds a member to the actor's team without a password and emails them a link, valid for
// models.InviteLifetime, where they choose one.
func (s *Service) Invite(ctx context.Context, actor *models.User, in models.InviteInput) (*models.User, error) {
	if !actor.Role.Can(models.CapUsers) {
		return nil, apperr.ErrForbidden
	}
	in.Normalize()
	if fe := in.Validate(); len(fe) > 0 {
		return nil, apperr.Invalid(fe[0].Field, fe[0].Key)
	}
	if !actor.Role.CanGrant(in.Role) {
		return nil, ErrCannotGrant
	}
	// Until the member chooses a password, their hash is of a secret nobody knows, so signing in
	// as them fails exactly like a wrong password, in the same time.
	hash, err := s.HashPassword(unknowable())
	if err != nil {
		return nil, err
	}
	now := s.now()
	u := &models.User{TeamID: actor.TeamID, Email: in.Email, Name: in.Name, Role: in.Role, Locale: in.Locale,
		PasswordHash: hash, InvitePending: true, InvitedAt: &now}
	err = s.st.WithTx(ctx, func(tx *store.Store) error {
		team, err := tx.TeamSystem(ctx, actor.TeamID)
		if err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := s.issueLink(ctx, tx, u, team, actor, models.TokenInvite, now, ""); err != nil {
			return err
		}
		return tx.AddAudit(ctx, audit(actor, auditInvited, u, models.JSONMap{"role": string(u.Role)}))
	})
	if err != nil {
		return nil, err
	}
	s.notify()
	return u, nil
}

// ResendInvite emails a pending member a new link; the older link stops working.
func (s *Service) ResendInvite(ctx context.Context, actor *models.User, userID int64) (*models.User, error) {
	if !actor.Role.Can(models.CapUsers) {
		return nil, apperr.ErrForbidden
	}
	var u *models.User
	err := s.st.WithTx(ctx, func(tx *store.Store) error {
		var err error
		if u, err = tx.LockTeamUser(ctx, actor.TeamID, userID); err != nil {
			return err
		}
		if !u.Pending() || u.Disabled() {
			return ErrNotPending
		}
		team, err := tx.TeamSystem(ctx, actor.TeamID)
		if err != nil {
			return err
		}
		now := s.now()
		if err := s.issueLink(ctx, tx, u, team, actor, models.TokenInvite, now, ""); err != nil {
			return err
		}
		if err := tx.SetUserInvited(ctx, actor.TeamID, u.ID, now); err != nil {
			return err
		}
		return tx.AddAudit(ctx, audit(actor, auditInviteResent, u, nil))
	})
	if err != nil {
		return nil, err
	}
	s.notify()
	return u, nil
}

// RevokeInvite withdraws a pending member's invitation: the account and its link are removed.
func (s *Service) RevokeInvite(ctx context.Context, actor *models.User, userID int64) (*models.User, error) {
	if !actor.Role.Can(models.CapUsers) {
		return nil, apperr.ErrForbidden
	}
	var u *models.User
	err := s.st.WithTx(ctx, func(tx *store.Store) error {
		var err error
		if u, err = tx.LockTeamUser(ctx, actor.TeamID, userID); err != nil {
			return err
		}
		if !u.Pending() {
			return ErrNotPending
		}
		if err := tx.DeletePendingUser(ctx, actor.TeamID, u.ID); err != nil {
			return err
		}
		return tx.AddAudit(ctx, audit(actor, auditInviteRevoked, u, nil))
	})
	return u, err
}

// AcceptInvite sets the invited member's password through their link and spends the link; the
// caller then signs them in.
func (s *Service) AcceptInvite(ctx context.Context, token, password string) (*models.User, error) {
	return s.useLink(ctx, models.TokenInvite, token, password, func(tx *store.Store, u *models.User) error {
		return tx.AddAudit(ctx, &models.AuditEntry{TeamID: u.TeamID, ActorUserID: &u.ID, Action: auditJoined, Target: "user:" + u.Email})
	})
}

// Rename changes a team member's name.
func (s *Service) Rename(ctx context.Context, actor *models.User, userID int64, name string) (*models.User, error) {
	if !actor.Role.Can(models.CapUsers) {
		return nil, apperr.ErrForbidden
	}
	name = models.NormalizeName(name)
	if key := models.NameProblem(name); key != "" {
		return nil, apperr.Invalid("name", key)
	}
	var u *models.User
	err := s.st.WithTx(ctx, func(tx *store.Store) error {
		var err error
		if u, err = tx.LockTeamUser(ctx, actor.TeamID, userID); err != nil {
			return err
		}
		if u.Name == name {
			return nil
		}
		if err := tx.UpdateUserName(ctx, actor.TeamID, u.ID, name); err != nil {
			return err
		}
		from := u.Name
		u.Name = name
		return tx.AddAudit(ctx, audit(actor, auditRenamed, u, models.JSONMap{"from": from, "to": name}))
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// TeamMember loads one of the actor's team members, for the edit page.
func (s *Service) TeamMember(ctx context.Context, actor *models.User, userID int64) (*models.User, error) {
	if !actor.Role.Can(models.CapUsers) {
		return nil, apperr.ErrForbidden
	}
	return s.st.TeamUser(ctx, actor.TeamID, userID)
}
