package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/omnilink/omnilink/internal/app"
	"github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

const (
	benchPageID     = "100000000000777"
	benchLineSecret = "bench-line-channel-secret"
	benchSenders    = 1000 // distinct customers the events come from
)

// run is one load test's outcome.
type run struct {
	name     string
	ok, bad  int
	elapsed  time.Duration
	lat      []time.Duration
	durable  int // rows the database holds for the acknowledged requests
	firstErr string
	started  time.Time // when the warm-up began
	rss      float64   // the server's peak resident set so far, MB
	// CPU seconds per 1,000 acknowledged requests during the measured run.
	cpuPG, cpuServer, cpuLoad float64
}

// target is a prepared load: every body is pre-signed so signing costs the clients nothing.
type target struct {
	url    string
	header string
	bodies [][]byte
	sigs   []string
}

func webhookIngest(ctx context.Context, env *Env) ([]Table, error) {
	s := env.Settings
	total := s.Warmup + s.Requests
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 4 * s.Clients, MaxIdleConnsPerHost: 4 * s.Clients}, Timeout: 30 * time.Second}

	// Baseline: net/http, HMAC check, one pgx INSERT of the raw body, on a database of its own,
	// in a process of its own like the app.
	baseURL, err := env.Database(ctx)
	if err != nil {
		return nil, err
	}
	base, err := startChild(ctx, "baseline", baseURL)
	if err != nil {
		return nil, err
	}
	defer base.close()
	metaBodies := messengerBodies("base", total)
	baseline, err := measure(ctx, client, signedMeta(base.url+"/webhooks/meta", metaBodies), s, base)
	if err != nil {
		return nil, err
	}
	baseline.name = "baseline: net/http + HMAC + pgx INSERT"
	baseline.rss = base.peakRSS()
	base.close()

	// The full app, built as main builds it: Echo with its whole middleware chain, the receiver,
	// GORM over pgx, and the webhook processor running alongside, as in production.
	appURL, err := env.Database(ctx)
	if err != nil {
		return nil, err
	}
	srv, err := startChild(ctx, "app", appURL)
	if err != nil {
		return nil, err
	}
	defer srv.close()

	metaRun, err := measure(ctx, client, signedMeta(srv.url+"/webhooks/meta", messengerBodies("app", total)), s, srv)
	if err != nil {
		return nil, err
	}
	metaRun.name = "app: POST /webhooks/meta (Messenger)"
	metaDrain, err := srv.drained(ctx, "meta", metaRun.started)
	if err != nil {
		return nil, err
	}
	metaRun.rss = srv.peakRSS()

	lineRun, err := measure(ctx, client, signedLINE(fmt.Sprintf("%s/webhooks/line/%d", srv.url, srv.lineID), srv.lineBot, "a", total), s, srv)
	if err != nil {
		return nil, err
	}
	lineRun.name = "app: POST /webhooks/line/{id}"
	lineDrain, err := srv.drained(ctx, "line", lineRun.started)
	if err != nil {
		return nil, err
	}
	lineRun.rss = srv.peakRSS()

	// Sustained: a fixed offered rate for a long time; the backlog must stay bounded and be
	// gone soon after the load ends.
	n := int(float64(s.Rate) * s.Sustain.Seconds())
	metaSus, err := sustain(ctx, client, signedMeta(srv.url+"/webhooks/meta", messengerBodies("sus", n)), s, srv, "meta")
	if err != nil {
		return nil, err
	}
	metaSus.name = "meta (Messenger)"
	lineSus, err := sustain(ctx, client, signedLINE(fmt.Sprintf("%s/webhooks/line/%d", srv.url, srv.lineID), srv.lineBot, "s", n), s, srv, "line")
	if err != nil {
		return nil, err
	}
	lineSus.name = "line"

	var pgVersion, fsync, syncCommit string
	_ = srv.pool.QueryRow(ctx, "SHOW server_version").Scan(&pgVersion)
	_ = srv.pool.QueryRow(ctx, "SHOW fsync").Scan(&fsync)
	_ = srv.pool.QueryRow(ctx, "SHOW synchronous_commit").Scan(&syncCommit)
	durable := fsync == "on" && syncCommit == "on"

	ingest := Table{
		Title:  "Webhook ingest: signed deliveries acknowledged (200) after a committed INSERT",
		Header: []string{"run", "requests", "clients", "errors", "seconds", "events/s", "p50 ms", "p95 ms", "p99 ms", "stored", "server peak RSS MB", "CPU s per 1k: postgres / server / load"},
	}
	for _, r := range []run{baseline, metaRun, lineRun} {
		ingest.Rows = append(ingest.Rows, r.row(s.Clients))
	}
	ratio, p99 := rate(metaRun)/rate(baseline), ms(pct(metaRun.lat, 99))
	ingest.Notes = []string{
		fmt.Sprintf("app/baseline: %.2f× the events/s, %.2f× the p99 (Meta); LINE %.2f× the events/s", ratio, p99/ms(pct(baseline.lat, 99)), rate(lineRun)/rate(baseline)),
		fmt.Sprintf("target: ≥ 0.5× the baseline with p99 ≤ 50 ms: %s", verdict(ratio >= 0.5 && p99 <= 50)),
		fmt.Sprintf("%d CPUs, Postgres %s on loopback, fsync=%s, synchronous_commit=%s; load generator, both servers (separate processes) and Postgres share the machine",
			runtime.NumCPU(), pgVersion, fsync, syncCommit),
		fmt.Sprintf("%d unmeasured warm-up requests per run; every body unique (new mid / webhookEventId), %d distinct senders; the LINE channel secret is cached by the receiver", s.Warmup, benchSenders),
	}
	if !durable {
		ingest.Notes = append(ingest.Notes, "NOT DURABLE: this cluster runs without fsync or synchronous_commit; 'stored' means committed, not flushed (make bench runs a durable cluster)")
	}
	for _, r := range []run{baseline, metaRun, lineRun} {
		if r.firstErr != "" {
			ingest.Notes = append(ingest.Notes, fmt.Sprintf("%s: first error: %s", r.name, r.firstErr))
		}
	}
	burst := Table{
		Title:  "Webhook processing after each ingest run above (contact upsert, customer, message)",
		Header: []string{"source", "deliveries", "seconds from first request to last applied", "deliveries/s"},
		Rows:   [][]string{metaDrain.row("meta (Messenger)"), lineDrain.row("line")},
		Notes:  []string{"the processor runs while the ingest load is on, so both share the CPUs"},
	}
	sus := Table{
		Title: fmt.Sprintf("Sustained load: %d events/s offered for %s, one event per delivery, processed while it arrives", s.Rate, s.Sustain),
		Header: []string{"source", "offered", "acked", "errors", "acked/s", "p50 ms", "p99 ms", "applied/s during load",
			"max backlog", "backlog zero after load end (s)", "server peak RSS MB", "CPU s per 1k events: postgres / server / load"},
		Rows: [][]string{metaSus.row(), lineSus.row()},
		Notes: []string{
			"ack latency is measured from each request's scheduled send time, so queueing in the load generator counts",
			fmt.Sprintf("target: processing keeps up (backlog zero within 10 s of the load ending): %s; p99 ack ≤ 50 ms: %s",
				verdict(metaSus.drainAfter <= 10*time.Second && lineSus.drainAfter <= 10*time.Second),
				verdict(ms(pct(metaSus.lat, 99)) <= 50 && ms(pct(lineSus.lat, 99)) <= 50)),
			fmt.Sprintf("fsync=%s, synchronous_commit=%s", fsync, syncCommit),
			fmt.Sprintf("CPU: time used from the first request until the backlog was empty, per 1,000 events, by the Postgres cluster, the app server and this load generator; the machine's load average was %s at the end", loadAverage()),
		},
	}
	for _, r := range []sustained{metaSus, lineSus} {
		if r.firstErr != "" {
			sus.Notes = append(sus.Notes, fmt.Sprintf("%s: first error: %s", r.name, r.firstErr))
		}
	}
	return []Table{ingest, burst, sus}, nil
}

