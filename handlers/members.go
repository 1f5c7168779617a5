package handlers

import (
	"context"

	"github.com/omnilink/omnilink/models"
)

// Members is the team-membership service: invitations, single-use password links, names, and
// who receives channel alerts.
type Members interface {
	Invite(ctx context.Context, actor *models.User, in models.InviteInput) (*models.User, error)
	ResendInvite(ctx context.Context, actor *models.User, userID int64) (*models.User, error)
	RevokeInvite(ctx context.Context, actor *models.User, userID int64) (*models.User, error)
	LinkUser(ctx context.Context, purpose models.TokenPurpose, token string) (*models.User, error)
	AcceptInvite(ctx context.Context, token, password string) (*models.User, error)
	RequestPasswordReset(ctx context.Context, email, ip string) error
	ResetPassword(ctx context.Context, token, password string) (*models.User, error)
	TeamMember(ctx context.Context, actor *models.User, userID int64) (*models.User, error)
	Rename(ctx context.Context, actor *models.User, userID int64, name string) (*models.User, error)
	AlertSettings(ctx context.Context, actor *models.User) (models.AlertSettings, error)
	SaveAlertSettings(ctx context.Context, actor *models.User, a models.AlertSettings) error
}
