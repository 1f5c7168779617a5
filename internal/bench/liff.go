package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/omnilink/omnilink/internal/app"
	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/store"
)

// liffLinksRun is how many links the LIFF bench completes: enough that the outbox's tail after
// the last request is a small part of the push rate.
const liffLinksRun = 6000

// verifyLatency is the LINE Login verify round trip the LIFF bench injects.
const verifyLatency = 20 * time.Millisecond

// fakeLINE answers ID-token verification after verifyLatency (sub derived from the token),
// answers profiles (every user is a friend) and accepts pushes, counting them.
type fakeLINE struct {
	pushes atomic.Int64
	last   atomic.Int64 // unix nanos of the latest push
}

func (f *fakeLINE) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch path := r.URL.Path; {
	case path == "/oauth2/v2.1/verify":
		_ = r.ParseForm()
		time.Sleep(verifyLatency)
		sum := sha256.Sum256([]byte(r.Form.Get("id_token")))
		now := time.Now().Unix()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"iss": "https://access.line.me", "sub": "U" + hex.EncodeToString(sum[:16]),
			"aud": r.Form.Get("client_id"), "exp": now + 3600, "iat": now, "amr": []string{"linesso"}})
	case strings.HasPrefix(path, "/v2/bot/profile/"):
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"userId": strings.TrimPrefix(path, "/v2/bot/profile/"),
			"displayName": "顧客", "language": "zh-TW"})
	case path == "/v2/bot/message/push":
		_, _ = io.Copy(io.Discard, r.Body)
		f.pushes.Add(1)
		f.last.Store(time.Now().UnixNano())
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"sentMessages":[{"id":"1","quoteToken":"q"}]}`))
	default:
		http.NotFound(w, r)
	}
}

// liffLinks measures POST /liff/api/link end to end with LINE's verification 20 ms away: each
// request links a new Instagram contact to a new LINE user, and the LINE success push leaves
// through the outbox.
func liffLinks(ctx context.Context, env *Env) ([]Table, error) {
	dbURL, err := env.Database(ctx)
	if err != nil {
		return nil, err
	}
	fake := &fakeLINE{}
	fl, flURL, err := listen()
	if err != nil {
		return nil, err
	}
	fs := &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = fs.Serve(fl) }()
	defer fs.Close()

	ln, url, err := listen()
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	cfg, err := config.Finish(config.Config{
		DatabaseURL: dbURL, Addr: ln.Addr().String(), BaseURL: url, SecretKey: base64.StdEncoding.EncodeToString(key),
		Providers: config.ProvidersSandbox, LogLevel: "info", MetaGraphVersion: "v25.0", HealthCheckInterval: time.Hour, OutboxConcurrency: 64,
		MailFrom: "omnilink <noreply@omnilink.bench>", LinkRatePerMinute: 1 << 30, LineAPIURL: flURL,
	})
	if err != nil {
		return nil, err
	}
	st, err := store.Open(dbURL)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := app.Build(cfg, st, log, app.Options{})
	if err != nil {
		return nil, err
	}
	defer a.Close()
	tokens, err := seedLinkBench(ctx, a, liffLinksRun)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	// A live database has planner statistics; a freshly seeded one has none until autovacuum runs.
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		return nil, err
	}
	a.Run(runCtx)
	hs := &http.Server{Handler: a.Echo, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()

	t := target{url: url + "/liff/api/link", header: "X-Bench"}
	for i, tok := range tokens {
		b, _ := json.Marshal(map[string]any{"token": tok, "idToken": fmt.Sprintf("bench-id-token-%d", i), "friend": true})
		t.bodies, t.sigs = append(t.bodies, b), append(t.sigs, "1")
	}
	clients := max(env.Settings.Clients*4, 32)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}}
	pg0, proc0 := postgresCPU(ctx, pool), cpuSeconds(os.Getpid())
	loadStart := time.Now()
	r := load(client, t, clients, env.Settings.MaxTime)
	r.name = "POST /liff/api/link"
	atEnd := fake.pushes.Load()
	var linked int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM link_attempts WHERE status = 'linked'`).Scan(&linked); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for fake.pushes.Load() < int64(linked) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	pushed := fake.pushes.Load()
	// CPU per link, until the pushes are out: Postgres, and this process (the server, the
	// load's clients and the fake LINE together).
	per := 1000 / float64(max(linked, 1))
	cpuPG, cpuProc := (postgresCPU(ctx, pool)-pg0)*per, (cpuSeconds(os.Getpid())-proc0)*per
	pushSpan := time.Duration(fake.last.Load() - loadStart.UnixNano())
	// A delivery that failed waits out a backoff, which stretches the pushes' span.
	var retried int
	var retryErr string
	if err := pool.QueryRow(ctx, `SELECT count(*), coalesce(min(last_error) FILTER (WHERE last_error <> ''), '')
		FROM outbox WHERE attempts > 1 OR last_error <> ''`).Scan(&retried, &retryErr); err != nil {
		return nil, err
	}
	return []Table{{
		Title:  fmt.Sprintf("OmniLink LIFF link: POST /liff/api/link with %d ms LINE verify (fsync on)", verifyLatency.Milliseconds()),
		Header: []string{"run", "requests", "errors", "links/s", "p50 ms", "p99 ms", "linked", "LINE pushes", "pushes/s"},
		Rows: [][]string{{r.name, fmt.Sprint(r.ok + r.bad), fmt.Sprint(r.bad), fmt.Sprintf("%.0f", rate(r)),
			fmt.Sprintf("%.2f", ms(pct(r.lat, 50))), fmt.Sprintf("%.2f", ms(pct(r.lat, 99))), fmt.Sprint(linked), fmt.Sprint(pushed),
			fmt.Sprintf("%.0f", float64(pushed)/max(pushSpan.Seconds(), 0.001))}},
		Notes: []string{fmt.Sprintf("goal ≥ 500 links/s and the pushes at the same rate; %d clients; each link is a new LINE user, one merge, one push", clients),
			fmt.Sprintf("CPU seconds per 1,000 links: Postgres %.2f, this process (server, clients and fake LINE) %.2f; %d CPUs", cpuPG, cpuProc, runtime.NumCPU()),
			fmt.Sprintf("pushes out when the last request was answered: %d; deliveries retried: %d %s", atEnd, retried, retryErr),
			strings.TrimSpace(fmt.Sprintf("first error: %s", r.firstErr))},
	}}, nil
}