// loadAverage is the first figure of /proc/loadavg: how busy the shared machine was.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b))[0]
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// sustained is one fixed-rate run's outcome.
type sustained struct {
	name       string
	offered    int
	ok, bad    int
	elapsed    time.Duration
	lat        []time.Duration
	applied    int           // deliveries of the source applied while the load was on
	maxBacklog int           // most deliveries waiting at any sample
	drainAfter time.Duration // from the load's end until nothing was pending
	rss        float64
	firstErr   string
	// CPU seconds per 1,000 events from the first request until the backlog was empty.
	cpuPG, cpuServer, cpuLoad float64
}

func (r sustained) row() []string {
	return []string{r.name, fmt.Sprint(r.offered), fmt.Sprint(r.ok), fmt.Sprint(r.bad),
		fmt.Sprintf("%.0f", float64(r.ok)/r.elapsed.Seconds()),
		fmt.Sprintf("%.2f", ms(pct(r.lat, 50))), fmt.Sprintf("%.2f", ms(pct(r.lat, 99))),
		fmt.Sprintf("%.0f", float64(r.applied)/r.elapsed.Seconds()),
		fmt.Sprint(r.maxBacklog), fmt.Sprintf("%.2f", r.drainAfter.Seconds()), fmt.Sprintf("%.0f", r.rss),
		fmt.Sprintf("%.2f / %.2f / %.2f", r.cpuPG, r.cpuServer, r.cpuLoad)}
}

