package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/modules"
)

// BotModules is the bot module service the module pages need.
type BotModules interface {
	List(ctx context.Context, teamID int64) ([]models.Module, error)
	Module(ctx context.Context, teamID, id int64) (*models.Module, error)
	Campaigns(ctx context.Context, teamID int64, p models.Platform) ([]models.CampaignRow, error)
	Check(ctx context.Context, teamID int64, in *models.ModuleInput) (models.FieldProblems, error)
	PreviewContent(ctx context.Context, teamID int64, p models.Platform, blocks models.ModuleBlocks) (models.Content, error)
	Create(ctx context.Context, actor *models.User, in models.ModuleInput) (*models.Module, error)
	Update(ctx context.Context, actor *models.User, id int64, in models.ModuleInput) (*models.Module, error)
	Delete(ctx context.Context, actor *models.User, id int64) error
}

// BotTriggers is the trigger service the trigger page needs.
type BotTriggers interface {
	List(ctx context.Context, teamID int64) ([]models.TriggerRow, error)
	Create(ctx context.Context, actor *models.User, in models.TriggerInput) (*models.Trigger, error)
	Delete(ctx context.Context, actor *models.User, id int64) error
}

// moduleList lists the team's bot modules.
func (h *Handler) moduleList(c echo.Context) error {
	list, err := h.modules.List(c.Request().Context(), req(c).User.TeamID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, modules.List(h.page(c, "modules.title"), modules.NewList(req(c).Team.TimeZone, list)))
}
