package accounts

import (
	"context"
	"slices"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// AlertSettings returns who receives the actor's team's channel alerts.
func (s *Service) AlertSettings(ctx context.Context, actor *models.User) (models.AlertSettings, error) {
	if !actor.Role.Can(models.CapUsers) {
		return models.AlertSettings{}, apperr.ErrForbidden
	}
	team, err := s.st.TeamSystem(ctx, actor.TeamID)
	if err != nil {
		return models.AlertSettings{}, err
	}
	return models.AlertSettings{Roles: team.AlertRoles, Addresses: team.NotificationEmails}, nil
}

// SaveAlertSettings stores who receives the team's channel alerts; the settings come from
// models.AlertInput.Parse and are checked again here.
func (s *Service) SaveAlertSettings(ctx context.Context, actor *models.User, a models.AlertSettings) error {
	if !actor.Role.Can(models.CapUsers) {
		return apperr.ErrForbidden
	}
	for _, r := range a.Roles {
		if !r.Valid() {
			return apperr.Invalid("roles", "error.role_invalid")
		}
	}
	for _, e := range a.Addresses {
		if models.EmailProblem(e) != "" {
			return apperr.Invalid("addresses", "error.alert_address_invalid")
		}
	}
	if len(a.Addresses) > models.MaxAlertAddresses {
		return apperr.Invalid("addresses", "error.alert_address_count")
	}
	if len(a.Roles) == 0 && len(a.Addresses) == 0 {
		return apperr.Invalid("roles", "error.alert_nobody")
	}
	if a.Roles == nil {
		a.Roles = models.RoleList{}
	}
	return s.st.WithTx(ctx, func(tx *store.Store) error {
		team, err := tx.TeamSystem(ctx, actor.TeamID)
		if err != nil {
			return err
		}
		if slices.Equal(team.AlertRoles, a.Roles) && slices.Equal([]string(team.NotificationEmails), a.Addresses) {
			return nil
		}
		if err := tx.UpdateTeamAlerts(ctx, actor.TeamID, a); err != nil {
			return err
		}
		id := actor.ID
		return tx.AddAudit(ctx, &models.AuditEntry{TeamID: actor.TeamID, ActorUserID: &id, Action: auditAlerts, Target: "team",
			Detail: models.JSONMap{"roles": a.Roles, "addresses": a.Addresses}})
	})
}
