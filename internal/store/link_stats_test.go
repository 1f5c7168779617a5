package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/testutil"
)

const linkStatsSeed = `
INSERT INTO teams (id, name, locale, plan_status, notification_emails) VALUES (1, 'T', 'en', 'active', '[]');
INSERT INTO users (id, team_id, email, name, password_hash, role, invite_pending) VALUES (1, 1, 'a@a.test', 'A', 'h', 'admin', false);
INSERT INTO channels (id, team_id, platform, external_id, display_name, credentials, settings, status) VALUES
  (1, 1, 'instagram', 'ig', 'IG', 'c', '{}', 'active'), (2, 1, 'line', 'U1', 'LINE', 'c', '{}', 'active');
INSERT INTO campaigns (id, team_id, name, status, source_channel_id, target_channel_id, card_title, card_text, card_button,
    success_source_kind, success_target_kind, success_target_text, failure_source_kind, tags_source, tags_target, token_ttl_days, version, created_by) VALUES
  (1, 1, 'one', 'enabled', 1, 2, 't', 't', 'b', 'none', 'text', 'ok', 'none', '[]', '[]', 7, 1, 1),
  (2, 1, 'two', 'enabled', 1, 2, 't', 't', 'b', 'none', 'text', 'ok', 'none', '[]', '[]', 7, 1, 1);
INSERT INTO contacts (id, team_id, channel_id, external_user_id, name)
  SELECT g, 1, 1, 'igsid-' || g, '' FROM generate_series(1, 200) g;
`

