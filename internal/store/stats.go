package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/omnilink/omnilink/models"
)

// StatsRange is a half-open time range [From, To) of first clicks.
type StatsRange struct {
	From, To time.Time
}

// CampaignStatsHead is a team's campaign (deleted ones included: statistics outlive them) with
// its channels' names and platforms.
type CampaignStatsHead struct {
	ID             int64
	Name           string
	Status         models.CampaignStatus
	SourcePlatform models.Platform
	SourceName     string
	TargetPlatform models.Platform
	TargetName     string
}

// TeamCampaignStatsHead loads the head of a team's campaign statistics; another team's id is ErrNotFound.
func (s *Store) TeamCampaignStatsHead(ctx context.Context, teamID, campaignID int64) (*CampaignStatsHead, error) {
	var out []CampaignStatsHead
	err := s.q(ctx).Raw(`SELECT c.id, c.name, c.status, sc.platform AS source_platform, sc.display_name AS source_name,
			tc.platform AS target_platform, tc.display_name AS target_name
		FROM campaigns c JOIN channels sc ON sc.id = c.source_channel_id JOIN channels tc ON tc.id = c.target_channel_id
		WHERE c.team_id = ? AND c.id = ?`, teamID, campaignID).Scan(&out).Error
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return &out[0], nil
}

// CampaignSummary is the statistics' headline figures.
type CampaignSummary struct {
	Participants   int64
	Successes      int64
	Failures       int64
	NewTargets     int64
	FailureReasons map[models.FailureReason]int64
}

// TeamCampaignSummary counts participations first clicked in r (team-scoped by the campaign),
// with the per-day counts in zone, in one pass over the range. A participation that is still
// open, or failed without a stored reason, counts as "none".
func (s *Store) TeamCampaignSummary(ctx context.Context, teamID, campaignID int64, r StatsRange, zone string) (CampaignSummary, []DayCount, error) {
	var rows []struct {
		Day    string
		Status models.AttemptStatus
		Reason string
		New    bool
		N      int64
	}
	// Read from the hourly counters the triggers keep (see migration 00018); ranges start and
	// end on the hour in the team's zone.
	err := s.q(ctx).Raw(`SELECT to_char(hour AT TIME ZONE ?, 'YYYY-MM-DD') AS day, status, reason, target_created AS new, sum(n) AS n
		FROM link_stats_clicks WHERE campaign_id = (SELECT id FROM campaigns WHERE team_id = ? AND id = ?) AND hour >= ? AND hour < ?
		GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 ORDER BY 1`, zone, teamID, campaignID, r.From, r.To).Scan(&rows).Error
	out := CampaignSummary{FailureReasons: map[models.FailureReason]int64{}}
	var days []DayCount
	for _, x := range rows {
		if len(days) == 0 || days[len(days)-1].Day != x.Day {
			days = append(days, DayCount{Day: x.Day})
		}
		d := &days[len(days)-1]
		d.Participants += x.N
		out.Participants += x.N
		if x.Status == models.AttemptLinked {
			d.Successes += x.N
			out.Successes += x.N
			if x.New {
				out.NewTargets += x.N
			}
			continue
		}
		out.Failures += x.N
		out.FailureReasons[failureReason(x.Status, x.Reason)] += x.N
	}
	return out, days, err
}

func failureReason(status models.AttemptStatus, reason string) models.FailureReason {
	if status != models.AttemptFailed || reason == "" {
		return models.ReasonNone
	}
	return models.FailureReason(reason)
}

// StatsListQuery pages and filters one of the statistics lists.
type StatsListQuery struct {
	Range  StatsRange
	Search string // part of a name or an external id, either side
	Asc    bool   // oldest participation first
	Offset int
	Limit  int
}

// StatsRow is one participation in a list or the export.
type StatsRow struct {
	ID             int64
	Status         models.AttemptStatus
	Reason         string
	SourceName     string
	SourceExternal string
	TargetName     string
	TargetExternal string
	ClickedAt      time.Time
	CompletedAt    *time.Time
	Opened         bool // sent on to the target channel
	FriendRequired bool // shown the add-friend screen
}

