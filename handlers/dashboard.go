package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/omnilink"
	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/dashboard"
)

// dashboard is the home page: each enabled campaign's last seven days, the channels' health,
// and the areas the role may open.
func (h *Handler) dashboard(c echo.Context) error {
	r := req(c)
	p := h.page(c, "dashboard.title")
	var links []dashboard.Link
	for _, n := range p.Nav {
		if n.Href != "/" {
			links = append(links, dashboard.Link{Href: n.Href, Key: n.Key})
		}
	}
	var o *omnilink.Overview
	if h.stats != nil {
		var err error
		if o, err = h.stats.Overview(c.Request().Context(), r.User.TeamID, h.now()); err != nil {
			return err
		}
		if !r.User.Role.Can(models.CapCampaigns) {
			o.Campaigns = nil
		}
	}
	vm := dashboard.New(o, r.User.Role.Can(models.CapCampaigns), r.User.Role.Can(models.CapChannels), links)
	return render(c, http.StatusOK, dashboard.Index(p, vm))
}
