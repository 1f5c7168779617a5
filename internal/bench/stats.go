package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/csv"
	"flag"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/omnilink/omnilink/internal/app"
	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

var statsAttempts = flag.Int("stats-attempts", 1_000_000, "participations seeded for the statistics benchmark")

// statsBench measures one campaign's statistics page and CSV export with a million
// participations spread over 60 days, beside bare pgx running the same queries.
func statsBench(ctx context.Context, env *Env) ([]Table, error) {
	dbURL, err := env.Database(ctx)
	if err != nil {
		return nil, err
	}
	ln, base, err := listen()
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	cfg, err := config.Finish(config.Config{DatabaseURL: dbURL, Addr: ln.Addr().String(), BaseURL: base, SecretKey: base64.StdEncoding.EncodeToString(key),
		Providers: config.ProvidersSandbox, LogLevel: "info", MetaGraphVersion: "v25.0", HealthCheckInterval: time.Hour, OutboxConcurrency: 64, MailFrom: "omnilink <noreply@omnilink.bench>"})
	if err != nil {
		return nil, err
	}
	st, err := store.Open(dbURL)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	a, err := app.Build(cfg, st, slog.New(slog.NewJSONHandler(io.Discard, nil)), app.Options{})
	if err != nil {
		return nil, err
	}
	defer a.Close()
	hs := &http.Server{Handler: a.Echo, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer pool.Close()

	n := *statsAttempts
	t0 := time.Now()
	teamID, campID, email, err := seedStats(ctx, a, pool, n)
	if err != nil {
		return nil, err
	}
	seeded := time.Since(t0)

	client, err := statsLogin(base, email)
	if err != nil {
		return nil, err
	}
	now := time.Now().In(time.FixedZone("Asia/Taipei", 8*3600))
	q := url.Values{"from": {now.AddDate(0, 0, -29).Format("2006-01-02")}, "to": {now.Format("2006-01-02")}}
	page := fmt.Sprintf("%s/campaigns/%d/stats?%s", base, campID, q.Encode())
	searched := page + "&q=igsid-4242"
	later := page + "&fp=200"
	get := func(u string) error {
		res, err := client.Get(u)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		_, _ = io.Copy(io.Discard, res.Body)
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %d", u, res.StatusCode)
		}
		return nil
	}
	const rounds = 40
	timeIt := func(fn func() error) ([]time.Duration, error) {
		var lat []time.Duration
		for range rounds {
			t := time.Now()
			if err := fn(); err != nil {
				return nil, err
			}
			lat = append(lat, time.Since(t))
		}
		slices.Sort(lat)
		return lat, nil
	}
	_ = get(page)
	rng := store.StatsRange{From: time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location()).AddDate(0, 0, -29)}
	rng.To = rng.From.AddDate(0, 0, 30)
	bare, err := timeIt(func() error { return bareStatsQueries(ctx, pool, teamID, campID, rng) })
	if err != nil {
		return nil, err
	}
	var rows [][]string
	for _, c := range []struct{ name, url string }{{"page, last 30 days", page}, {"page, search by id", searched}, {"page, failure list page 200", later}} {
		lat, err := timeIt(func() error { return get(c.url) })
		if err != nil {
			return nil, err
		}
		rows = append(rows, []string{"omnilink " + c.name, fmt.Sprintf("%.1f", ms(pct(lat, 50))), fmt.Sprintf("%.1f", ms(pct(lat, 95)))})
	}
	rows = append(rows, []string{"bare pgx, same queries (30 days)", fmt.Sprintf("%.1f", ms(pct(bare, 50))), fmt.Sprintf("%.1f", ms(pct(bare, 95)))})

	// The export: 89 days (all of it), streamed through HTTP; memory is the server's heap growth.
	eq := url.Values{"from": {now.AddDate(0, 0, -88).Format("2006-01-02")}, "to": {now.Format("2006-01-02")}}
	var exported int
	d, peak, alloc, err := measureMem(func() error {
		res, err := client.Get(fmt.Sprintf("%s/campaigns/%d/stats/export?%s", base, campID, eq.Encode()))
		if err != nil {
			return err
		}
		defer res.Body.Close()
		r := csv.NewReader(res.Body)
		r.FieldsPerRecord = -1
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			exported++
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("export: %d", res.StatusCode)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	exported-- // the header
	bareRows, bareD, err := bareExport(ctx, pool, teamID, campID, store.StatsRange{From: rng.From.AddDate(0, 0, -59), To: rng.To})
	if err != nil {
		return nil, err
	}
	return []Table{{
		Title:  fmt.Sprintf("Campaign statistics page with %d participations (fsync on)", n),
		Header: []string{"request", "p50 ms", "p95 ms"},
		Rows:   rows,
		Notes:  []string{fmt.Sprintf("goal: page p95 ≤ 300 ms; %d sequential requests each; seeding took %s", rounds, seeded.Round(time.Second))},
	}, {
		Title:  "Campaign CSV export, 89 days",
		Header: []string{"export", "rows", "seconds", "rows/s", "peak heap growth MB", "allocated MB"},
		Rows: [][]string{
			{"omnilink GET …/stats/export", fmt.Sprint(exported), fmt.Sprintf("%.2f", d.Seconds()), fmt.Sprintf("%.0f", float64(exported)/d.Seconds()),
				fmt.Sprintf("%.1f", float64(peak)/(1<<20)), fmt.Sprintf("%.0f", float64(alloc)/(1<<20))},
			{"bare pgx + encoding/csv to io.Discard", fmt.Sprint(bareRows), fmt.Sprintf("%.2f", bareD.Seconds()), fmt.Sprintf("%.0f", float64(bareRows)/bareD.Seconds()), "", ""},
		},
		Notes: []string{"goal: ≥ 50,000 rows/s with flat memory (peak heap growth stays small while allocation grows with the rows: nothing is held)"},
	}}, nil
}

// seedStats writes a team, an Instagram → LINE campaign, n Instagram contacts and n
// participations over the last 60 days (40% linked with a LINE contact, 35% open, 25% failed
// with stored reasons) in a few set-based statements, then vacuums so the covering indexes serve.
func seedStats(ctx context.Context, a *app.App, pool *pgxpool.Pool, n int) (teamID, campID int64, email string, err error) {
	team := &models.Team{Name: "bench stats", Locale: "zh-TW", PlanStatus: models.PlanActive}
	if err = a.Store.CreateTeam(ctx, team); err != nil {
		return
	}
	ig, err := benchChannel(ctx, a, team.ID, models.Instagram, "17841400000000888", models.Credentials{AccessToken: "ig"})
	if err != nil {
		return
	}
	ln, err := benchChannel(ctx, a, team.ID, models.LINE, "Ub0a5e1c2d3f4a5b6c7d8e9f0a1b2c888", models.Credentials{AccessToken: "line", ChannelSecret: benchLineSecret})
	if err != nil {
		return
	}
	camp := &models.Campaign{TeamID: team.ID, Name: "bench stats", Status: models.CampaignEnabled, SourceChannelID: ig.ID, TargetChannelID: ln.ID,
		Card: models.CardContent{Title: "t", Button: "b"}, SuccessTarget: models.Action{Kind: models.ActionText, Text: "ok"},
		SuccessSource: models.Action{Kind: models.ActionNone}, FailureSource: models.Action{Kind: models.ActionNone}, TokenTTLDays: 7}
	if err = a.Store.CreateCampaign(ctx, camp); err != nil {
		return
	}
	hash, err := a.Accounts.HashPassword(statsPassword)
	if err != nil {
		return
	}
	email = "bench@stats.bench"
	if err = a.Store.CreateUser(ctx, &models.User{TeamID: team.ID, Email: email, Name: "bench", PasswordHash: hash, Role: models.RoleMarketer}); err != nil {
		return
	}
	stmts := []string{
		`INSERT INTO contacts (team_id, channel_id, external_user_id, name, first_seen_at, updated_at)
			SELECT $1::bigint, $2::bigint, 'igsid-' || g, '顧客 ' || g, now(), now() FROM generate_series(1, $4::int) g WHERE $3::bigint > 0`,
		`INSERT INTO contacts (team_id, channel_id, external_user_id, name, first_seen_at, updated_at)
			SELECT $1::bigint, $3::bigint, 'U' || md5(g::text), 'LINE 顧客 ' || g, now(), now() FROM generate_series(1, $4::int) g WHERE g % 10 < 4 AND $2::bigint > 0`,
		`INSERT INTO link_attempts (team_id, campaign_id, source_contact_id, card_sent_at, first_clicked_at, opened_at, device, os, in_app,
				friend_required_at, target_contact_id, target_created, status, reason, completed_at, created_at, updated_at)
			SELECT $1::bigint, $5::bigint, s.id, t0, t0 + interval '1 minute', t0 + interval '2 minutes',
				CASE WHEN g % 7 = 0 THEN 'desktop' ELSE 'mobile' END, CASE WHEN g % 3 = 0 THEN 'android' ELSE 'ios' END,
				CASE WHEN g % 5 = 0 THEN 'facebook' WHEN g % 5 = 1 THEN 'instagram' ELSE '' END,
				CASE WHEN g % 10 = 9 THEN t0 + interval '3 minutes' END,
				CASE WHEN g % 10 < 4 THEN tc.id END, g % 10 < 2,
				CASE WHEN g % 10 < 4 THEN 'linked' WHEN g % 10 < 6 THEN 'failed' ELSE 'open' END,
				CASE WHEN g % 10 = 4 THEN 'member_conflict' WHEN g % 10 = 5 THEN 'none' ELSE '' END,
				CASE WHEN g % 10 < 6 THEN t0 + interval '4 minutes' END, t0, t0
			FROM generate_series(1, $4::int) g
			CROSS JOIN LATERAL (SELECT now() - (g::bigint * 5184000 / $4::int)::float8 * interval '1 second' AS t0) t
			JOIN contacts s ON s.team_id = $1 AND s.channel_id = $2 AND s.external_user_id = 'igsid-' || g
			LEFT JOIN contacts tc ON tc.team_id = $1 AND tc.channel_id = $3 AND tc.external_user_id = 'U' || md5(g::text)`,
	}
	for _, q := range stmts {
		if strings.Contains(q, "link_attempts") {
			// Fresh statistics, or the planner joins a million rows by scanning.
			if _, err = pool.Exec(ctx, `ANALYZE contacts`); err != nil {
				return
			}
		}
		args := []any{team.ID, ig.ID, ln.ID, n}
		if strings.Contains(q, "$5") {
			args = append(args, camp.ID)
		}
		if _, err = pool.Exec(ctx, q, args...); err != nil {
			return
		}
	}
	_, err = pool.Exec(ctx, `VACUUM ANALYZE link_attempts`)
	if err == nil {
		_, err = pool.Exec(ctx, `VACUUM ANALYZE contacts`)
	}
	return team.ID, camp.ID, email, err
}

const statsPassword = "bench-password-long"

var benchCSRF = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// statsLogin signs in through the login form, as a browser does.
func statsLogin(base, email string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(base + "/login")
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := benchCSRF.FindSubmatch(b)
	if m == nil {
		return nil, fmt.Errorf("login page has no CSRF token")
	}
	res, err = c.PostForm(base+"/login", url.Values{"_csrf": {html.UnescapeString(string(m[1]))}, "email": {email}, "password": {statsPassword}})
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("login: %d", res.StatusCode)
	}
	return c, nil
}

