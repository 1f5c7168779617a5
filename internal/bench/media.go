package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/omnilink/omnilink/internal/media"
	"github.com/omnilink/omnilink/internal/omnilink"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// mediaBench measures the card image pipeline (a 4000×3000 JPEG of about 4.5 MB to stored
// renditions: time and peak heap) and GET /media against a static file server and a bare
// net/http + pgx handler serving the same bytes.
func mediaBench(ctx context.Context, env *Env) ([]Table, error) {
	dbURL, err := env.Database(ctx)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(dbURL)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	team := &models.Team{Name: "bench", Locale: "zh-TW", PlanStatus: models.PlanActive}
	if err := st.CreateTeam(ctx, team); err != nil {
		return nil, err
	}
	user := &models.User{TeamID: team.ID, Email: "bench@omnilink.bench", Name: "bench", PasswordHash: "x", Role: models.RoleMarketer}
	if err := st.CreateUser(ctx, user); err != nil {
		return nil, err
	}
	svc := omnilink.New(st, nil, "https://omnilink.test", nil)
	photo, err := benchPhoto(4000, 3000, 4_500_000)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer pool.Close()

	const runs = 5
	upload := Table{
		Title:  fmt.Sprintf("Card image upload: a 4000×3000 JPEG of %.2f MB to stored renditions (%d runs)", float64(len(photo))/1e6, runs),
		Header: []string{"run", "median ms", "max ms", "peak heap MB", "allocated MB/run"},
	}
	type step struct {
		name string
		fn   func() error
	}
	for _, s := range []step{
		{"app: check, decode, re-encode 2 renditions, store (omnilink.Service.Upload)", func() error {
			_, err := svc.Upload(ctx, user, bytes.NewReader(photo))
			return err
		}},
		{"pipeline only: media.Process (no database)", func() error {
			_, err := media.Process(bytes.NewReader(photo), media.DefaultLimits)
			return err
		}},
		{"baseline: pgx INSERT of the raw file as bytea", func() error {
			_, err := pool.Exec(ctx, `INSERT INTO media_blobs (hash, mime, width, height, data) VALUES (md5(random()::text) || md5(random()::text), 'image/jpeg', 1, 1, $1)`, photo)
			return err
		}},
	} {
		var times []time.Duration
		var peak uint64
		var alloc uint64
		for range runs {
			d, p, a, err := measureMem(s.fn)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
			times = append(times, d)
			peak, alloc = max(peak, p), alloc+a
		}
		slices.Sort(times)
		upload.Rows = append(upload.Rows, []string{s.name, fmt.Sprintf("%.0f", ms(times[len(times)/2])), fmt.Sprintf("%.0f", ms(times[len(times)-1])),
			fmt.Sprintf("%.0f", float64(peak)/1e6), fmt.Sprintf("%.0f", float64(alloc)/runs/1e6)})
	}
	upload.Notes = []string{
		"target: ≤ 1 s and ≤ 150 MB for the app row",
		"peak heap = the highest HeapInuse sampled every millisecond during a run, minus the heap before it (after a GC)",
		fmt.Sprintf("renditions: card ≤ %d px a side (original ratio), square ≤ %d px (1:1 centre crop); JPEG quality 85", media.CardMaxSide, media.SquareMaxSide),
		fmt.Sprintf("%d CPUs (GOMAXPROCS %d); Postgres on loopback", runtime.NumCPU(), runtime.GOMAXPROCS(0)),
	}

	// GET /media: the whole app vs a static file server vs bare net/http + pgx, same bytes.
	sample, err := os.ReadFile(filepath.Join("internal", "media", "testdata", "photo.jpg"))
	if err != nil {
		return nil, err
	}
	m, err := svc.Upload(ctx, user, bytes.NewReader(sample))
	if err != nil {
		return nil, err
	}
	blob, err := st.MediaBlobPublic(ctx, m.CardHash)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "omnilink-bench-media")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	name := m.CardHash + ".jpg"
	if err := os.WriteFile(filepath.Join(dir, name), blob.Data, 0o644); err != nil {
		return nil, err
	}
	srv, err := startApp(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer srv.close()
	ln, staticURL, err := listen()
	if err != nil {
		return nil, err
	}
	static := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = static.Serve(ln) }()
	defer static.Close()
	ln2, bareURL, err := listen()
	if err != nil {
		return nil, err
	}
	hashRe := regexp.MustCompile(`^/media/([0-9a-f]{64})\.jpg$`)
	bare := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mm := hashRe.FindStringSubmatch(r.URL.Path)
		if mm == nil {
			http.NotFound(w, r)
			return
		}
		var data []byte
		if err := pool.QueryRow(r.Context(), `SELECT data FROM media_blobs WHERE hash = $1`, mm[1]).Scan(&data); err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		_, _ = w.Write(data)
	})}
	go func() { _ = bare.Serve(ln2) }()
	defer bare.Close()

	s := env.Settings
	n := min(s.Requests, 5000)
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * s.Clients, MaxIdleConnsPerHost: 2 * s.Clients}, Timeout: 30 * time.Second}
	serve := Table{
		Title:  fmt.Sprintf("GET /media/{hash}.jpg: a %.0f KB card image, %d requests, %d clients, keep-alive, no If-None-Match", float64(len(blob.Data))/1e3, n, s.Clients),
		Header: []string{"server", "requests/s", "p50 ms", "p99 ms", "errors"},
	}
	for _, t := range []struct{ name, url string }{
		{"app: Echo + middleware + GORM SELECT from media_blobs", srv.url + "/media/" + name},
		{"baseline: net/http + pgx SELECT", bareURL + "/media/" + name},
		{"static: net/http FileServer from disk", staticURL + "/" + name},
	} {
		_ = getLoad(client, t.url, min(200, n), s.Clients) // warm-up
		r := getLoad(client, t.url, n, s.Clients)
		serve.Rows = append(serve.Rows, []string{t.name, fmt.Sprintf("%.0f", rate(r)), fmt.Sprintf("%.2f", ms(pct(r.lat, 50))), fmt.Sprintf("%.2f", ms(pct(r.lat, 99))), fmt.Sprint(r.bad)})
	}
	serve.Notes = []string{"browsers and platforms revalidate rarely: the app answers ETag + Cache-Control: public, max-age=31536000, immutable (304 on If-None-Match without a query)"}
	return []Table{upload, serve}, nil
}

