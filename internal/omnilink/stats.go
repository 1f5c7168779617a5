package omnilink

import (
	"context"
	"errors"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/store"
)

// StatsPageSize is how many rows each statistics list shows per page.
const StatsPageSize = 50

// ExportMaxDays is the longest range, in days, the CSV export accepts (exclusive).
const ExportMaxDays = 90

// Stats reads a campaign's statistics: figures, lists, funnel, daily counts and the export.
type Stats struct {
	st *store.Store
}

// NewStats builds the statistics reader.
func NewStats(st *store.Store) *Stats { return &Stats{st: st} }

// StatsQuery is what the statistics page asks for.
type StatsQuery struct {
	Range       store.StatsRange
	Zone        string // IANA name of the team's zone, for the daily chart
	Search      string
	Asc         bool
	SuccessPage int // 1-based
	FailurePage int // 1-based
}

// StatsPage is everything the statistics page shows.
type StatsPage struct {
	Head           *store.CampaignStatsHead
	Summary        store.CampaignSummary
	Successes      []store.StatsRow
	SuccessTotal   int64
	Failures       []store.StatsRow
	FailureTotal   int64
	Funnel         []store.FunnelRow
	ByDevice       []store.FunnelRow
	ByOS           []store.FunnelRow
	ByInApp        []store.FunnelRow
	Daily          []store.DayCount
	SkippedWindow  int64
	SkippedBlocked int64
}

// ErrCampaignNotFound is another team's (or no) campaign.
var ErrCampaignNotFound = apperr.ErrNotFound

// Head loads the campaign the statistics are about (deleted ones included).
func (s *Stats) Head(ctx context.Context, teamID, campaignID int64) (*store.CampaignStatsHead, error) {
	h, err := s.st.TeamCampaignStatsHead(ctx, teamID, campaignID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrCampaignNotFound
	}
	return h, err
}

// Page gathers the statistics page for one of the team's campaigns.
func (s *Stats) Page(ctx context.Context, teamID, campaignID int64, q StatsQuery) (*StatsPage, error) {
	head, err := s.Head(ctx, teamID, campaignID)
	if err != nil {
		return nil, err
	}
	p := &StatsPage{Head: head}
	if p.Summary, p.Daily, err = s.st.TeamCampaignSummary(ctx, teamID, campaignID, q.Range, q.Zone); err != nil {
		return nil, err
	}
	list := func(linked bool, page int) ([]store.StatsRow, int64, error) {
		return s.st.TeamCampaignStatsList(ctx, teamID, campaignID, linked, store.StatsListQuery{Range: q.Range, Search: q.Search, Asc: q.Asc,
			Offset: (max(page, 1) - 1) * StatsPageSize, Limit: StatsPageSize})
	}
	if p.Successes, p.SuccessTotal, err = list(true, q.SuccessPage); err != nil {
		return nil, err
	}
	if p.SuccessTotal < 0 {
		p.SuccessTotal = p.Summary.Successes
	}
	if p.Failures, p.FailureTotal, err = list(false, q.FailurePage); err != nil {
		return nil, err
	}
	if p.FailureTotal < 0 {
		p.FailureTotal = p.Summary.Failures
	}
	funnel, err := s.st.TeamCampaignFunnel(ctx, teamID, campaignID, q.Range)
	if err != nil {
		return nil, err
	}
	for _, f := range funnel {
		switch f.Dimension {
		case "":
			p.Funnel = append(p.Funnel, f)
		case "device":
			p.ByDevice = append(p.ByDevice, f)
		case "os":
			p.ByOS = append(p.ByOS, f)
		case "in_app":
			p.ByInApp = append(p.ByInApp, f)
		}
	}
	if p.SkippedWindow, p.SkippedBlocked, err = s.st.TeamCampaignSkippedOutcomes(ctx, teamID, campaignID, q.Range); err != nil {
		return nil, err
	}
	return p, nil
}

// ErrExportRange is an export range of ExportMaxDays days or more.
var ErrExportRange = apperr.Invalid("to", "stats.error_export_range").With(map[string]any{"Days": ExportMaxDays})

// Export streams the successes and failures first clicked in r to fn, one row at a time.
func (s *Stats) Export(ctx context.Context, teamID, campaignID int64, r store.StatsRange, fn func(store.StatsRow) error) error {
	if _, err := s.Head(ctx, teamID, campaignID); err != nil {
		return err
	}
	if r.To.Sub(r.From) >= ExportMaxDays*24*time.Hour {
		return ErrExportRange
	}
	return s.st.EachTeamCampaignStatsRow(ctx, teamID, campaignID, r, fn)
}

// Overview is the home page's OmniLink part: each enabled campaign's last seven days and the
// health of the team's channels.
type Overview struct {
	Campaigns []store.CampaignFigures
	Channels  []store.ChannelHealthRow
}

// Overview reads the figures of the seven days up to now for the team's enabled campaigns.
func (s *Stats) Overview(ctx context.Context, teamID int64, now time.Time) (*Overview, error) {
	o := &Overview{}
	var err error
	if o.Campaigns, err = s.st.TeamEnabledCampaignFigures(ctx, teamID, store.StatsRange{From: now.Add(-7 * 24 * time.Hour), To: now.Add(time.Second)}); err != nil {
		return nil, err
	}
	if o.Channels, err = s.st.TeamChannelStatuses(ctx, teamID); err != nil {
		return nil, err
	}
	return o, nil
}
