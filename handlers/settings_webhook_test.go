package handlers_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// receiver is a team's HTTPS endpoint: it checks each signature the way the README tells
// integrators to, and keeps what arrived in order.
type receiver struct {
	mu     sync.Mutex
	secret string
	events []map[string]any
	bad    int
	fail   int // answer 503 to this many requests first
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.fail > 0 {
		rc.fail--
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var ts, sig string
	for _, part := range strings.Split(r.Header.Get("X-Omnilink-Signature"), ",") {
		k, v, _ := strings.Cut(part, "=")
		if k == "t" {
			ts = v
		} else if k == "v1" {
			sig = v
		}
	}
	mac := hmac.New(sha256.New, []byte(rc.secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	sec, _ := strconv.ParseInt(ts, 10, 64)
	if !hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(sig)) || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		rc.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev map[string]any
	json.Unmarshal(body, &ev)
	if ev["type"] != r.Header.Get("X-Omnilink-Event") {
		rc.bad++
	}
	rc.events = append(rc.events, ev)
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) types() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, e := range rc.events {
		out = append(out, e["type"].(string))
	}
	return out
}

func waitTypes(t *testing.T, rc *receiver, n int) []string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for len(rc.types()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("events = %v, want %d", rc.types(), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return rc.types()
}

func TestOutboundWebhookSignsLinkMergeAndUndoInOrder(t *testing.T) {
	e := newLinkEnv(t)
	rc := &receiver{secret: "s3cret-for-the-shop-0001"}
	srv := httptest.NewTLSServer(rc)
	defer srv.Close()
	e.app.TeamHooks.UseClient(srv.Client())
	tag := &models.Tag{TeamID: e.team.ID, Name: "已綁定"}
	e.app.Store.CreateTeamTag(context.Background(), tag)
	e.camp.TagsTarget = []int64{tag.ID}
	if _, err := e.app.SQL().Exec(context.Background(), `UPDATE campaigns SET tags_target = $2::jsonb WHERE id = $1`, e.camp.ID, "["+itoa(tag.ID)+"]"); err != nil {
		t.Fatal(err)
	}
	e.app.User(e.team.ID, models.RoleAdmin, "admin@bear.test")
	c := e.app.Client()
	c.Login("admin@bear.test", testutil.Password)

	// Bad input: both fields refused at once, the address kept, the secret never echoed.
	page := c.Get("/settings/webhook")
	r := page.Form("#webhook-form").Set("url", "http://shop.example/hook").Set("secret", "short").Submit()
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "https://") || !strings.Contains(r.Body, "至少 16 個字元") ||
		!strings.Contains(r.Body, `value="http://shop.example/hook"`) || strings.Contains(r.Body, `value="short"`) {
		t.Fatalf("bad setting: %d", r.Status)
	}
	if n := e.count(`SELECT count(*) FROM team_webhooks`); n != 0 {
		t.Fatal("bad setting saved")
	}
	r = c.Get("/settings/webhook").Form("#webhook-form").Set("url", srv.URL+"/omnilink").Set("secret", rc.secret).Check("enabled", "1").Submit()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	if n := e.count(`SELECT count(*) FROM team_webhooks WHERE secret_enc LIKE '%' || $1 || '%'`, rc.secret); n != 0 {
		t.Fatal("secret stored in the clear")
	}

	cu, _ := linkedCustomer(t, e)
	got := waitTypes(t, rc, 2)
	if got[0] != "identity.linked" || got[1] != "customer.merged" {
		t.Fatalf("events: %v", got)
	}
	linked, _ := json.Marshal(rc.events[0])
	for _, want := range []string{`"platform":"instagram"`, `"platform":"line"`, sandbox.LINEUserXiaoming, "17842000000000001", `"name":"` + e.camp.Name + `"`, `"tags":["已綁定"]`} {
		if !strings.Contains(string(linked), want) {
			t.Errorf("identity.linked lacks %s: %s", want, linked)
		}
	}
	var mergeID int64
	e.app.SQL().QueryRow(context.Background(), `SELECT id FROM merges`).Scan(&mergeID)
	r = c.Get("/customers/" + itoa(cu)).Form("#undo-" + itoa(mergeID)).Submit()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("undo: %d", r.Status)
	}
	got = waitTypes(t, rc, 3)
	undone, _ := json.Marshal(rc.events[2])
	if got[2] != "customer.merge_undone" || !strings.Contains(string(undone), `"merge_id":`+itoa(mergeID)) {
		t.Fatalf("undo event: %v %s", got, undone)
	}
	if rc.bad != 0 {
		t.Fatalf("%d deliveries failed the signature check", rc.bad)
	}

	// The endpoint fails once: the delivery is retried (with backoff) and logged.
	rc.mu.Lock()
	rc.fail = 1
	rc.mu.Unlock()
	if r := c.Get("/settings/webhook").Form("#webhook-ping").Submit(); r.Status != http.StatusSeeOther {
		t.Fatalf("ping: %d", r.Status)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.count(`SELECT count(*) FROM team_webhook_deliveries WHERE kind = 'ping' AND last_status = 503`) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("failed attempt not logged")
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.app.SQL().Exec(context.Background(), `UPDATE outbox SET next_attempt_at = now() WHERE kind = 'team_webhook' AND done_at IS NULL`)
	e.app.Outbox.Notify()
	if got := waitTypes(t, rc, 4); got[3] != "ping" {
		t.Fatalf("retry: %v", got)
	}
	log := c.Get("/settings/webhook")
	if n := strings.Count(log.Body, `class="delivery-delivered"`); n != 4 {
		t.Errorf("delivery log shows %d delivered", n)
	}
	if !strings.Contains(log.Body, "customer.merge_undone") {
		t.Error("log lacks the undo event")
	}

	// Marketers cannot see or change the setting; another team's events never reach this endpoint.
	e.app.User(e.team.ID, models.RoleMarketer, "m@bear.test")
	m := e.app.Client()
	m.Login("m@bear.test", testutil.Password)
	if r := m.Get("/settings/webhook"); r.Status != http.StatusForbidden {
		t.Errorf("marketer: %d", r.Status)
	}
}
