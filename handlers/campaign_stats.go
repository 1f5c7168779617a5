package handlers

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/internal/omnilink"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
	statsviews "github.com/omnilink/omnilink/views/stats"
)

// CampaignStats reads a campaign's statistics (omnilink.Stats).
type CampaignStats interface {
	Head(ctx context.Context, teamID, campaignID int64) (*store.CampaignStatsHead, error)
	Page(ctx context.Context, teamID, campaignID int64, q omnilink.StatsQuery) (*omnilink.StatsPage, error)
	Export(ctx context.Context, teamID, campaignID int64, r store.StatsRange, fn func(store.StatsRow) error) error
	Overview(ctx context.Context, teamID int64, now time.Time) (*omnilink.Overview, error)
}

// teamZone is the zone the team reads times in (a team setting).
func teamZone(t *models.Team) string { return string(t.TimeZone.OrDefault()) }

// statsForm is the statistics filter as submitted (a GET form).
type statsForm struct {
	From, To, Search, Sort string
	SP, FP                 int
}

func parseStatsForm(c echo.Context) statsForm {
	f := statsForm{From: strings.TrimSpace(c.QueryParam("from")), To: strings.TrimSpace(c.QueryParam("to")),
		Search: strings.TrimSpace(c.QueryParam("q")), Sort: c.QueryParam("sort")}
	f.SP, _ = strconv.Atoi(c.QueryParam("sp"))
	f.FP, _ = strconv.Atoi(c.QueryParam("fp"))
	if f.Sort != "asc" {
		f.Sort = "desc"
	}
	if len(f.Search) > 100 {
		f.Search = f.Search[:100]
	}
	return f
}

// Validate reads the inclusive day range in zone, defaulting to the last 30 days; every field
// error is returned at once, and export also refuses ranges of ExportMaxDays days or more.
func (f *statsForm) Validate(loc *i18n.Localizer, zone string, now time.Time, export bool) (store.StatsRange, statsviews.Problems) {
	tz := statsviews.Location(zone)
	today := now.In(tz)
	if f.From == "" && f.To == "" {
		f.To = today.Format("2006-01-02")
		f.From = today.AddDate(0, 0, -29).Format("2006-01-02")
	}
	problems := statsviews.Problems{}
	from, err := time.ParseInLocation("2006-01-02", f.From, tz)
	if err != nil {
		problems["from"] = loc.T("stats.error_date")
	}
	to, err := time.ParseInLocation("2006-01-02", f.To, tz)
	if err != nil {
		problems["to"] = loc.T("stats.error_date")
	}
	if len(problems) > 0 {
		return store.StatsRange{}, problems
	}
	end := to.AddDate(0, 0, 1)
	switch {
	case to.Before(from):
		problems["to"] = loc.T("stats.error_order")
	case export && end.Sub(from) >= omnilink.ExportMaxDays*24*time.Hour:
		problems["to"] = loc.T("stats.error_export_range", "Days", omnilink.ExportMaxDays)
	}
	return store.StatsRange{From: from, To: end}, problems
}

// exportable reports whether the range may be exported.
func exportable(r store.StatsRange) bool {
	return !r.From.IsZero() && r.To.Sub(r.From) < omnilink.ExportMaxDays*24*time.Hour
}

// campaignStats is one campaign's statistics page.
func (h *Handler) campaignStats(c echo.Context) error {
	f := parseStatsForm(c)
	return h.renderStats(c, f, false)
}

func (h *Handler) renderStats(c echo.Context, f statsForm, export bool) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	zone := teamZone(r.Team)
	rng, problems := f.Validate(r.Loc, zone, time.Now(), export)
	status := http.StatusOK
	if len(problems) > 0 {
		status = http.StatusUnprocessableEntity
		// Show the last 30 days behind the errors, so the page still says something true.
		alt := statsForm{}
		rng, _ = alt.Validate(r.Loc, zone, time.Now(), false)
	}
	page, err := h.stats.Page(c.Request().Context(), r.User.TeamID, id, omnilink.StatsQuery{Range: rng, Zone: zone, Search: f.Search,
		Asc: f.Sort == "asc", SuccessPage: f.SP, FailurePage: f.FP})
	if err != nil {
		return err
	}
	vf := statsviews.Filter{From: f.From, To: f.To, Search: f.Search, Sort: f.Sort, SP: f.SP, FP: f.FP}
	vm := statsviews.New(page, vf, problems, zone, len(problems) == 0 && exportable(rng), "/campaigns/"+idString(id)+"/stats")
	p := h.page(c, "stats.title")
	p.Title = p.T("stats.title") + ": " + page.Head.Name
	return render(c, status, statsviews.Page(p, vm))
}