// sustain offers t's requests at s.Rate per second (open loop: a slow answer does not slow the
// offer), samples the backlog while it runs, and waits for the backlog to clear.
func sustain(ctx context.Context, client *http.Client, t target, s Settings, srv *server, source string) (sustained, error) {
	r := sustained{offered: len(t.bodies)}
	var before int
	if err := srv.pool.QueryRow(ctx, "SELECT count(*) FROM webhook_events WHERE platform = $1 AND processed_at IS NOT NULL", source).Scan(&before); err != nil {
		return r, err
	}
	type job struct {
		i  int
		at time.Time
	}
	jobs := make(chan job, len(t.bodies))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 16 * s.Clients {
		wg.Go(func() {
			var lat []time.Duration
			ok, bad, firstErr := 0, 0, ""
			for j := range jobs {
				req, _ := http.NewRequest(http.MethodPost, t.url, bytes.NewReader(t.bodies[j.i]))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(t.header, t.sigs[j.i])
				res, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				switch {
				case err != nil:
					bad++
					if firstErr == "" {
						firstErr = err.Error()
					}
				case res.StatusCode != http.StatusOK:
					bad++
					if firstErr == "" {
						firstErr = res.Status
					}
				default:
					ok++
					lat = append(lat, time.Since(j.at))
				}
			}
			mu.Lock()
			r.ok, r.bad = r.ok+ok, r.bad+bad
			r.lat = append(r.lat, lat...)
			if r.firstErr == "" {
				r.firstErr = firstErr
			}
			mu.Unlock()
		})
	}
	stopSampling := make(chan struct{})
	sampled := make(chan int, 1)
	go func() {
		most := 0
		tick := time.NewTicker(time.Second) // counting a large backlog is not free
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				sampled <- most
				return
			case <-tick.C:
				var pending int
				if err := srv.pool.QueryRow(ctx, "SELECT count(*) FROM webhook_events WHERE processed_at IS NULL").Scan(&pending); err == nil {
					most = max(most, pending)
				}
			}
		}
	}()
	pg0, srv0, load0 := postgresCPU(ctx, srv.pool), cpuSeconds(srv.pid), cpuSeconds(os.Getpid())
	start := time.Now()
	for i := range t.bodies {
		at := start.Add(time.Duration(float64(i) / float64(s.Rate) * float64(time.Second)))
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		jobs <- job{i, at}
	}
	close(jobs)
	wg.Wait()
	r.elapsed = time.Since(start)
	end := time.Now()
	var after int
	if err := srv.pool.QueryRow(ctx, "SELECT count(*) FROM webhook_events WHERE platform = $1 AND processed_at IS NOT NULL", source).Scan(&after); err != nil {
		return r, err
	}
	r.applied = after - before
	for {
		pending, err := srv.pending(ctx)
		if err != nil {
			return r, err
		}
		if !pending {
			break
		}
		if time.Since(end) > 10*time.Minute {
			return r, errors.New("the backlog did not clear in 10 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.drainAfter = time.Since(end)
	if err := srv.noFailures(ctx); err != nil {
		return r, err
	}
	per := 1000 / float64(r.offered)
	r.cpuPG = (postgresCPU(ctx, srv.pool) - pg0) * per
	r.cpuServer = (cpuSeconds(srv.pid) - srv0) * per
	r.cpuLoad = (cpuSeconds(os.Getpid()) - load0) * per
	close(stopSampling)
	r.maxBacklog = <-sampled
	slices.Sort(r.lat)
	r.rss = srv.peakRSS()
	return r, nil
}

func (r run) row(clients int) []string {
	return []string{r.name, fmt.Sprint(r.ok + r.bad), fmt.Sprint(clients), fmt.Sprint(r.bad),
		fmt.Sprintf("%.2f", r.elapsed.Seconds()), fmt.Sprintf("%.0f", rate(r)),
		fmt.Sprintf("%.2f", ms(pct(r.lat, 50))), fmt.Sprintf("%.2f", ms(pct(r.lat, 95))), fmt.Sprintf("%.2f", ms(pct(r.lat, 99))),
		fmt.Sprintf("%d/%d", r.durable, r.ok), fmt.Sprintf("%.0f", r.rss),
		fmt.Sprintf("%.2f / %.2f / %.2f", r.cpuPG, r.cpuServer, r.cpuLoad)}
}

func rate(r run) float64 { return float64(r.ok) / r.elapsed.Seconds() }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// measure sends the warm-up, then the measured requests, and checks that every acknowledged
// request left a row behind.
func measure(ctx context.Context, client *http.Client, t target, s Settings, srv *server) (run, error) {
	pool := srv.pool
	started := time.Now()
	warm := target{url: t.url, header: t.header, bodies: t.bodies[:s.Warmup], sigs: t.sigs[:s.Warmup]}
	if w := load(client, warm, s.Clients, time.Hour); w.bad > 0 {
		return run{}, fmt.Errorf("warm-up of %s: %d errors, first: %s", t.url, w.bad, w.firstErr)
	}
	var before int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM webhook_events").Scan(&before); err != nil {
		return run{}, err
	}
	pg0, srv0, load0 := postgresCPU(ctx, pool), cpuSeconds(srv.pid), cpuSeconds(os.Getpid())
	r := load(client, target{url: t.url, header: t.header, bodies: t.bodies[s.Warmup:], sigs: t.sigs[s.Warmup:]}, s.Clients, s.MaxTime)
	if r.ok > 0 {
		per := 1000 / float64(r.ok)
		r.cpuPG, r.cpuServer, r.cpuLoad = (postgresCPU(ctx, pool)-pg0)*per, (cpuSeconds(srv.pid)-srv0)*per, (cpuSeconds(os.Getpid())-load0)*per
	}
	var after int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM webhook_events").Scan(&after); err != nil {
		return run{}, err
	}
	r.durable = after - before
	r.started = started
	return r, nil
}

