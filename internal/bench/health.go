package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/internal/crypto"
	"github.com/omnilink/omnilink/internal/health"
	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/outbox"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
	emailviews "github.com/omnilink/omnilink/views/email"
)

const (
	healthLatency     = 100 * time.Millisecond // injected into every sandbox API call
	healthConcurrency = 64                     // the monitor's default
	healthBroken      = 10                     // accounts broken before each sweep, to exercise the alert path
	// healthUsageLimit is the sandbox's allowance per token and hour: Meta's documented 200 calls
	// per user and hour for an app with 300 daily users. debug_token runs on the app token, so
	// the app token carries most of the sweep.
	healthUsageLimit = 60000
)

// healthSizes are the fleet sizes swept, to show how the duration grows.
var healthSizes = []int{1000, 2500, 5000, 10000}

// healthSweep sweeps fleets of up to 10,000 channels (40% Instagram, 30% Facebook, 20% LINE,
// 10% WhatsApp) against the sandbox over HTTP with 100 ms injected per call.
func healthSweep(ctx context.Context, env *Env) ([]Table, error) {
	maxN := healthSizes[len(healthSizes)-1]
	world, accounts, err := benchWorld(ctx, maxN)
	if err != nil {
		return nil, fmt.Errorf("build the sandbox world: %w", err)
	}
	api := httptest.NewServer(world.APIHandler())
	defer api.Close()
	broken := 0
	for _, a := range accounts {
		if broken == healthBroken {
			break
		}
		if a.platform == models.Facebook || a.platform == models.Instagram {
			if err := world.BreakToken(sandbox.Target{Kind: sandbox.TargetPage, ID: a.pageID}, sandbox.CausePasswordChanged); err != nil {
				return nil, err
			}
			broken++
		}
	}
	bundle, err := i18n.Load()
	if err != nil {
		return nil, err
	}

	t := Table{
		Title:  fmt.Sprintf("health sweep (sandbox over HTTP, %s per call, %d channels checked at once)", healthLatency, healthConcurrency),
		Header: []string{"channels", "duration", "channels/s", "calls", "calls/s", "peak heap +", "peak usage", "throttled", "paced", "episodes", "emails", "2nd sweep emails"},
	}
	var first, last time.Duration
	for _, n := range healthSizes {
		r, err := sweepFleet(ctx, env, world, api.URL, bundle, accounts[:n])
		if err != nil {
			return nil, fmt.Errorf("%d channels: %w", n, err)
		}
		second := "-"
		if r.second != nil {
			second = fmt.Sprint(r.second.AlertsQueued)
		}
		d := r.rep.Finished.Sub(r.rep.Started)
		if n == healthSizes[0] {
			first = d
		}
		last = d
		t.Rows = append(t.Rows, []string{
			fmt.Sprint(n), d.Round(10 * time.Millisecond).String(),
			fmt.Sprintf("%.0f", float64(r.rep.Checked)/d.Seconds()),
			fmt.Sprint(r.rep.Calls), fmt.Sprintf("%.0f", float64(r.rep.Calls)/d.Seconds()),
			fmt.Sprintf("%.1f MiB", float64(r.peakHeap)/(1<<20)),
			fmt.Sprintf("%d%%", r.rep.Pacer.PeakPercent), fmt.Sprint(r.rep.Pacer.Throttled),
			r.rep.Pacer.Waited.Round(time.Millisecond).String(),
			fmt.Sprint(r.rep.Opened), fmt.Sprint(r.rep.AlertsQueued), second,
		})
		if r.rep.Healthy+r.rep.Broken != r.rep.Checked || r.rep.Checked != n {
			t.Notes = append(t.Notes, fmt.Sprintf("WARNING: %d channels: %d checked, %d healthy, %d broken, %d unknown",
				n, r.rep.Checked, r.rep.Healthy, r.rep.Broken, r.rep.Unknown))
		}
	}
	ideal := time.Duration(float64(maxN) * 2.7 * float64(healthLatency) / healthConcurrency)
	t.Notes = append(t.Notes,
		fmt.Sprintf("10,000 vs 1,000 channels: %.1f× the time for 10× the channels (linear: the sweep is bound by platform latency ÷ concurrency; ~%s is the floor at 2.7 calls per channel)", float64(last)/float64(first), ideal.Round(time.Second)),
		"target: 10,000 channels in ≤ 2 minutes; 'peak usage' is the highest X-App-Usage / X-Business-Use-Case-Usage the sandbox reported",
		fmt.Sprintf("sandbox allowance: %d calls per token per hour (usage keeps counting across the runs, as Meta's rolling hour does); the pacer slows down from 60%% and pauses at 85%%", healthUsageLimit),
		fmt.Sprintf("%d accounts of the first team were broken (password changed) before the sweeps: each run opens their %d episodes and queues one email for the team; a second sweep of the 1,000 fleet queues none", healthBroken, healthBroken),
		"peak heap +: the largest heap growth over the pre-sweep heap, sampled every 50 ms (the sandbox world of 10,000 accounts lives in the same process and is not counted)",
	)
	return []Table{t}, nil
}

