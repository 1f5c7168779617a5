package handlers

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/campaigns"
)

// CampaignSetup is the OmniLink campaign service the console's campaign pages need.
type CampaignSetup interface {
	List(ctx context.Context, teamID int64, f models.CampaignFilter) ([]models.CampaignRow, int64, error)
	Channels(ctx context.Context, teamID int64) ([]models.Channel, error)
	Tags(ctx context.Context, teamID int64) ([]models.Tag, error)
	Modules(ctx context.Context, teamID int64, p models.Platform) ([]models.ModuleRef, error)
	Campaign(ctx context.Context, teamID, id int64) (*models.Campaign, error)
	Check(ctx context.Context, teamID int64, in *models.CampaignInput) (models.FieldProblems, []models.FieldProblem, models.CampaignFacts, error)
	Create(ctx context.Context, actor *models.User, in models.CampaignInput) (*models.Campaign, error)
	Update(ctx context.Context, actor *models.User, id int64, in models.CampaignInput) (*models.Campaign, error)
	SetStatus(ctx context.Context, actor *models.User, id int64, status models.CampaignStatus) error
	Duplicate(ctx context.Context, actor *models.User, id int64, name string) (*models.Campaign, error)
	Delete(ctx context.Context, actor *models.User, id int64) error
	History(ctx context.Context, teamID, id int64) ([]models.AuditRow, error)
	Upload(ctx context.Context, actor *models.User, r io.Reader) (*models.Media, error)
	Media(ctx context.Context, teamID, id int64) (*models.Media, error)
	PublicImage(ctx context.Context, hash string) (*models.MediaBlob, error)
}

// campaignList is the campaign list with search by name and filters by status and channel.
func (h *Handler) campaignList(c echo.Context) error {
	r := req(c)
	ctx := c.Request().Context()
	q := strings.TrimSpace(c.QueryParam("q"))
	status := c.QueryParam("status")
	f := models.CampaignFilter{Query: q}
	if s := models.CampaignStatus(status); s.Valid() {
		f.Status = s
	} else {
		status = ""
	}
	channel := c.QueryParam("channel")
	if id, err := strconv.ParseInt(channel, 10, 64); err == nil && id > 0 {
		f.ChannelID = id
	} else {
		channel = ""
	}
	rows, total, err := h.campaigns.List(ctx, r.User.TeamID, f)
	if err != nil {
		return err
	}
	chans, err := h.campaigns.Channels(ctx, r.User.TeamID)
	if err != nil {
		return err
	}
	p := h.page(c, "campaigns.title")
	return render(c, http.StatusOK, campaigns.List(p, campaigns.NewList(p, rows, total, chans, q, status, channel)))
}
