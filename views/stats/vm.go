// Package stats renders an OmniLink campaign's statistics: figures, funnel, daily chart and lists.
package stats

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/omnilink/omnilink/internal/omnilink"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Location is the team zone's location, for reading dates typed in the filter.
func Location(zone string) *time.Location { return models.TimeZone(zone).Location() }

// FormatTime shows a time on the statistics and customer pages: the console's one format, in the
// team's zone.
func FormatTime(t time.Time, zone string) string { return models.TimeZone(zone).Format(t) }

// FormatZoned formats a time for exports: seconds and the zone's offset, so a spreadsheet read
// anywhere means the same instant.
func FormatZoned(t time.Time, zone string) string {
	return t.In(Location(zone)).Format("2006-01-02 15:04:05 -07:00")
}

// Problems are a form's field errors, already translated by the handler.
type Problems map[string]string

// Filter is the statistics page's filter form as typed.
type Filter struct {
	From, To string // YYYY-MM-DD, inclusive, in the team's zone
	Search   string
	Sort     string // "desc" (newest first) or "asc"
	SP, FP   int    // pages of the success and failure lists
}

// Query is the filter as URL parameters, with one page changed.
func (f Filter) Query(sp, fp int) string {
	v := url.Values{"from": {f.From}, "to": {f.To}}
	if f.Search != "" {
		v.Set("q", f.Search)
	}
	if f.Sort == "asc" {
		v.Set("sort", "asc")
	}
	if sp > 1 {
		v.Set("sp", strconv.Itoa(sp))
	}
	if fp > 1 {
		v.Set("fp", strconv.Itoa(fp))
	}
	return v.Encode()
}

// VM is the statistics page.
type VM struct {
	ID             string
	Name           string
	Zone           string
	SourcePlatform string
	SourceName     string
	TargetPlatform string
	TargetName     string
	Filter         Filter
	Problems       Problems
	ExportAllowed  bool // the range is short enough to export
	Participants   int64
	Successes      int64
	Failures       int64
	NewTargets     int64
	Reasons        []ReasonCount
	Funnel         []Step
	Breakdowns     []Breakdown
	SkippedWindow  int64
	SkippedBlocked int64
	Chart          Chart
	SuccessRows    []Row
	FailureRows    []Row
	SuccessPager   Pager
	FailurePager   Pager
}

// ReasonCount is how many failures had one reason.
type ReasonCount struct {
	Key   string // i18n key of the reason
	Count int64
}

// Step is one step of the funnel with its share of the cards sent.
type Step struct {
	Key     string
	Count   int64
	Percent int // of the first step; the bar's width
}

// Breakdown is the funnel split by one dimension.
type Breakdown struct {
	Key  string // i18n key of the dimension
	Rows []BreakdownRow
}

// BreakdownRow is one value of a dimension with its step counts.
type BreakdownRow struct {
	LabelKey                              string // i18n key of the value
	Sent, Clicked, Opened, Friend, Linked int64
	LinkedPercent                         int // of those who clicked
}

// Row is one participation in a list.
type Row struct {
	SourceName, SourceID string
	TargetName, TargetID string
	ClickedAt            string
	CompletedAt          string
	ReasonKey            string
	StageKey             string // how far a participation without a stored reason got
}

// Pager links the pages of one list.
type Pager struct {
	Page, Pages int
	Total       int64
	Prev, Next  string // hrefs, empty at the ends
}

// Chart is the daily participants/successes chart, drawn as SVG on the server.
type Chart struct {
	Width, Height int
	Participants  string // polyline points
	Successes     string
	Max           int64
	Days          []ChartDay
	FirstDay      string
	LastDay       string
}

// ChartDay is one day's bar pair, for the accessible table behind the chart.
type ChartDay struct {
	Day                     string
	Participants, Successes int64
}