// load runs the requests over n keep-alive clients until done or maxTime passes.
func load(client *http.Client, t target, n int, maxTime time.Duration) run {
	var next atomic.Int64
	var mu sync.Mutex
	var r run
	start := time.Now()
	deadline := start.Add(maxTime)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			lat := make([]time.Duration, 0, len(t.bodies)/n+1)
			ok, bad, firstErr := 0, 0, ""
			for {
				i := int(next.Add(1) - 1)
				if i >= len(t.bodies) || time.Now().After(deadline) {
					break
				}
				req, _ := http.NewRequest(http.MethodPost, t.url, bytes.NewReader(t.bodies[i]))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(t.header, t.sigs[i])
				t0 := time.Now()
				res, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				d := time.Since(t0)
				switch {
				case err != nil:
					bad++
					if firstErr == "" {
						firstErr = err.Error()
					}
				case res.StatusCode != http.StatusOK:
					bad++
					if firstErr == "" {
						firstErr = res.Status
					}
				default:
					ok++
					lat = append(lat, d)
				}
			}
			mu.Lock()
			r.ok, r.bad = r.ok+ok, r.bad+bad
			r.lat = append(r.lat, lat...)
			if r.firstErr == "" {
				r.firstErr = firstErr
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	slices.Sort(r.lat)
	return r
}

// messengerBodies are Messenger text events in Meta's shape, one new mid each.
func messengerBodies(tag string, n int) [][]byte {
	out := make([][]byte, n)
	now := time.Now().UnixMilli()
	for i := range out {
		ts := now + int64(i)
		out[i] = fmt.Appendf(nil, `{"object":"page","entry":[{"id":"%s","time":%d,"messaging":[{"sender":{"id":"%d"},"recipient":{"id":"%s"},"timestamp":%d,"message":{"mid":"m_%s_%d_%d","text":"Hello, I would like to know more about the spring collection. Gr\u00fc\u00dfe"}}]}]}`,
			benchPageID, ts, 7100000000000000+i%benchSenders, benchPageID, ts, tag, now, i)
	}
	return out
}

func signedMeta(url string, bodies [][]byte) target {
	t := target{url: url, header: meta.SignatureHeader, bodies: bodies, sigs: make([]string, len(bodies))}
	for i, b := range bodies {
		t.sigs[i] = meta.Sign(config.SandboxAppSecret, b)
	}
	return t
}

// signedLINE are LINE text message events in LINE's shape, one new webhookEventId each.
func signedLINE(url, bot, tag string, n int) target {
	t := target{url: url, header: line.SignatureHeader, bodies: make([][]byte, n), sigs: make([]string, n)}
	now := time.Now().UnixMilli()
	for i := range n {
		t.bodies[i] = fmt.Appendf(nil, `{"destination":"%s","events":[{"type":"message","message":{"type":"text","id":"%s%d","quoteToken":"q%d","text":"Hello, I would like to know more"},"webhookEventId":"01BENCH%s%013d%08d","deliveryContext":{"isRedelivery":false},"timestamp":%d,"source":{"type":"user","userId":"U%032x"},"replyToken":"r%d","mode":"active"}]}`,
			bot, tag, 500000000000000+int64(i), i, tag, now, i, now+int64(i), i%benchSenders, i)
		t.sigs[i] = line.Sign(benchLineSecret, t.bodies[i])
	}
	return t
}

// server is a running HTTP server under test, with a pool for checking its database.
type server struct {
	url     string
	pool    *pgxpool.Pool
	lineID  int64
	lineBot string
	close   func()
	pid     int // the server's own process, when it runs in one
}

// peakRSS is the server process's peak resident set size in MB (VmHWM), or 0 when unknown.
func (s *server) peakRSS() float64 {
	if s.pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// cpuSeconds is the CPU time (user + system) a process has used, with its reaped children.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	total := 0.0
	for _, i := range []int{11, 12, 13, 14} { // utime, stime, cutime, cstime
		if i < len(f) {
			v, _ := strconv.ParseFloat(f[i], 64)
			total += v
		}
	}
	return total / 100 // clock ticks (USER_HZ)
}

// postgresCPU is the CPU time of the whole Postgres cluster: the postmaster (with the backends
// it reaped) and its live children. Zero when the data directory cannot be read.
func postgresCPU(ctx context.Context, pool *pgxpool.Pool) float64 {
	var dir string
	if err := pool.QueryRow(ctx, "SHOW data_directory").Scan(&dir); err != nil {
		return 0
	}
	b, err := os.ReadFile(dir + "/postmaster.pid")
	if err != nil {
		return 0
	}
	pm, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	total := cpuSeconds(pm)
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+2:]))
		if len(f) > 12 && f[1] == strconv.Itoa(pm) {
			u, _ := strconv.ParseFloat(f[11], 64)
			k, _ := strconv.ParseFloat(f[12], 64)
			total += (u + k) / 100
		}
	}
	return total
}