type fleetResult struct {
	rep      health.SweepReport
	second   *health.SweepReport
	peakHeap uint64
}

// sweepFleet puts accounts into a fresh database as channels of teams of 100 and sweeps them once.
func sweepFleet(ctx context.Context, env *Env, world *sandbox.World, apiURL string, bundle *i18n.Bundle, accounts []benchAccount) (fleetResult, error) {
	var res fleetResult
	dbURL, err := env.Database(ctx)
	if err != nil {
		return res, err
	}
	st, err := store.Open(dbURL)
	if err != nil {
		return res, err
	}
	defer st.Close()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := crypto.NewBox(key)
	if err != nil {
		return res, err
	}
	if err := insertFleet(ctx, dbURL, st, box, accounts); err != nil {
		return res, err
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: 2 * healthConcurrency, MaxIdleConnsPerHost: 2 * healthConcurrency}}
	chans := channels.New(channels.Deps{Store: st, Box: box})
	mon := health.New(health.Deps{
		Store:       st,
		Credentials: chans,
		MetaConfig:  meta.Config{AppID: world.AppID(), AppSecret: world.AppSecret(), GraphURL: apiURL + "/graph", HTTPClient: hc},
		Line:        line.New(line.Config{APIURL: apiURL + "/line", HTTPClient: hc}),
		Compose:     health.NewComposer(bundle, emailviews.HealthAlert),
		BaseURL:     "https://omnilink.example",
		Log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, health.Options{Concurrency: healthConcurrency})

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > before.HeapAlloc && m.HeapAlloc-before.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc - before.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	res.rep, err = mon.Sweep(ctx, health.SweepOptions{Force: true})
	close(stop)
	wg.Wait()
	res.peakHeap = peak.Load()
	if err != nil {
		return res, err
	}
	if len(accounts) == healthSizes[0] {
		second, err := mon.Sweep(ctx, health.SweepOptions{Force: true})
		if err != nil {
			return res, err
		}
		res.second = &second
	}
	items, err := st.OutboxItems(ctx, outbox.KindEmail)
	if err != nil {
		return res, err
	}
	if len(items) != res.rep.AlertsQueued {
		return res, fmt.Errorf("outbox holds %d emails, the sweep reported %d", len(items), res.rep.AlertsQueued)
	}
	return res, nil
}

// insertFleet creates one team (with an admin) per 100 accounts and a live channel per account,
// its credentials sealed by the channels package.
func insertFleet(ctx context.Context, dbURL string, st *store.Store, box *crypto.Box, accounts []benchAccount) error {
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	var teams []int64
	for i := 0; i*100 < len(accounts); i++ {
		tm := &models.Team{Name: fmt.Sprintf("Bench team %d", i+1), Locale: "zh-TW", PlanStatus: models.PlanActive}
		if err := st.CreateTeam(ctx, tm); err != nil {
			return err
		}
		u := &models.User{TeamID: tm.ID, Email: fmt.Sprintf("admin%d@bench.test", i+1), Name: "Admin", PasswordHash: "-", Role: models.RoleAdmin}
		if err := st.CreateUser(ctx, u); err != nil {
			return err
		}
		teams = append(teams, tm.ID)
	}
	rows := make([][]any, 0, len(accounts))
	for i, a := range accounts {
		team := teams[i/100]
		ch := &models.Channel{TeamID: team, Platform: a.platform, ExternalID: a.externalID}
		if err := channels.SealCredentials(box, ch, a.creds); err != nil {
			return err
		}
		settings, _ := json.Marshal(a.settings)
		rows = append(rows, []any{team, string(a.platform), a.externalID, a.name, a.username, ch.Credentials, string(settings), string(models.ChannelActive)})
	}
	_, err = pool.CopyFrom(ctx, pgx.Identifier{"channels"},
		[]string{"team_id", "platform", "external_id", "display_name", "username", "credentials", "settings", "status"}, pgx.CopyFromRows(rows))
	if err != nil {
		return err
	}
	return nil
}

// benchAccount is one sandbox account and what its channel row holds.
type benchAccount struct {
	platform   models.Platform
	externalID string
	pageID     string
	name       string
	username   string
	settings   models.ChannelSettings
	creds      models.Credentials
}