// bareStatsQueries runs what the page reads, straight through pgx: figures with daily counts and
// the funnel from the hourly counters, and the first page of each list.
func bareStatsQueries(ctx context.Context, pool *pgxpool.Pool, teamID, campID int64, r store.StatsRange) error {
	for _, q := range []string{
		`SELECT to_char(hour AT TIME ZONE 'Asia/Taipei', 'YYYY-MM-DD'), status, reason, target_created, sum(n) FROM link_stats_clicks
			WHERE campaign_id = (SELECT id FROM campaigns WHERE team_id = $1 AND id = $2) AND hour >= $3 AND hour < $4 GROUP BY 1, 2, 3, 4`,
		`SELECT device, os, in_app, sum(sent), sum(clicked), sum(opened), sum(friend), sum(linked) FROM link_stats_sent
			WHERE campaign_id = (SELECT id FROM campaigns WHERE team_id = $1 AND id = $2) AND hour >= $3 AND hour < $4 GROUP BY GROUPING SETS ((), (device), (os), (in_app))`,
		`SELECT a.id, sc.name, tc.name FROM link_attempts a JOIN contacts sc ON sc.id = a.source_contact_id LEFT JOIN contacts tc ON tc.id = a.target_contact_id
			WHERE a.team_id = $1 AND a.campaign_id = $2 AND a.first_clicked_at >= $3 AND a.first_clicked_at < $4 AND a.status = 'linked' ORDER BY a.first_clicked_at DESC, a.id DESC LIMIT 50`,
		`SELECT a.id, sc.name FROM link_attempts a JOIN contacts sc ON sc.id = a.source_contact_id
			WHERE a.team_id = $1 AND a.campaign_id = $2 AND a.first_clicked_at >= $3 AND a.first_clicked_at < $4 AND a.status IN ('open', 'failed') ORDER BY a.first_clicked_at DESC, a.id DESC LIMIT 50`,
	} {
		rows, err := pool.Query(ctx, q, teamID, campID, r.From, r.To)
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// bareExport streams the same rows through pgx into encoding/csv writing to io.Discard.
func bareExport(ctx context.Context, pool *pgxpool.Pool, teamID, campID int64, r store.StatsRange) (int, time.Duration, error) {
	t := time.Now()
	rows, err := pool.Query(ctx, `SELECT a.status, a.reason, sc.name, sc.external_user_id, coalesce(tc.name, ''), coalesce(tc.external_user_id, ''), a.first_clicked_at, a.completed_at
		FROM link_attempts a JOIN contacts sc ON sc.id = a.source_contact_id LEFT JOIN contacts tc ON tc.id = a.target_contact_id
		WHERE a.team_id = $1 AND a.campaign_id = $2 AND a.first_clicked_at >= $3 AND a.first_clicked_at < $4
		ORDER BY (a.status = 'linked') DESC, a.first_clicked_at, a.id`, teamID, campID, r.From, r.To)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	w := csv.NewWriter(io.Discard)
	n := 0
	var status, reason, sn, se, tn, te string
	var clicked time.Time
	var done *time.Time
	for rows.Next() {
		if err := rows.Scan(&status, &reason, &sn, &se, &tn, &te, &clicked, &done); err != nil {
			return 0, 0, err
		}
		c := ""
		if done != nil {
			c = done.Format("2006-01-02 15:04:05 -07:00")
		}
		_ = w.Write([]string{status, sn, se, tn, te, clicked.Format("2006-01-02 15:04:05 -07:00"), c, reason})
		n++
	}
	w.Flush()
	return n, time.Since(t), rows.Err()
}