// measureMem runs fn once and reports its duration, its peak heap growth and its allocations.
func measureMem(fn func() error) (time.Duration, uint64, uint64, error) {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > before.HeapInuse && ms.HeapInuse-before.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse - before.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	t0 := time.Now()
	err := fn()
	d := time.Since(t0)
	close(done)
	wg.Wait()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	return d, peak.Load(), after.TotalAlloc - before.TotalAlloc, err
}

// benchPhoto makes a w×h JPEG close to size bytes: a gradient with noise whose strength is
// searched until the file is the right size (noise is what makes photos large).
func benchPhoto(w, h, size int) ([]byte, error) {
	lo, hi := 0.0, 128.0
	var best []byte
	for range 8 {
		amp := (lo + hi) / 2
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		rng := rand.New(rand.NewPCG(7, 11))
		for y := range h {
			for x := range w {
				i := img.PixOffset(x, y)
				nz := (rng.Float64()*2 - 1) * amp
				img.Pix[i] = clamp(float64(x*255/w) + nz)
				img.Pix[i+1] = clamp(float64(y*255/h) + nz)
				img.Pix[i+2] = clamp(128 + nz)
				img.Pix[i+3] = 255
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
			return nil, err
		}
		best = buf.Bytes()
		switch {
		case buf.Len() > size*102/100:
			hi = amp
		case buf.Len() < size*98/100:
			lo = amp
		default:
			return best, nil
		}
	}
	if len(best) > int(media.DefaultLimits.MaxBytes) {
		return nil, fmt.Errorf("bench photo is %d bytes, over the upload limit", len(best))
	}
	return best, nil
}

func clamp(v float64) uint8 { return uint8(max(0, min(255, v))) }

// getLoad sends n GETs over c keep-alive clients.
func getLoad(client *http.Client, url string, n, c int) run {
	var next atomic.Int64
	var mu sync.Mutex
	var r run
	start := time.Now()
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			var lat []time.Duration
			ok, bad := 0, 0
			for next.Add(1) <= int64(n) {
				t0 := time.Now()
				res, err := client.Get(url)
				if err != nil {
					bad++
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
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