// FailureReason is the row's reason as the statistics show it.
func (r StatsRow) FailureReason() models.FailureReason { return failureReason(r.Status, r.Reason) }

// Stage is how far a participation without a stored reason got: "friend_required", "opened" or
// "clicked"; empty for a success or a failure whose reason already says what happened.
func (r StatsRow) Stage() string {
	switch {
	case r.FailureReason() != models.ReasonNone:
		return ""
	case r.FriendRequired:
		return "friend_required"
	case r.Opened:
		return "opened"
	}
	return "clicked"
}

const statsRowSelect = `SELECT a.id, a.status, a.reason, sc.name AS source_name, sc.external_user_id AS source_external,
		coalesce(tc.name, '') AS target_name, coalesce(tc.external_user_id, '') AS target_external,
		a.first_clicked_at AS clicked_at, a.completed_at,
		a.opened_at IS NOT NULL AS opened, a.friend_required_at IS NOT NULL AS friend_required
	FROM link_attempts a JOIN contacts sc ON sc.id = a.source_contact_id LEFT JOIN contacts tc ON tc.id = a.target_contact_id
	WHERE a.team_id = ? AND a.campaign_id = ? AND a.first_clicked_at >= ? AND a.first_clicked_at < ?`

// TeamCampaignStatsList lists successes (linked) or failures (everything else clicked) with
// the total matching the search (-1 without a search: the summary has it).
func (s *Store) TeamCampaignStatsList(ctx context.Context, teamID, campaignID int64, linked bool, q StatsListQuery) ([]StatsRow, int64, error) {
	where := statsRowSelect
	args := []any{teamID, campaignID, q.Range.From, q.Range.To}
	if linked {
		where += ` AND a.status = 'linked'`
	} else {
		where += ` AND a.status IN ('open', 'failed')`
	}
	if qs := strings.TrimSpace(q.Search); qs != "" {
		// Find the few matching contacts first (an exact id through its index, or a name through
		// the trigram index), then their participations through the attempt indexes, one arm per
		// side: an OR across the two columns would filter every participation of the campaign.
		like := "%" + escapeLike(qs) + "%"
		match := `SELECT id FROM contacts WHERE team_id = ? AND (external_user_id = ? OR name ILIKE ?)`
		where += ` AND a.id IN (SELECT id FROM link_attempts WHERE campaign_id = ? AND source_contact_id IN (` + match + `)
			UNION ALL SELECT id FROM link_attempts WHERE target_contact_id IN (` + match + `))`
		args = append(args, campaignID, teamID, qs, like, teamID, qs, like)
	}
	// Without a search the totals are the summary's figures; count only a search.
	total := int64(-1)
	if strings.TrimSpace(q.Search) != "" {
		if err := s.q(ctx).Raw(`SELECT count(*) FROM (`+where+`) x`, args...).Scan(&total).Error; err != nil {
			return nil, 0, err
		}
	}
	order := " ORDER BY a.first_clicked_at DESC, a.id DESC"
	if q.Asc {
		order = " ORDER BY a.first_clicked_at, a.id"
	}
	var out []StatsRow
	err := s.q(ctx).Raw(where+order+` LIMIT ? OFFSET ?`, append(args, q.Limit, q.Offset)...).Scan(&out).Error
	return out, total, err
}

// EachTeamCampaignStatsRow streams every participation clicked in r, successes first, oldest
// first, to fn without holding them in memory.
func (s *Store) EachTeamCampaignStatsRow(ctx context.Context, teamID, campaignID int64, r StatsRange, fn func(StatsRow) error) error {
	rows, err := s.q(ctx).Raw(statsRowSelect+` ORDER BY (a.status = 'linked') DESC, a.first_clicked_at, a.id`,
		teamID, campaignID, r.From, r.To).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	var x StatsRow
	var completed sql.NullTime
	for rows.Next() {
		if err := rows.Scan(&x.ID, &x.Status, &x.Reason, &x.SourceName, &x.SourceExternal, &x.TargetName, &x.TargetExternal, &x.ClickedAt, &completed,
			&x.Opened, &x.FriendRequired); err != nil {
			return err
		}
		x.CompletedAt = nil
		if completed.Valid {
			t := completed.Time
			x.CompletedAt = &t
		}
		if err := fn(x); err != nil {
			return err
		}
	}
	return rows.Err()
}

