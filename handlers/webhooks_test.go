package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

func webhookFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "internal", "webhooks", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// postRaw sends body with an optional signature header; a nil length hides the size (chunked).
func postRaw(t *testing.T, a *testutil.TestApp, path string, body io.Reader, header, sig string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.URL+path, body)
	req.Header.Set("Content-Type", "application/json")
	if header != "" {
		req.Header.Set(header, sig)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func storedDeliveries(t *testing.T, a *testutil.TestApp) int {
	t.Helper()
	var n int
	if err := a.SQL().QueryRow(context.Background(), `SELECT count(*) FROM webhook_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMetaWebhookChallenge(t *testing.T) {
	a := testutil.NewApp(t, func(c *config.Config) { c.MetaWebhookVerifyToken = "verify-me" })
	c := a.Client()
	r := c.Get("/webhooks/meta?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444")
	if r.Status != http.StatusOK || r.Body != "1158201444" {
		t.Errorf("good token: %d %q, want 200 with the bare challenge", r.Status, r.Body)
	}
	for name, q := range map[string]string{
		"wrong token":   "hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444",
		"missing token": "hub.mode=subscribe&hub.challenge=1158201444",
		"wrong mode":    "hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1158201444",
	} {
		if r := c.Get("/webhooks/meta?" + q); r.Status != http.StatusForbidden || strings.Contains(r.Body, "1158201444") {
			t.Errorf("%s: %d %q, want 403 without the challenge", name, r.Status, r.Body)
		}
	}
}

func TestWebhookSignaturesAreCheckedBeforeStoring(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("A")
	const secret = "line-secret-a"
	ch := a.Channel(team.ID, models.LINE, "U123", models.Credentials{ChannelSecret: secret})
	other := a.Channel(team.ID, models.LINE, "U456", models.Credentials{ChannelSecret: "line-secret-b"})

	metaBody := webhookFixture(t, "meta/messenger-text.json")
	var v any
	_ = json.Unmarshal(metaBody, &v)
	reencoded, _ := json.Marshal(v) // the same JSON without Meta's \u escapes: other bytes
	if bytes.Equal(reencoded, metaBody) {
		t.Fatal("re-encoding must change the bytes")
	}
	lineBody := webhookFixture(t, "line/message-text.json")
	linePath := fmt.Sprintf("/webhooks/line/%d", ch.ID)

	cases := []struct {
		name, path string
		body       []byte
		header     string
		sig        string
	}{
		{"meta missing signature", "/webhooks/meta", metaBody, "", ""},
		{"meta garbage signature", "/webhooks/meta", metaBody, meta.SignatureHeader, "sha256=deadbeef"},
		{"meta signature of re-serialised JSON", "/webhooks/meta", metaBody, meta.SignatureHeader, meta.Sign(config.SandboxAppSecret, reencoded)},
		{"meta re-serialised body", "/webhooks/meta", reencoded, meta.SignatureHeader, meta.Sign(config.SandboxAppSecret, metaBody)},
		{"meta wrong secret", "/webhooks/meta", metaBody, meta.SignatureHeader, meta.Sign("not-the-app-secret", metaBody)},
		{"meta sha1 header only", "/webhooks/meta", metaBody, "X-Hub-Signature", meta.Sign(config.SandboxAppSecret, metaBody)},
		{"line missing signature", linePath, lineBody, "", ""},
		{"line garbage signature", linePath, lineBody, line.SignatureHeader, "bm90IGEgc2lnbmF0dXJl"},
		{"line another channel's secret", linePath, lineBody, line.SignatureHeader, line.Sign("line-secret-b", lineBody)},
		{"line meta-style signature", linePath, lineBody, line.SignatureHeader, meta.Sign(secret, lineBody)},
	}
	for _, tc := range cases {
		st, body := postRaw(t, a, tc.path, bytes.NewReader(tc.body), tc.header, tc.sig)
		if st != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", tc.name, st)
		}
		if strings.Contains(body, "Hello") || strings.Contains(body, "hello") {
			t.Errorf("%s: the answer echoes the body", tc.name)
		}
	}
	if n := storedDeliveries(t, a); n != 0 {
		t.Fatalf("%d deliveries stored from refused requests", n)
	}
	// The same bodies, correctly signed, are accepted: the refusals above were about signatures.
	if st, _ := postRaw(t, a, "/webhooks/meta", bytes.NewReader(metaBody), meta.SignatureHeader, meta.Sign(config.SandboxAppSecret, metaBody)); st != http.StatusOK {
		t.Errorf("valid Meta delivery: %d", st)
	}
	if st, _ := postRaw(t, a, fmt.Sprintf("/webhooks/line/%d", other.ID), bytes.NewReader(lineBody), line.SignatureHeader, line.Sign("line-secret-b", lineBody)); st != http.StatusOK {
		t.Errorf("valid LINE delivery: %d", st)
	}
	if n := storedDeliveries(t, a); n != 2 {
		t.Errorf("stored deliveries = %d, want 2", n)
	}
}

func TestLINEWebhookUnknownChannel(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("A")
	page := a.Channel(team.ID, models.Facebook, "105550001111111", models.Credentials{ChannelSecret: "s"})
	body := webhookFixture(t, "line/message-text.json")
	for _, path := range []string{"/webhooks/line/999999", "/webhooks/line/abc", "/webhooks/line/-1", fmt.Sprintf("/webhooks/line/%d", page.ID)} {
		if st, _ := postRaw(t, a, path, bytes.NewReader(body), line.SignatureHeader, line.Sign("s", body)); st != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, st)
		}
	}
	if n := storedDeliveries(t, a); n != 0 {
		t.Errorf("%d deliveries stored for unknown channels", n)
	}
}

func TestWebhookBodyLimit(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("A")
	ch := a.Channel(team.ID, models.LINE, "U123", models.Credentials{ChannelSecret: "line-secret"})
	const limit = 1 << 20
	big := bytes.Repeat([]byte("x"), limit+1) // one byte over, validly signed
	hidden := func(b []byte) io.Reader { return io.MultiReader(bytes.NewReader(b)) }

	cases := []struct {
		name, path, header, sig string
		body                    io.Reader
	}{
		{"meta with length", "/webhooks/meta", meta.SignatureHeader, meta.Sign(config.SandboxAppSecret, big), bytes.NewReader(big)},
		{"meta chunked", "/webhooks/meta", meta.SignatureHeader, meta.Sign(config.SandboxAppSecret, big), hidden(big)},
		{"line", fmt.Sprintf("/webhooks/line/%d", ch.ID), line.SignatureHeader, line.Sign("line-secret", big), bytes.NewReader(big)},
	}
	for _, tc := range cases {
		if st, _ := postRaw(t, a, tc.path, tc.body, tc.header, tc.sig); st != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: %d, want 413", tc.name, st)
		}
	}
	if n := storedDeliveries(t, a); n != 0 {
		t.Fatalf("%d oversized deliveries stored", n)
	}
	// Exactly at the limit is accepted (and stored, to fail later as malformed JSON).
	atLimit := big[:limit]
	if st, _ := postRaw(t, a, "/webhooks/meta", hidden(atLimit), meta.SignatureHeader, meta.Sign(config.SandboxAppSecret, atLimit)); st != http.StatusOK {
		t.Errorf("a body of exactly 1 MiB: %d, want 200", st)
	}
	if n := storedDeliveries(t, a); n != 1 {
		t.Errorf("stored = %d, want 1", n)
	}
}
