package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/omnilink/omnilink/internal/app"
	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// benchTokens is how many distinct cards the click load cycles through.
const benchTokens = 2000

// linkClicks measures GET /l/{token} (lookup, first-click write, redirect) against a bare
// net/http + pgx handler doing the same SQL.
func linkClicks(ctx context.Context, env *Env) ([]Table, error) {
	dbURL, err := env.Database(ctx)
	if err != nil {
		return nil, err
	}
	srv, tokens, err := startLinkApp(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer srv.close()
	base, err := startClickBaseline(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer base.close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: env.Settings.Clients * 2},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	s := env.Settings
	// Each measured run starts with every card unclicked, so both servers make the same first-click
	// writes (one per card) and answer the same repeated clicks.
	unclick := func() error {
		_, err := srv.pool.Exec(ctx, `UPDATE link_attempts SET first_clicked_at = NULL, opened_at = NULL, device = '', os = '', in_app = ''`)
		return err
	}
	clickLoad(client, base.url, tokens, s.Warmup, s.Clients, s.MaxTime)
	if err := unclick(); err != nil {
		return nil, err
	}
	b := clickLoad(client, base.url, tokens, s.Requests, s.Clients, s.MaxTime)
	b.name = "bare net/http + pgx"
	clickLoad(client, srv.url, tokens, s.Warmup, s.Clients, s.MaxTime)
	if err := unclick(); err != nil {
		return nil, err
	}
	o := clickLoad(client, srv.url, tokens, s.Requests, s.Clients, s.MaxTime)
	o.name = "omnilink GET /l/{token}"
	var clicked int
	if err := srv.pool.QueryRow(ctx, `SELECT count(*) FROM link_attempts WHERE first_clicked_at IS NOT NULL`).Scan(&clicked); err != nil {
		return nil, err
	}
	row := func(r run) []string {
		return []string{r.name, fmt.Sprint(r.ok + r.bad), fmt.Sprint(r.bad), fmt.Sprintf("%.0f", rate(r)),
			fmt.Sprintf("%.2f", ms(pct(r.lat, 50))), fmt.Sprintf("%.2f", ms(pct(r.lat, 99)))}
	}
	return []Table{{
		Title:  "OmniLink click: GET /l/{token} → 302 (fsync on)",
		Header: []string{"server", "requests", "errors", "req/s", "p50 ms", "p99 ms"},
		Rows:   [][]string{row(b), row(o)},
		Notes: []string{fmt.Sprintf("omnilink / bare = %.2f× (goal ≥ 0.6×); %d clients, %d distinct cards, each run first clicks every card once; participations recorded: %d",
			rate(o)/max(rate(b), 1), s.Clients, len(tokens), clicked),
			fmt.Sprintf("p99 %.2f ms (goal ≤ 10 ms; the bare handler's %.2f ms is this machine's floor at full load)", ms(pct(o.lat, 99)), ms(pct(b.lat, 99)))},
	}}, nil
}

// clickOnce GETs one link as a phone browser would; a 302 is success.
func clickOnce(client *http.Client, url string) bool {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148 Safari/604.1")
	res, err := client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode == http.StatusFound
}

// clickLoad GETs the cards' links round-robin over c keep-alive clients; 302 counts as success.
func clickLoad(client *http.Client, base string, tokens []string, n, c int, maxTime time.Duration) run {
	var next atomic.Int64
	var mu sync.Mutex
	var r run
	start := time.Now()
	deadline := start.Add(maxTime)
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			var lat []time.Duration
			ok, bad := 0, 0
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || time.Now().After(deadline) {
					break
				}
				t0 := time.Now()
				if !clickOnce(client, base+"/l/"+tokens[int(i)%len(tokens)]) {
					bad++
					continue
				}
				ok++
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			r.ok, r.bad, r.lat = r.ok+ok, r.bad+bad, append(r.lat, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	slices.Sort(r.lat)
	return r
}

// startLinkApp builds the server as main does with an Instagram → LINE campaign and mints
// benchTokens cards for as many Instagram contacts.
func startLinkApp(ctx context.Context, dbURL string) (*server, []string, error) {
	ln, url, err := listen()
	if err != nil {
		return nil, nil, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	cfg, err := config.Finish(config.Config{
		DatabaseURL: dbURL, Addr: ln.Addr().String(), BaseURL: url, SecretKey: base64.StdEncoding.EncodeToString(key),
		Providers: config.ProvidersSandbox, LogLevel: "info", MetaGraphVersion: "v25.0", HealthCheckInterval: time.Hour, OutboxConcurrency: 64,
		MailFrom: "omnilink <noreply@omnilink.bench>", LinkRatePerMinute: 1 << 30,
	})
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(dbURL)
	if err != nil {
		return nil, nil, err
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := app.Build(cfg, st, log, app.Options{})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	tokens, err := seedLinkBench(ctx, a, benchTokens)
	if err != nil {
		_ = a.Close()
		st.Close()
		return nil, nil, err
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		_ = a.Close()
		st.Close()
		return nil, nil, err
	}
	// A live database has planner statistics; a freshly seeded one has none until autovacuum runs.
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		pool.Close()
		_ = a.Close()
		st.Close()
		return nil, nil, err
	}
	runCtx, stop := context.WithCancel(ctx)
	a.Run(runCtx)
	hs := &http.Server{Handler: a.Echo, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return &server{url: url, pool: pool, close: func() { stop(); _ = hs.Close(); _ = a.Close(); pool.Close(); _ = st.Close() }}, tokens, nil
}

// seedLinkBench makes an enabled Instagram → LINE campaign and sends its card to n new
// Instagram contacts, returning the cards' tokens.
func seedLinkBench(ctx context.Context, a *app.App, n int) ([]string, error) {
	team := &models.Team{Name: "bench links", Locale: "zh-TW", PlanStatus: models.PlanActive}
	if err := a.Store.CreateTeam(ctx, team); err != nil {
		return nil, err
	}
	ig, err := benchChannel(ctx, a, team.ID, models.Instagram, "17841400000000777", models.Credentials{AccessToken: "ig-token"})
	if err != nil {
		return nil, err
	}
	ln, err := benchChannel(ctx, a, team.ID, models.LINE, "Ub0a5e1c2d3f4a5b6c7d8e9f0a1b2c777", models.Credentials{AccessToken: "line-token", ChannelSecret: benchLineSecret})
	if err != nil {
		return nil, err
	}
	ln.Settings.LiffID, ln.Settings.LoginChannelID = "2000000777-Bench", "2000000777"
	if err := a.Store.SaveChannel(ctx, ln); err != nil {
		return nil, err
	}
	camp := &models.Campaign{TeamID: team.ID, Name: "bench", Status: models.CampaignEnabled, SourceChannelID: ig.ID, TargetChannelID: ln.ID,
		Card: models.CardContent{Title: "t", Button: "b"}, SuccessTarget: models.Action{Kind: models.ActionText, Text: "ok"},
		SuccessSource: models.Action{Kind: models.ActionNone}, FailureSource: models.Action{Kind: models.ActionNone}, TokenTTLDays: 7}
	if err := a.Store.CreateCampaign(ctx, camp); err != nil {
		return nil, err
	}
	tokens := make([]string, 0, n)
	err = a.Store.WithTx(ctx, func(tx *store.Store) error {
		for i := range n {
			id, _, err := tx.UpsertContact(ctx, store.ContactActivity{TeamID: team.ID, ChannelID: ig.ID, ExternalUserID: fmt.Sprintf("igsid-%d", i)})
			if err != nil {
				return err
			}
			link, err := a.Links.CardLink(ctx, tx, team.ID, camp.ID, id)
			if err != nil {
				return err
			}
			tokens = append(tokens, link[strings.LastIndex(link, "/")+1:])
		}
		return nil
	})
	return tokens, err
}

// startClickBaseline is the same click in plain net/http + pgx: one lookup of the token with its
// campaign, channels and contact, one first-click write, one redirect.
func startClickBaseline(ctx context.Context, dbURL string) (*server, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 20
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	ln, url, err := listen()
	if err != nil {
		pool.Close()
		return nil, err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := strings.TrimPrefix(r.URL.Path, "/l/")
		if len(raw) != 22 {
			http.NotFound(w, r)
			return
		}
		sum := sha256.Sum256([]byte(raw))
		var team, camp, contact int64
		var liff string
		var expires time.Time
		err := pool.QueryRow(r.Context(), `SELECT t.team_id, t.campaign_id, t.source_contact_id, t.expires_at, tg.settings->>'liff_id'
			FROM link_tokens t JOIN campaigns c ON c.id = t.campaign_id AND c.status = 'enabled' AND c.deleted_at IS NULL
			JOIN channels s ON s.id = c.source_channel_id AND s.status <> 'disconnected'
			JOIN contacts ct ON ct.id = t.source_contact_id AND ct.channel_id = s.id
			JOIN channels tg ON tg.id = c.target_channel_id AND tg.status <> 'disconnected'
			WHERE t.token_hash = $1 AND t.used_at IS NULL`, sum[:]).Scan(&team, &camp, &contact, &expires, &liff)
		if err != nil || !time.Now().Before(expires) {
			http.NotFound(w, r)
			return
		}
		if _, err := pool.Exec(r.Context(), `UPDATE link_attempts SET
				device = CASE WHEN first_clicked_at IS NULL THEN 'mobile' ELSE device END,
				os = CASE WHEN first_clicked_at IS NULL THEN 'ios' ELSE os END,
				first_clicked_at = coalesce(first_clicked_at, now()), opened_at = coalesce(opened_at, now()), updated_at = now()
			WHERE team_id = $1 AND campaign_id = $2 AND source_contact_id = $3 AND (first_clicked_at IS NULL OR opened_at IS NULL)`,
			team, camp, contact); err != nil {
			http.Error(w, "store failed", http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "https://liff.line.me/"+liff+"?t="+raw, http.StatusFound)
	})
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return &server{url: url, pool: pool, close: func() { _ = hs.Close(); pool.Close() }}, nil
}
