package handlers

import (
	"bufio"
	"encoding/csv"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
	statsviews "github.com/omnilink/omnilink/views/stats"
)

// campaignExport streams a campaign's successes and failures in the chosen range as CSV:
// UTF-8 with a byte-order mark (so Excel reads Chinese), times in the team's zone with the zone
// named. Ranges of 90 days or more re-render the statistics page with the reason.
func (h *Handler) campaignExport(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	f := parseStatsForm(c)
	zone := teamZone(r.Team)
	rng, problems := f.Validate(r.Loc, zone, time.Now(), true)
	if len(problems) > 0 {
		return h.renderStats(c, f, true)
	}
	ctx := c.Request().Context()
	// Not found is answered before anything is written.
	head, err := h.stats.Head(ctx, r.User.TeamID, id)
	if err != nil {
		return err
	}
	loc := r.Loc
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="omnilink-`+idString(id)+"-"+f.From+"-"+f.To+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	buf := bufio.NewWriterSize(w, 64<<10)
	_, _ = buf.WriteString("\uFEFF")
	cw := csv.NewWriter(buf)
	zoneNote := " (" + zone + ")"
	_ = cw.Write([]string{loc.T("stats.csv_result"), loc.T("stats.source_name"), loc.T("stats.source_id"), loc.T("stats.target_name"),
		loc.T("stats.target_id"), loc.T("stats.clicked_at") + zoneNote, loc.T("stats.success_at") + zoneNote, loc.T("stats.reason"), loc.T("stats.csv_stage")})
	success, failure := loc.T("stats.csv_success"), loc.T("stats.csv_failure")
	reasons := map[models.FailureReason]string{}
	for _, x := range models.FailureReasons {
		reasons[x] = loc.T(x.Key())
	}
	rec := make([]string, 9)
	n := 0
	err = h.stats.Export(ctx, r.User.TeamID, id, rng, func(row store.StatsRow) error {
		rec[0], rec[1], rec[2] = failure, cell(row.SourceName), cell(row.SourceExternal)
		rec[3], rec[4], rec[5], rec[6], rec[7], rec[8] = "", "", statsviews.FormatZoned(row.ClickedAt, zone), "", "", ""
		if row.Status == models.AttemptLinked {
			rec[0], rec[3], rec[4] = success, cell(row.TargetName), cell(row.TargetExternal)
			if row.CompletedAt != nil {
				rec[6] = statsviews.FormatZoned(*row.CompletedAt, zone)
			}
		} else {
			rec[7] = reasons[row.FailureReason()]
			if k := statsviews.StageKey(row, head.TargetPlatform); k != "" {
				rec[8] = loc.T(k)
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
		// Flush to the client now and then: the export streams, it is never built in memory.
		if n++; n%5000 == 0 {
			cw.Flush()
			if err := buf.Flush(); err != nil {
				return err
			}
			w.Flush()
		}
		return nil
	})
	cw.Flush()
	_ = buf.Flush()
	if err != nil {
		// Headers are gone; cut the body short so the download visibly fails.
		h.log.Error("statistics export failed", "campaign", id, "error", err.Error())
		panic(http.ErrAbortHandler)
	}
	return nil
}

// cell keeps a spreadsheet from reading a customer's name as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
