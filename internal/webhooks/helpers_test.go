package webhooks_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

// Account ids used by the Meta fixtures.
const (
	pageID    = "105550001111111"
	psid      = "6783241135000001"
	igID      = "17841400000000001"
	igsid     = "532912345678901"
	waPhoneID = "106540352242922"
	waID      = "16505551234"
	lineBot   = "U123" // the fixtures' destination
	lineUser  = "U206d25c2ea6bd87c17655609a1c37cb8"
	lineSec   = "line-channel-secret-for-tests"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replace rewrites fixture bytes (ids, timestamps) for a distinct delivery; it must match.
func replace(t testing.TB, body []byte, pairs ...string) []byte {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		if !bytes.Contains(body, []byte(pairs[i])) {
			t.Fatalf("fixture lacks %q", pairs[i])
		}
		body = bytes.ReplaceAll(body, []byte(pairs[i]), []byte(pairs[i+1]))
	}
	return body
}

type env struct {
	t  *testing.T
	a  *testutil.TestApp
	db *pgxpool.Pool
}

func newEnv(t *testing.T) *env {
	a := testutil.NewApp(t)
	return &env{t: t, a: a, db: a.SQL()}
}

func newIdleEnv(t *testing.T) *env {
	a := testutil.NewIdleApp(t)
	return &env{t: t, a: a, db: a.SQL()}
}

func (e *env) post(path string, body []byte, header, sig string) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.a.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(header, sig)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// postMeta delivers body signed with the app secret, as Meta does, and expects the 200.
func (e *env) postMeta(body []byte) {
	e.t.Helper()
	if st := e.post("/webhooks/meta", body, meta.SignatureHeader, meta.Sign(config.SandboxAppSecret, body)); st != http.StatusOK {
		e.t.Fatalf("POST /webhooks/meta: %d", st)
	}
}

// postLINE delivers body to a LINE channel's URL signed with secret and expects the 200.
func (e *env) postLINE(ch *models.Channel, secret string, body []byte) {
	e.t.Helper()
	if st := e.post(fmt.Sprintf("/webhooks/line/%d", ch.ID), body, line.SignatureHeader, line.Sign(secret, body)); st != http.StatusOK {
		e.t.Fatalf("POST /webhooks/line/%d: %d", ch.ID, st)
	}
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (e *env) scan(query string, args []any, dest ...any) {
	e.t.Helper()
	if err := e.db.QueryRow(context.Background(), query, args...).Scan(dest...); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
}

// settled waits until every stored delivery is processed (the app's own processor runs).
func (e *env) settled() {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for e.count(`SELECT count(*) FROM webhook_events WHERE processed_at IS NULL`) > 0 {
		if time.Now().After(deadline) {
			e.t.Fatal("webhook deliveries still pending after 15s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// metricIs waits up to 5 s for a metric to read want and returns what it read last: counters
// are added just after a delivery's transaction commits, a moment after its rows are visible.
func (e *env) metricIs(name, want string) string {
	got := e.metric(name)
	for deadline := time.Now().Add(5 * time.Second); got != want && time.Now().Before(deadline); got = e.metric(name) {
		time.Sleep(10 * time.Millisecond)
	}
	return got
}

// noErrors fails the test if any delivery recorded an error.
func (e *env) noErrors() {
	e.t.Helper()
	rows, err := e.db.Query(context.Background(), `SELECT id, error FROM webhook_events WHERE error <> ''`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var msg string
		_ = rows.Scan(&id, &msg)
		e.t.Errorf("delivery %d failed: %s", id, msg)
	}
}

// metric reads one sample from /metrics, e.g. `omnilink_webhook_events_duplicate_total{platform="facebook"}`.
func (e *env) metric(series string) string {
	e.t.Helper()
	r := e.a.Client().Get("/metrics")
	for _, l := range strings.Split(r.Body, "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			return v
		}
	}
	return ""
}