// New builds the statistics page from what the service read.
func New(p *omnilink.StatsPage, f Filter, problems Problems, zone string, exportAllowed bool, base string) VM {
	h := p.Head
	vm := VM{ID: strconv.FormatInt(h.ID, 10), Name: h.Name, Zone: zone, SourcePlatform: string(h.SourcePlatform), SourceName: models.ChannelLabel(h.SourcePlatform, h.SourceName),
		TargetPlatform: string(h.TargetPlatform), TargetName: models.ChannelLabel(h.TargetPlatform, h.TargetName), Filter: f, Problems: problems, ExportAllowed: exportAllowed,
		Participants: p.Summary.Participants, Successes: p.Summary.Successes, Failures: p.Summary.Failures, NewTargets: p.Summary.NewTargets,
		SkippedWindow: p.SkippedWindow, SkippedBlocked: p.SkippedBlocked}
	for _, r := range models.FailureReasons {
		if n := p.Summary.FailureReasons[r]; n > 0 {
			vm.Reasons = append(vm.Reasons, ReasonCount{Key: r.Key(), Count: n})
		}
	}
	var total store.FunnelRow
	for _, r := range p.Funnel {
		total = r
	}
	steps := []Step{{Key: "stats.step_sent", Count: total.Sent}, {Key: "stats.step_clicked", Count: total.Clicked},
		{Key: "stats.step_opened_" + string(h.TargetPlatform), Count: total.Opened}}
	if h.TargetPlatform == models.LINE {
		steps = append(steps, Step{Key: "stats.step_friend_required", Count: total.FriendRequired})
	}
	steps = append(steps, Step{Key: "stats.step_linked", Count: total.Linked})
	top := max(total.Sent, total.Clicked, 1)
	for i := range steps {
		steps[i].Percent = int(steps[i].Count * 100 / top)
	}
	vm.Funnel = steps
	for _, b := range []struct {
		key  string
		rows []store.FunnelRow
	}{{"stats.by_device", p.ByDevice}, {"stats.by_os", p.ByOS}, {"stats.by_in_app", p.ByInApp}} {
		bd := Breakdown{Key: b.key}
		for _, r := range b.rows {
			row := BreakdownRow{LabelKey: dimensionLabel(r.Key), Sent: r.Sent, Clicked: r.Clicked, Opened: r.Opened, Friend: r.FriendRequired, Linked: r.Linked}
			if r.Clicked > 0 {
				row.LinkedPercent = int(r.Linked * 100 / r.Clicked)
			}
			bd.Rows = append(bd.Rows, row)
		}
		vm.Breakdowns = append(vm.Breakdowns, bd)
	}
	vm.Chart = newChart(p.Daily, f, zone)
	for _, r := range p.Successes {
		vm.SuccessRows = append(vm.SuccessRows, newRow(r, zone))
	}
	for _, r := range p.Failures {
		row := newRow(r, zone)
		row.StageKey = StageKey(r, h.TargetPlatform)
		vm.FailureRows = append(vm.FailureRows, row)
	}
	vm.SuccessPager = pager(p.SuccessTotal, max(f.SP, 1), func(n int) string { return base + "?" + f.Query(n, f.FP) + "#successes" })
	vm.FailurePager = pager(p.FailureTotal, max(f.FP, 1), func(n int) string { return base + "?" + f.Query(f.SP, n) + "#failures" })
	return vm
}

// dimensionLabel is the i18n key of a device, OS or in-app browser value as the click recorded it.
func dimensionLabel(v string) string {
	switch v {
	case "-":
		return "stats.dim_not_clicked"
	case "":
		return "stats.dim_browser"
	case "mobile", "desktop", "ios", "android", "facebook", "instagram", "line":
		return "stats.dim_" + v
	}
	return "stats.dim_other"
}

func newRow(r store.StatsRow, zone string) Row {
	row := Row{SourceName: r.SourceName, SourceID: r.SourceExternal, TargetName: r.TargetName, TargetID: r.TargetExternal,
		ClickedAt: FormatTime(r.ClickedAt, zone)}
	if r.CompletedAt != nil {
		row.CompletedAt = FormatTime(*r.CompletedAt, zone)
	}
	if r.Status != models.AttemptLinked {
		row.ReasonKey = r.FailureReason().Key()
	}
	return row
}

// StageKey is the i18n key saying how far a participation without a stored reason got, or "".
func StageKey(r store.StatsRow, target models.Platform) string {
	switch st := r.Stage(); st {
	case "":
		return ""
	case "opened":
		return "stats.stage_opened_" + string(target)
	default:
		return "stats.stage_" + st
	}
}

func pager(total int64, page int, href func(int) string) Pager {
	pages := int((total + omnilink.StatsPageSize - 1) / omnilink.StatsPageSize)
	p := Pager{Page: page, Pages: max(pages, 1), Total: total}
	if page > 1 {
		p.Prev = href(page - 1)
	}
	if page < pages {
		p.Next = href(page + 1)
	}
	return p
}

// newChart lays the days of the range out on a fixed viewBox; the SVG scales to any width.
func newChart(days []store.DayCount, f Filter, zone string) Chart {
	c := Chart{Width: 600, Height: 160, FirstDay: f.From, LastDay: f.To}
	from, err1 := time.ParseInLocation("2006-01-02", f.From, Location(zone))
	to, err2 := time.ParseInLocation("2006-01-02", f.To, Location(zone))
	if err1 != nil || err2 != nil || to.Before(from) {
		return c
	}
	byDay := map[string]store.DayCount{}
	for _, d := range days {
		byDay[d.Day] = d
		c.Max = max(c.Max, d.Participants)
	}
	n := int(to.Sub(from).Hours()/24+0.5) + 1
	scale := max(c.Max, 1)
	var ps, ss strings.Builder
	for i := range n {
		day := from.AddDate(0, 0, i).Format("2006-01-02")
		d := byDay[day]
		x := 0
		if n > 1 {
			x = i * c.Width / (n - 1)
		}
		fmt.Fprintf(&ps, "%d,%d ", x, c.Height-int(d.Participants*int64(c.Height-10)/scale))
		fmt.Fprintf(&ss, "%d,%d ", x, c.Height-int(d.Successes*int64(c.Height-10)/scale))
		if d.Participants > 0 {
			c.Days = append(c.Days, ChartDay{Day: day, Participants: d.Participants, Successes: d.Successes})
		}
	}
	c.Participants, c.Successes = strings.TrimSpace(ps.String()), strings.TrimSpace(ss.String())
	return c
}