// memState is a sandbox StateStore in memory; only the first Save (the world being created) is
// kept, so the world loaded from it never rewrites 10,000 accounts after each call.
type memState struct {
	mu    sync.Mutex
	data  []byte
	saves int
}

// Load returns the state the world starts from.
func (m *memState) Load(context.Context) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.data, nil
}

// Save keeps the first state written and ignores the rest.
func (m *memState) Save(_ context.Context, b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.saves == 0 {
		m.data = append([]byte(nil), b...)
	}
	m.saves++
	return nil
}

// benchWorld builds a sandbox world holding n extra accounts. The sandbox has no bulk API, so the
// seeded world's saved state (the form it persists in the database) is extended with copies of
// its own seeded Page, Instagram account, LINE account and WhatsApp number, then loaded.
func benchWorld(ctx context.Context, n int) (*sandbox.World, []benchAccount, error) {
	seedState := &memState{}
	w0, err := sandbox.New(sandbox.Options{Persist: seedState})
	if err != nil {
		return nil, nil, err
	}
	// A real Page token and subscription of the seeded Page, minted through the OAuth flow, give
	// the templates for the copies.
	client := &http.Client{Transport: w0.InProcessTransport("/api")}
	mc := meta.New(meta.Config{AppID: w0.AppID(), AppSecret: w0.AppSecret(), GraphURL: "http://sandbox.bench/api/graph", HTTPClient: client})
	pageToken, err := mintPageToken(ctx, w0, mc, "mei", sandbox.BearBakeryPageID)
	if err != nil {
		return nil, nil, err
	}
	if err := mc.SubscribeApp(ctx, sandbox.BearBakeryPageID, pageToken, []string{"messages"}); err != nil {
		return nil, nil, err
	}
	snap, err := w0.Snapshot()
	if err != nil {
		return nil, nil, err
	}
	var st map[string]any
	if err := json.Unmarshal(snap, &st); err != nil {
		return nil, nil, err
	}
	find := func(list, field, value string) (map[string]any, error) {
		for _, v := range st[list].([]any) {
			if m := v.(map[string]any); m[field] == value {
				return m, nil
			}
		}
		return nil, fmt.Errorf("sandbox state has no %s with %s %s", list, field, value)
	}
	tokens := st["tokens"].(map[string]any)
	userT, err := find("facebook_users", "id", sandbox.MeiUserID)
	if err != nil {
		return nil, nil, err
	}
	pageT, err := find("pages", "id", sandbox.BearBakeryPageID)
	if err != nil {
		return nil, nil, err
	}
	igT, err := find("instagram_accounts", "id", sandbox.BearBakeryIGID)
	if err != nil {
		return nil, nil, err
	}
	lineT := st["line_accounts"].([]any)[0].(map[string]any)
	waT := st["whatsapp_numbers"].([]any)[0].(map[string]any)
	pageTokT, _ := tokens[pageToken].(map[string]any)
	lineTokT, _ := tokens[lineT["access_token"].(string)].(map[string]any)
	waTokT, _ := tokens[waT["access_token"].(string)].(map[string]any)
	grantT, _ := st["grants"].(map[string]any)[sandbox.MeiUserID].(map[string]any)
	subT := st["subscriptions"].(map[string]any)[sandbox.BearBakeryPageID]
	if pageTokT == nil || lineTokT == nil || waTokT == nil || grantT == nil || subT == nil {
		return nil, nil, fmt.Errorf("sandbox state lacks a template token, grant or subscription")
	}

	clone := func(m map[string]any) map[string]any {
		b, _ := json.Marshal(m)
		var c map[string]any
		_ = json.Unmarshal(b, &c)
		return c
	}
	appendTo := func(list string, v any) { st[list] = append(st[list].([]any), v) }
	var accounts []benchAccount
	for i := 1; i <= n; i++ {
		switch i % 10 {
		case 0, 1, 2, 3, 4, 5, 6: // Facebook Pages, four in seven with an Instagram account
			userID, pageID := fmt.Sprintf("1017%013d", i), fmt.Sprintf("1059%011d", i)
			u := clone(userT)
			u["key"], u["id"], u["name"] = fmt.Sprintf("bench%d", i), userID, fmt.Sprintf("Bench User %d", i)
			u["roles"] = []any{map[string]any{"page_id": pageID, "tasks": []string{"MANAGE", "CREATE_CONTENT", "MODERATE", "MESSAGING", "ADVERTISE", "ANALYZE"}}}
			appendTo("facebook_users", u)
			p := clone(pageT)
			p["id"], p["name"] = pageID, fmt.Sprintf("Bench Page %d", i)
			delete(p, "instagram_id")
			tok := clone(pageTokT)
			value := "EAAM" + randomToken(88)
			tok["value"], tok["user_id"], tok["page_id"] = value, userID, pageID
			delete(tok, "page_tokens")
			tokens[value] = tok
			g := clone(grantT)
			st["grants"].(map[string]any)[userID] = g
			st["subscriptions"].(map[string]any)[pageID] = subT
			a := benchAccount{platform: models.Facebook, externalID: pageID, pageID: pageID, name: p["name"].(string), creds: models.Credentials{AccessToken: value}}
			if i%10 < 4 {
				igID := fmt.Sprintf("1784190%010d", i)
				p["instagram_id"] = igID
				ig := clone(igT)
				ig["id"], ig["username"], ig["name"], ig["page_id"] = igID, fmt.Sprintf("bench.%d", i), fmt.Sprintf("Bench IG %d", i), pageID
				appendTo("instagram_accounts", ig)
				a.platform, a.externalID, a.name, a.username = models.Instagram, igID, ig["name"].(string), ig["username"].(string)
				a.settings.PageID = pageID
			}
			appendTo("pages", p)
			accounts = append(accounts, a)
		case 7, 8: // LINE official accounts
			l := clone(lineT)
			value := randomToken(80)
			bot := "U" + hex.EncodeToString(fmt.Appendf(nil, "%016d", i))
			l["channel_id"], l["bot_user_id"], l["basic_id"] = fmt.Sprintf("2100%06d", i), bot, fmt.Sprintf("@bench%d", i)
			l["login_channel_id"], l["liff_id"], l["display_name"], l["access_token"] = fmt.Sprintf("2200%06d", i), fmt.Sprintf("2200%06d-bench", i), fmt.Sprintf("Bench LINE %d", i), value
			appendTo("line_accounts", l)
			tok := clone(lineTokT)
			tok["value"], tok["account_id"] = value, l["channel_id"]
			tokens[value] = tok
			accounts = append(accounts, benchAccount{platform: models.LINE, externalID: bot, name: l["display_name"].(string), username: l["basic_id"].(string),
				settings: models.ChannelSettings{LineChannelID: l["channel_id"].(string)}, creds: models.Credentials{AccessToken: value, ChannelSecret: "bench"}})
		case 9: // WhatsApp numbers
			wa := clone(waT)
			value := "EAAS" + randomToken(88)
			phone, waba := fmt.Sprintf("1099%011d", i), fmt.Sprintf("1029%011d", i)
			wa["phone_number_id"], wa["waba_id"], wa["access_token"], wa["verified_name"] = phone, waba, value, fmt.Sprintf("Bench WA %d", i)
			appendTo("whatsapp_numbers", wa)
			tok := clone(waTokT)
			tok["value"], tok["account_id"] = value, phone
			tokens[value] = tok
			accounts = append(accounts, benchAccount{platform: models.WhatsApp, externalID: phone, name: wa["verified_name"].(string),
				settings: models.ChannelSettings{WABAID: waba}, creds: models.Credentials{AccessToken: value}})
		}
	}
	big, err := json.Marshal(st)
	if err != nil {
		return nil, nil, err
	}
	w, err := sandbox.New(sandbox.Options{Persist: &memState{data: big, saves: 1}, Latency: healthLatency, UsageLimit: healthUsageLimit})
	if err != nil {
		return nil, nil, err
	}
	return w, accounts, nil
}

// mintPageToken runs the Facebook Login code flow against the sandbox for a user's Page.
func mintPageToken(ctx context.Context, w *sandbox.World, mc *meta.Client, userKey, pageID string) (string, error) {
	u, ok := w.FacebookUser(userKey)
	if !ok {
		return "", fmt.Errorf("no sandbox user %s", userKey)
	}
	const redirect = "https://omnilink.bench/oauth/meta/callback"
	loc, err := w.Authorize(u.ID, w.DefaultGrant(u.ID, sandbox.AppScopes()), redirect, "bench")
	if err != nil {
		return "", err
	}
	parsed, err := url.Parse(loc)
	if err != nil {
		return "", err
	}
	short, err := mc.ExchangeCode(ctx, parsed.Query().Get("code"), redirect)
	if err != nil {
		return "", err
	}
	long, err := mc.ExchangeLongLived(ctx, short.AccessToken)
	if err != nil {
		return "", err
	}
	pages, err := mc.Accounts(ctx, long.AccessToken)
	if err != nil {
		return "", err
	}
	for _, p := range pages {
		if p.ID == pageID {
			return p.AccessToken, nil
		}
	}
	return "", fmt.Errorf("%s has no Page %s", userKey, pageID)
}

func randomToken(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