// FunnelRow is one slice of the step funnel: Dimension "" is the whole campaign, else "device",
// "os" or "in_app" with Key its value ("-" when the card was not clicked yet).
type FunnelRow struct {
	Dimension      string
	Key            string
	Sent           int64
	Clicked        int64
	Opened         int64
	FriendRequired int64
	Linked         int64
}

// TeamCampaignFunnel counts each step for the participations whose card was first sent in r,
// for the whole campaign and broken down by device, OS and in-app browser, from the hourly counters.
func (s *Store) TeamCampaignFunnel(ctx context.Context, teamID, campaignID int64, r StatsRange) ([]FunnelRow, error) {
	var out []FunnelRow
	err := s.q(ctx).Raw(`SELECT CASE WHEN GROUPING(device) = 0 THEN 'device' WHEN GROUPING(os) = 0 THEN 'os' WHEN GROUPING(in_app) = 0 THEN 'in_app' ELSE '' END AS dimension,
			coalesce(device, os, in_app, '') AS key, sum(sent) AS sent, sum(clicked) AS clicked, sum(opened) AS opened,
			sum(friend) AS friend_required, sum(linked) AS linked
		FROM link_stats_sent WHERE campaign_id = (SELECT id FROM campaigns WHERE team_id = ? AND id = ?) AND hour >= ? AND hour < ?
		GROUP BY GROUPING SETS ((), (device), (os), (in_app)) HAVING sum(sent) + sum(clicked) <> 0 OR GROUPING(device) + GROUPING(os) + GROUPING(in_app) = 3
		ORDER BY 1, 4 DESC, 2`, teamID, campaignID, r.From, r.To).Scan(&out).Error
	return out, err
}

// DayCount is one day's participants and successes.
type DayCount struct {
	Day          string // YYYY-MM-DD in the given zone
	Participants int64
	Successes    int64
}

// TeamCampaignSkippedOutcomes counts the campaign's outcome messages that were not sent because
// the 24-hour window had closed or the LINE user had blocked the account, in r.
func (s *Store) TeamCampaignSkippedOutcomes(ctx context.Context, teamID, campaignID int64, r StatsRange) (window, blocked int64, err error) {
	var row struct{ SkippedWindow, SkippedBlocked int64 }
	err = s.q(ctx).Raw(`SELECT count(*) FILTER (WHERE outcome = 'skipped_window') AS skipped_window,
			count(*) FILTER (WHERE outcome = 'skipped_blocked') AS skipped_blocked
		FROM message_sends WHERE team_id = ? AND cause LIKE ? AND created_at >= ? AND created_at < ?`,
		teamID, "campaign:"+strconv.FormatInt(campaignID, 10)+":%", r.From, r.To).Scan(&row).Error
	return row.SkippedWindow, row.SkippedBlocked, err
}

// CampaignFigures is one enabled campaign's headline figures over a period.
type CampaignFigures struct {
	ID             int64
	Name           string
	SourceName     string
	SourcePlatform models.Platform
	TargetName     string
	TargetPlatform models.Platform
	Participants   int64
	Successes      int64
	NewTargets     int64
}

// TeamEnabledCampaignFigures sums, for each of a team's enabled campaigns, the participations
// first clicked in r; campaigns without any still appear, with zeros.
func (s *Store) TeamEnabledCampaignFigures(ctx context.Context, teamID int64, r StatsRange) ([]CampaignFigures, error) {
	var out []CampaignFigures
	err := s.q(ctx).Raw(`SELECT c.id, c.name, sc.display_name AS source_name, sc.platform AS source_platform,
			tc.display_name AS target_name, tc.platform AS target_platform,
			coalesce(f.participants, 0) AS participants, coalesce(f.successes, 0) AS successes, coalesce(f.new_targets, 0) AS new_targets
		FROM campaigns c JOIN channels sc ON sc.id = c.source_channel_id JOIN channels tc ON tc.id = c.target_channel_id
		LEFT JOIN LATERAL (SELECT sum(n) AS participants, sum(n) FILTER (WHERE status = 'linked') AS successes,
				sum(n) FILTER (WHERE status = 'linked' AND target_created) AS new_targets
			FROM link_stats_clicks x WHERE x.campaign_id = c.id AND x.hour >= date_trunc('hour', ?::timestamptz) AND x.hour < ?) f ON true
		WHERE c.team_id = ? AND c.status = 'enabled' AND c.deleted_at IS NULL ORDER BY c.name, c.id`, r.From, r.To, teamID).Scan(&out).Error
	return out, err
}

