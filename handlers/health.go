package handlers

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/models"
	healthviews "github.com/omnilink/omnilink/views/health"
	"github.com/omnilink/omnilink/views/layout"
)

// BrokenChannels lists a team's channels that need repair, and those whose alert email could not
// be delivered, for the banner on every console page.
type BrokenChannels interface {
	TeamBrokenChannels(ctx context.Context, teamID int64) ([]models.Channel, error)
	// TeamFacebookUsersToUse names, per Facebook or Instagram channel, the Facebook user who must
	// reauthorise it.
	TeamFacebookUsersToUse(ctx context.Context, teamID int64) (map[int64]string, error)
	// TeamUndeliveredAlerts names, per channel, why its alert email could not be delivered.
	TeamUndeliveredAlerts(ctx context.Context, teamID int64) (map[int64]string, error)
}

// HealthReports reads channels' health for their status panels (one channel, or a whole team's
// for the channel list, keyed by channel id).
type HealthReports interface {
	Report(ctx context.Context, teamID, channelID int64) (*models.HealthReport, error)
	TeamReports(ctx context.Context, teamID int64) (map[int64]*models.HealthReport, error)
}

// brokenBanners fills the page's banners with the team's broken channels; a failed lookup only
// costs the banner, never the page.
func (h *Handler) brokenBanners(c echo.Context, p *layout.Page) {
	r := req(c)
	if h.broken == nil || r.User == nil || r.Team == nil {
		return
	}
	chs, err := h.broken.TeamBrokenChannels(c.Request().Context(), r.Team.ID)
	if err != nil {
		h.log.Warn("broken channel banner lookup failed", "team_id", r.Team.ID, "error", err)
		return
	}
	var users, undelivered map[int64]string
	for _, ch := range chs {
		if ch.Platform.ViaFacebookLogin() {
			if users, err = h.broken.TeamFacebookUsersToUse(c.Request().Context(), r.Team.ID); err != nil {
				h.log.Warn("broken channel banner lookup failed", "team_id", r.Team.ID, "error", err)
			}
			break
		}
	}
	if len(chs) > 0 {
		if undelivered, err = h.broken.TeamUndeliveredAlerts(c.Request().Context(), r.Team.ID); err != nil {
			h.log.Warn("undelivered alert lookup failed", "team_id", r.Team.ID, "error", err)
		}
	}
	p.Banners = append(p.Banners, healthviews.Banners(p, chs, users, undelivered)...)
}

// channelHealth renders one channel's health panel as an htmx fragment.
func (h *Handler) channelHealth(c echo.Context) error {
	if h.health == nil {
		return apperr.ErrNotFound
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return apperr.ErrNotFound
	}
	rep, err := h.health.Report(c.Request().Context(), req(c).Team.ID, id)
	if err != nil {
		return err
	}
	r := req(c)
	// Not h.page: a fragment refreshed every minute must not consume the page's flash messages.
	p := &layout.Page{Loc: r.Loc, CSRF: r.CSRF, Nonce: r.Nonce, Path: c.Request().URL.RequestURI(), Zone: r.Team.TimeZone,
		User: &layout.UserVM{ID: r.User.ID, Name: r.User.Name, Email: r.User.Email, Role: string(r.User.Role)}}
	return render(c, http.StatusOK, healthviews.ChannelStatus(p, healthviews.NewStatusVM(p, rep, time.Now())))
}
