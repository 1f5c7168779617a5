package config

import (
	"strings"
	"testing"
	"time"
)

const goodKey = "q6E0cM6nJ8Zb0p1mVd2Xl9Qf3Yw7Rt5Uy4Io8Pa2Ss0="

func TestDefaultsAndSandbox(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://x@127.0.0.1/db")
	t.Setenv("OMNILINK_SECRET_KEY", goodKey)
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if !c.Sandbox() || c.BaseURL != "http://localhost:8080" || c.MetaGraphURL != "http://localhost:8080/sandbox/api/graph" ||
		c.LineAPIURL != "http://localhost:8080/sandbox/api/line" || c.HealthCheckInterval != time.Hour || c.SecureCookies() ||
		c.LineAccountURL != "http://localhost:8080/sandbox/line/account" {
		t.Fatalf("defaults: %+v", c)
	}
	if len(c.MasterKey()) != 32 {
		t.Fatal("master key not decoded")
	}
}

func TestLiveNeedsMetaAppAndHTTPS(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://x@127.0.0.1/db")
	t.Setenv("OMNILINK_SECRET_KEY", goodKey)
	t.Setenv("META_APP_ID", "123")
	t.Setenv("OMNILINK_BASE_URL", "http://example.com")
	_, err := Load()
	if err == nil {
		t.Fatal("live providers over http accepted")
	}
	for _, want := range []string{"META_APP_ID and META_APP_SECRET", "META_WEBHOOK_VERIFY_TOKEN", "must be https"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	t.Setenv("META_APP_SECRET", "s")
	t.Setenv("META_WEBHOOK_VERIFY_TOKEN", "v")
	t.Setenv("OMNILINK_BASE_URL", "https://omni.example.com/")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Sandbox() || c.MetaGraphURL != "https://graph.facebook.com" || c.BaseURL != "https://omni.example.com" || !c.SecureCookies() ||
		c.LineAccountURL != "https://line.me/R/ti/p" || c.WAURL != "https://wa.me" {
		t.Fatalf("live config: %+v", c)
	}
}

func TestEveryProblemOnItsOwnLine(t *testing.T) {
	t.Setenv("OMNILINK_SECRET_KEY", "short")
	t.Setenv("OMNILINK_PROVIDERS", "staging")
	t.Setenv("HEALTH_CHECK_INTERVAL", "5s")
	t.Setenv("OMNILINK_LOG_LEVEL", "loud")
	t.Setenv("META_GRAPH_VERSION", "25")
	_, err := Load()
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 6 {
		t.Fatalf("want 6 problems, one per line, got %d:\n%v", len(lines), err)
	}
	if strings.Contains(err.Error(), "short") {
		t.Fatal("the secret's value was echoed in the error")
	}
	t.Setenv("HEALTH_CHECK_INTERVAL", "soon")
	if _, err := Load(); err == nil {
		t.Fatal("unparsable duration accepted")
	}
}

func TestWebhookRetention(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://x@127.0.0.1/db")
	t.Setenv("OMNILINK_SECRET_KEY", goodKey)
	c, err := Load()
	if err != nil || c.WebhookRetention != 30*24*time.Hour {
		t.Fatalf("default retention = %s (%v), want 30 days", c.WebhookRetention, err)
	}
	t.Setenv("WEBHOOK_RETENTION", "2160h")
	if c, err := Load(); err != nil || c.WebhookRetention != 90*24*time.Hour {
		t.Fatalf("retention = %s (%v), want 90 days", c.WebhookRetention, err)
	}
	t.Setenv("WEBHOOK_RETENTION", "1h")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "WEBHOOK_RETENTION must be at least") {
		t.Fatalf("a retention shorter than platform redeliveries was accepted: %v", err)
	}
}

func TestOutboxConcurrency(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://x@127.0.0.1/db")
	t.Setenv("OMNILINK_SECRET_KEY", goodKey)
	if c, err := Load(); err != nil || c.OutboxConcurrency != 64 {
		t.Fatalf("default outbox concurrency = %d (%v), want 64", c.OutboxConcurrency, err)
	}
	t.Setenv("OUTBOX_CONCURRENCY", "100")
	if c, err := Load(); err != nil || c.OutboxConcurrency != 100 {
		t.Fatalf("outbox concurrency = %d (%v), want 100", c.OutboxConcurrency, err)
	}
	for _, bad := range []string{"0", "-3", "1001"} {
		t.Setenv("OUTBOX_CONCURRENCY", bad)
		if _, err := Load(); err == nil || !strings.Contains(err.Error(), "OUTBOX_CONCURRENCY must be between 1 and 1000") {
			t.Fatalf("OUTBOX_CONCURRENCY=%s was accepted: %v", bad, err)
		}
	}
}

func TestOutboxDBConns(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://x@127.0.0.1/db")
	t.Setenv("OMNILINK_SECRET_KEY", goodKey)
	if c, err := Load(); err != nil || c.OutboxDBConns != 8 {
		t.Fatalf("default outbox pool = %d (%v), want 8", c.OutboxDBConns, err)
	}
	if c, err := Finish(Config{DatabaseURL: "postgres://x@127.0.0.1/db", SecretKey: goodKey, OutboxConcurrency: 1, MetaGraphVersion: "v25.0", MailFrom: "a <a@b.c>", HealthCheckInterval: time.Hour, LogLevel: "info"}); err != nil || c.OutboxDBConns != DefaultOutboxDBConns {
		t.Fatalf("a config built in code got an outbox pool of %d (%v)", c.OutboxDBConns, err)
	}
	t.Setenv("OUTBOX_DB_CONNS", "4")
	if c, err := Load(); err != nil || c.OutboxDBConns != 4 {
		t.Fatalf("outbox pool = %d (%v), want 4", c.OutboxDBConns, err)
	}
	for _, bad := range []string{"-1", "101"} {
		t.Setenv("OUTBOX_DB_CONNS", bad)
		if _, err := Load(); err == nil || !strings.Contains(err.Error(), "OUTBOX_DB_CONNS must be between 1 and 100") {
			t.Fatalf("OUTBOX_DB_CONNS=%s was accepted: %v", bad, err)
		}
	}
}