// ChannelHealthRow is one of a team's channels as the overview's health summary shows it.
type ChannelHealthRow struct {
	ID          int64
	Platform    models.Platform
	DisplayName string
	Status      models.ChannelStatus
}

// TeamChannelStatuses lists a team's channels with their status, those needing attention first.
func (s *Store) TeamChannelStatuses(ctx context.Context, teamID int64) ([]ChannelHealthRow, error) {
	var out []ChannelHealthRow
	err := s.q(ctx).Raw(`SELECT id, platform, display_name, status FROM channels WHERE team_id = ?
		ORDER BY (status = 'active'), platform, display_name`, teamID).Scan(&out).Error
	return out, err
}

// linkStatsCompactLock is the advisory lock key that keeps compactions one at a time.
const linkStatsCompactLock = 0x6c696e6b73 // "links"

// CompactLinkStatsForSweep folds the per-backend counter shards of hours before `before` into
// shard 0 (see migration 00021), so statistics read one row per counter and hour. Sums do not
// change; it returns how many shard-0 counters were written.
func (s *Store) CompactLinkStatsForSweep(ctx context.Context, before time.Time) (int64, error) {
	var folded int64
	err := s.WithTx(ctx, func(tx *Store) error {
		// One compaction at a time (replicas run the same housekeeping), and it never waits on a
		// counter row a link or click is writing: such rows are folded next time. Waiting could
		// deadlock with a trigger that writes two rows of one shard.
		var mine bool
		if err := tx.q(ctx).Raw(`SELECT pg_try_advisory_xact_lock(?)`, linkStatsCompactLock).Scan(&mine).Error; err != nil || !mine {
			return err
		}
		for _, q := range []string{
			`WITH gone AS (DELETE FROM link_stats_clicks WHERE ctid IN (SELECT ctid FROM link_stats_clicks
					WHERE hour < ? AND shard <> 0 FOR UPDATE SKIP LOCKED)
				RETURNING campaign_id, hour, status, reason, target_created, n)
			INSERT INTO link_stats_clicks AS x (campaign_id, hour, shard, status, reason, target_created, n)
			SELECT campaign_id, hour, 0, status, reason, target_created, sum(n) FROM gone GROUP BY 1, 2, 4, 5, 6
			ON CONFLICT (campaign_id, hour, status, reason, target_created, shard) DO UPDATE SET n = x.n + EXCLUDED.n`,
			`WITH gone AS (DELETE FROM link_stats_sent WHERE ctid IN (SELECT ctid FROM link_stats_sent
					WHERE hour < ? AND shard <> 0 FOR UPDATE SKIP LOCKED)
				RETURNING campaign_id, hour, device, os, in_app, sent, clicked, opened, friend, linked)
			INSERT INTO link_stats_sent AS x (campaign_id, hour, shard, device, os, in_app, sent, clicked, opened, friend, linked)
			SELECT campaign_id, hour, 0, device, os, in_app, sum(sent), sum(clicked), sum(opened), sum(friend), sum(linked)
			FROM gone GROUP BY 1, 2, 4, 5, 6
			ON CONFLICT (campaign_id, hour, device, os, in_app, shard) DO UPDATE SET sent = x.sent + EXCLUDED.sent,
				clicked = x.clicked + EXCLUDED.clicked, opened = x.opened + EXCLUDED.opened, friend = x.friend + EXCLUDED.friend,
				linked = x.linked + EXCLUDED.linked`,
		} {
			res := tx.q(ctx).Exec(q, before)
			if res.Error != nil {
				return res.Error
			}
			folded += res.RowsAffected
		}
		return nil
	})
	return folded, err
}