// childReady is what a server child prints on stdout once it listens.
type childReady struct {
	URL     string `json:"url"`
	LineID  int64  `json:"line_id"`
	LineBot string `json:"line_bot"`
}

// startChild runs a server (kind "baseline" or "app") in a process of its own, this binary
// re-executed, so its memory is its own and it competes for the CPUs as a real server does.
func startChild(ctx context.Context, kind, dbURL string) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-child", kind, "-child-db", dbURL, "-server-cpuprofile", childProfile)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var ready childReady
	if err := json.NewDecoder(stdout).Decode(&ready); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("%s server did not start: %w", kind, err)
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, err
	}
	var once sync.Once
	return &server{url: ready.URL, pool: pool, lineID: ready.LineID, lineBot: ready.LineBot, pid: cmd.Process.Pid, close: func() {
		once.Do(func() {
			_ = stdin.Close() // the child ends when its stdin does
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
			pool.Close()
		})
	}}, nil
}

// runChild is the child side of startChild: it serves until its stdin closes, then shuts down
// as the real server does.
func runChild(kind, dbURL string) error {
	ctx := context.Background()
	var srv *server
	var err error
	switch kind {
	case "baseline":
		srv, err = startBaseline(ctx, dbURL)
	case "app":
		srv, err = startApp(ctx, dbURL)
	default:
		err = fmt.Errorf("unknown child %q", kind)
	}
	if err != nil {
		return err
	}
	if err := json.NewEncoder(os.Stdout).Encode(childReady{URL: srv.url, LineID: srv.lineID, LineBot: srv.lineBot}); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	srv.close()
	return nil
}