// The counters the triggers keep must equal a count over the participations themselves,
// whatever mix of inserts, updates and deletes arrives from concurrent connections (each
// backend writes its own shard), and compacting past hours must not change a sum.
func TestLinkStatsCountersMatchParticipations(t *testing.T) {
	ctx := context.Background()
	url := testutil.DatabaseURL(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, linkStatsSeed); err != nil {
		t.Fatal(err)
	}
	base := time.Now().UTC().Truncate(time.Hour).Add(-72 * time.Hour)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range 300 {
				if err := linkStatsStep(ctx, pool, r, base); err != nil {
					errs <- fmt.Errorf("worker %d step %d: %w", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var shards int
	if err := pool.QueryRow(ctx, `SELECT count(DISTINCT shard) FROM link_stats_sent`).Scan(&shards); err != nil {
		t.Fatal(err)
	}
	if shards < 2 {
		t.Fatalf("counters written by %d shard(s); concurrent connections should write their own", shards)
	}
	compareLinkStats(t, ctx, pool, "after the writes")

	st, err := store.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cutoff := base.Add(48 * time.Hour)
	if _, err := st.CompactLinkStatsForSweep(ctx, cutoff); err != nil {
		t.Fatal(err)
	}
	compareLinkStats(t, ctx, pool, "after compacting")
	var stray int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM link_stats_clicks WHERE hour < $1 AND shard <> 0)
		+ (SELECT count(*) FROM link_stats_sent WHERE hour < $1 AND shard <> 0)`, cutoff).Scan(&stray); err != nil {
		t.Fatal(err)
	}
	if stray != 0 {
		t.Fatalf("%d counter rows of compacted hours are still outside shard 0", stray)
	}
	var later int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM link_stats_sent WHERE hour >= $1 AND shard <> 0`, cutoff).Scan(&later); err != nil {
		t.Fatal(err)
	}
	if later == 0 {
		t.Fatal("the hours after the cutoff were compacted too")
	}
	// Writes after a compaction land beside shard 0 and still add up.
	r := rand.New(rand.NewPCG(99, 7))
	for range 100 {
		if err := linkStatsStep(ctx, pool, r, base); err != nil {
			t.Fatal(err)
		}
	}
	compareLinkStats(t, ctx, pool, "after writing on compacted hours")
}

// linkStatsStep makes one random change a participation can go through: sent, clicked (at some
// hour, on some device), opened, friend required, linked or failed, re-sent, or deleted.
func linkStatsStep(ctx context.Context, pool *pgxpool.Pool, r *rand.Rand, base time.Time) error {
	camp, contact := 1+r.IntN(2), 1+r.IntN(200)
	at := base.Add(time.Duration(r.IntN(72*60)) * time.Minute)
	var q string
	var args []any
	switch r.IntN(8) {
	case 0, 1:
		q = `INSERT INTO link_attempts (team_id, campaign_id, source_contact_id, card_sent_at, created_at) VALUES (1, $1, $2, $3, $3)
			ON CONFLICT (campaign_id, source_contact_id) DO UPDATE SET card_sent_at = EXCLUDED.card_sent_at`
		args = []any{camp, contact, at}
	case 2:
		devices := []string{"ios", "android", "desktop"}
		q = `UPDATE link_attempts SET first_clicked_at = coalesce(first_clicked_at, $3), device = $4, os = $4, in_app = 'line'
			WHERE campaign_id = $1 AND source_contact_id = $2`
		args = []any{camp, contact, at, devices[r.IntN(len(devices))]}
	case 3:
		q = `UPDATE link_attempts SET opened_at = $3 WHERE campaign_id = $1 AND source_contact_id = $2`
		args = []any{camp, contact, at}
	case 4:
		q = `UPDATE link_attempts SET friend_required_at = $3 WHERE campaign_id = $1 AND source_contact_id = $2`
		args = []any{camp, contact, at}
	case 5:
		q = `UPDATE link_attempts SET status = 'linked', reason = '', target_created = $3, completed_at = now()
			WHERE campaign_id = $1 AND source_contact_id = $2 AND first_clicked_at IS NOT NULL`
		args = []any{camp, contact, r.IntN(2) == 0}
	case 6:
		reasons := []string{"member_conflict", "disabled", "none"}
		q = `UPDATE link_attempts SET status = 'failed', reason = $3 WHERE campaign_id = $1 AND source_contact_id = $2`
		args = []any{camp, contact, reasons[r.IntN(len(reasons))]}
	default:
		q = `DELETE FROM link_attempts WHERE campaign_id = $1 AND source_contact_id = $2`
		args = []any{camp, contact}
	}
	_, err := pool.Exec(ctx, q, args...)
	return err
}

func compareLinkStats(t *testing.T, ctx context.Context, pool *pgxpool.Pool, when string) {
	t.Helper()
	pairs := []struct{ name, truth, counted string }{
		{"clicks",
			`SELECT campaign_id, date_trunc('hour', first_clicked_at), status, reason, target_created, count(*)
				FROM link_attempts WHERE first_clicked_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5`,
			`SELECT campaign_id, hour, status, reason, target_created, sum(n)::bigint FROM link_stats_clicks
				GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0`},
		{"sent",
			`SELECT campaign_id, date_trunc('hour', created_at),
				CASE WHEN first_clicked_at IS NULL THEN '-' ELSE device END, CASE WHEN first_clicked_at IS NULL THEN '-' ELSE os END,
				CASE WHEN first_clicked_at IS NULL THEN '-' ELSE in_app END,
				count(card_sent_at), count(first_clicked_at), count(opened_at), count(friend_required_at), count(*) FILTER (WHERE status = 'linked')
				FROM link_attempts GROUP BY 1, 2, 3, 4, 5`,
			`SELECT campaign_id, hour, device, os, in_app, sum(sent)::bigint, sum(clicked)::bigint, sum(opened)::bigint, sum(friend)::bigint, sum(linked)::bigint
				FROM link_stats_sent GROUP BY 1, 2, 3, 4, 5
				HAVING sum(sent) <> 0 OR sum(clicked) <> 0 OR sum(opened) <> 0 OR sum(friend) <> 0 OR sum(linked) <> 0`},
	}
	for _, p := range pairs {
		want, got := statsRows(t, ctx, pool, p.truth), statsRows(t, ctx, pool, p.counted)
		if len(want) == 0 {
			t.Fatalf("%s: no participations to count %s", p.name, when)
		}
		if !slices.Equal(want, got) {
			t.Fatalf("%s counters %s differ from the participations:\nwant %s\ngot  %s", p.name, when,
				strings.Join(want, "\n     "), strings.Join(got, "\n     "))
		}
	}
}

func statsRows(t *testing.T, ctx context.Context, pool *pgxpool.Pool, q string) []string {
	t.Helper()
	rows, err := pool.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		cols := make([]string, len(vals))
		for i, v := range vals {
			if tm, ok := v.(time.Time); ok {
				v = tm.UTC().Format(time.RFC3339)
			}
			cols[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(cols, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}