// drain is how long the processor took to apply a run's deliveries.
type drain struct {
	events  int
	elapsed time.Duration
}

func (d drain) row(source string) []string {
	return []string{source, fmt.Sprint(d.events), fmt.Sprintf("%.2f", d.elapsed.Seconds()), fmt.Sprintf("%.0f", float64(d.events)/d.elapsed.Seconds())}
}

// drained waits for the processor to finish a source's backlog and reports the rate since
// the run's first (warm-up) request.
func (s *server) drained(ctx context.Context, source string, start time.Time) (drain, error) {
	deadline := time.Now().Add(10 * time.Minute)
	for {
		pending, err := s.pending(ctx)
		if err != nil {
			return drain{}, err
		}
		if !pending {
			d := drain{elapsed: time.Since(start)}
			if err := s.noFailures(ctx); err != nil {
				return d, err
			}
			err := s.pool.QueryRow(ctx, `SELECT count(*) FROM webhook_events WHERE platform = $1`, source).Scan(&d.events)
			return d, err
		}
		if time.Now().After(deadline) {
			return drain{}, errors.New("the processor did not drain the backlog in 10 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pending reports whether any delivery waits; it reads one index entry, so polling it often
// costs the measured server nothing.
func (s *server) pending(ctx context.Context) (bool, error) {
	var p bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webhook_events WHERE processed_at IS NULL)`).Scan(&p)
	return p, err
}

// noFailures fails the run when any delivery failed processing.
func (s *server) noFailures(ctx context.Context) error {
	var failed int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM webhook_events WHERE error <> ''`).Scan(&failed); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d deliveries failed processing", failed)
	}
	return nil
}

func listen() (net.Listener, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	return ln, "http://" + ln.Addr().String(), nil
}

func startBaseline(ctx context.Context, dbURL string) (*server, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 20 // the app's pool size, for a fair comparison
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
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
		if err != nil || len(body) > 1<<20 {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		if !meta.VerifySignature(config.SandboxAppSecret, body, r.Header.Get(meta.SignatureHeader)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if _, err := pool.Exec(r.Context(), `INSERT INTO webhook_events (platform, body) VALUES ('meta', $1)`, body); err != nil {
			http.Error(w, "store failed", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return &server{url: url, pool: pool, close: func() { _ = hs.Close(); pool.Close() }}, nil
}

// startApp builds the whole server as main does, in sandbox mode, with a Page and a LINE channel.
func startApp(ctx context.Context, dbURL string) (*server, error) {
	ln, url, err := listen()
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	cfg, err := config.Finish(config.Config{
		DatabaseURL: dbURL, Addr: ln.Addr().String(), BaseURL: url, SecretKey: base64.StdEncoding.EncodeToString(key),
		Providers: config.ProvidersSandbox, LogLevel: "info", MetaGraphVersion: "v25.0", HealthCheckInterval: time.Hour, OutboxConcurrency: 64,
		MailFrom: "omnilink <noreply@omnilink.bench>",
	})
	if err != nil {
		return nil, err
	}
	st, err := store.Open(dbURL)
	if err != nil {
		return nil, err
	}
	// Production's JSON request log at info level, written nowhere: formatting is paid, I/O is not.
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := app.Build(cfg, st, log, app.Options{})
	if err != nil {
		st.Close()
		return nil, err
	}
	team := &models.Team{Name: "bench", Locale: "zh-TW", PlanStatus: models.PlanActive}
	if err := st.CreateTeam(ctx, team); err != nil {
		st.Close()
		return nil, err
	}
	if _, err := benchChannel(ctx, a, team.ID, models.Facebook, benchPageID, models.Credentials{AccessToken: "page-token"}); err != nil {
		st.Close()
		return nil, err
	}
	bot := "U" + hex.EncodeToString(key[:16])
	lineCh, err := benchChannel(ctx, a, team.ID, models.LINE, bot, models.Credentials{AccessToken: "line-token", ChannelSecret: benchLineSecret})
	if err != nil {
		st.Close()
		return nil, err
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		st.Close()
		return nil, err
	}
	a.Run(ctx)
	hs := &http.Server{Handler: a.Echo, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return &server{url: url, pool: pool, lineID: lineCh.ID, lineBot: bot, close: func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = hs.Shutdown(shutdownCtx)
		_ = a.Close()
		pool.Close()
		_ = st.Close()
	}}, nil
}

// benchChannel inserts a live channel with sealed credentials (the channels service's sealing,
// verified by opening them with it).
func benchChannel(ctx context.Context, a *app.App, teamID int64, p models.Platform, externalID string, creds models.Credentials) (*models.Channel, error) {
	ch := &models.Channel{TeamID: teamID, Platform: p, ExternalID: externalID, DisplayName: "bench", Status: models.ChannelActive}
	if err := channels.SealCredentials(a.Box, ch, creds); err != nil {
		return nil, err
	}
	if err := a.Store.CreateChannel(ctx, ch); err != nil {
		return nil, err
	}
	if got, err := a.Channels.Credentials(ch); err != nil || got != creds {
		return nil, fmt.Errorf("bench channel credentials do not open: %v", err)
	}
	return ch, nil
}
