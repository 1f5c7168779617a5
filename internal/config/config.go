// Package config reads the server's configuration from the environment and validates it once at start-up.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/omnilink/omnilink/internal/crypto"
)

// Providers selects whether platform clients talk to the built-in sandbox or to the real platforms.
const (
	ProvidersSandbox = "sandbox"
	ProvidersLive    = "live"
)

// Config is the whole server configuration; it is passed by value.
type Config struct {
	DatabaseURL   string `env:"DATABASE_URL"`
	Addr          string `env:"OMNILINK_ADDR" envDefault:":8080"`
	BaseURL       string `env:"OMNILINK_BASE_URL"`
	SecretKey     string `env:"OMNILINK_SECRET_KEY"`
	Providers     string `env:"OMNILINK_PROVIDERS"`
	AdminPassword string `env:"OMNILINK_ADMIN_PASSWORD"`
	LogLevel      string `env:"OMNILINK_LOG_LEVEL" envDefault:"info"`
	TrustProxy    bool   `env:"OMNILINK_TRUST_PROXY"`

	MetaAppID              string `env:"META_APP_ID"`
	MetaAppSecret          string `env:"META_APP_SECRET"`
	MetaWebhookVerifyToken string `env:"META_WEBHOOK_VERIFY_TOKEN"`
	MetaLoginConfigID      string `env:"META_LOGIN_CONFIG_ID"`
	MetaGraphVersion       string `env:"META_GRAPH_VERSION" envDefault:"v25.0"`
	MetaGraphURL           string `env:"META_GRAPH_URL"`
	MetaDialogURL          string `env:"META_DIALOG_URL"`
	LineAPIURL             string `env:"LINE_API_URL"`
	LiffSDKURL             string `env:"LIFF_SDK_URL"`
	// LiffURL is LINE's LIFF launcher and WAURL WhatsApp's click-to-chat; the sandbox serves both.
	LiffURL string `env:"LIFF_URL"`
	WAURL   string `env:"WA_URL"`
	// LineAccountURL opens a LINE official account's page in LINE (add friend, unblock):
	// {LineAccountURL}/@{basic id}.
	LineAccountURL string `env:"LINE_ACCOUNT_URL"`
	// LinkRatePerMinute caps link clicks and LIFF submissions per client address.
	LinkRatePerMinute int `env:"LINK_RATE_PER_MINUTE" envDefault:"120"`

	SMTPURL  string `env:"SMTP_URL"`
	MailFrom string `env:"MAIL_FROM" envDefault:"omnilink <noreply@omnilink.local>"`

	HealthCheckInterval time.Duration `env:"HEALTH_CHECK_INTERVAL" envDefault:"1h"`
	// OutboxConcurrency is how many outbox items (sends, emails) one process delivers at once.
	OutboxConcurrency int `env:"OUTBOX_CONCURRENCY" envDefault:"64"`
	// OutboxDBConns is the size of the database pool the outbox delivers with, apart from the
	// 20 connections requests use, so neither starves the other under load.
	OutboxDBConns int `env:"OUTBOX_DB_CONNS" envDefault:"8"`
	// WebhookRetention is how long processed webhook deliveries (and their deduplication keys
	// and unrouted events) are kept before they are pruned.
	WebhookRetention time.Duration `env:"WEBHOOK_RETENTION" envDefault:"720h"`
}

// DefaultWebhookRetention is WEBHOOK_RETENTION's default, 30 days.
const DefaultWebhookRetention = 30 * 24 * time.Hour

// MaxOutboxConcurrency bounds OUTBOX_CONCURRENCY: each delivery in flight may hold an HTTP
// connection to a platform and briefly a database connection.
const MaxOutboxConcurrency = 1000

// DefaultOutboxDBConns is OUTBOX_DB_CONNS's default and MaxOutboxDBConns its bound.
const (
	DefaultOutboxDBConns = 8
	MaxOutboxDBConns     = 100
)

// MinWebhookRetention keeps deduplication keys longer than any platform redelivers an event.
const MinWebhookRetention = 48 * time.Hour

// Load reads the environment, fills derived defaults and validates; every problem is reported, one per line.
func Load() (Config, error) {
	var c Config
	if err := env.Parse(&c); err != nil {
		return c, err
	}
	c.applyDefaults()
	return c, c.Validate()
}

// Finish fills derived defaults into a Config built in code (tests) and validates it.
func Finish(c Config) (Config, error) {
	c.applyDefaults()
	return c, c.Validate()
}

// Sandbox reports whether the built-in provider emulator stands in for the platforms.
func (c Config) Sandbox() bool { return c.Providers == ProvidersSandbox }

// SecureCookies reports whether cookies must carry the Secure flag (the public origin is https).
func (c Config) SecureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }

func (c *Config) applyDefaults() {
	if c.OutboxDBConns == 0 {
		c.OutboxDBConns = DefaultOutboxDBConns
	}
	if c.WebhookRetention == 0 {
		c.WebhookRetention = DefaultWebhookRetention
	}
	if c.Providers == "" {
		if c.MetaAppID == "" {
			c.Providers = ProvidersSandbox
		} else {
			c.Providers = ProvidersLive
		}
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://localhost" + portOf(c.Addr)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Sandbox() {
		// The sandbox lives in this process; the real clients reach it over HTTP like any platform.
		if c.MetaGraphURL == "" {
			c.MetaGraphURL = c.BaseURL + "/sandbox/api/graph"
		}
		if c.MetaDialogURL == "" {
			c.MetaDialogURL = c.BaseURL + "/sandbox/dialog"
		}
		if c.LineAPIURL == "" {
			c.LineAPIURL = c.BaseURL + "/sandbox/api/line"
		}
		if c.MetaAppID == "" {
			c.MetaAppID = SandboxAppID
		}
		if c.MetaAppSecret == "" {
			c.MetaAppSecret = SandboxAppSecret
		}
		if c.MetaWebhookVerifyToken == "" {
			c.MetaWebhookVerifyToken = "sandbox-verify-token"
		}
		if c.LiffURL == "" {
			c.LiffURL = c.BaseURL + "/sandbox/liff"
		}
		if c.WAURL == "" {
			c.WAURL = c.BaseURL + "/sandbox/wa"
		}
		if c.LineAccountURL == "" {
			c.LineAccountURL = c.BaseURL + "/sandbox/line/account"
		}
		if c.LiffSDKURL == "" {
			c.LiffSDKURL = "/static/sandbox-liff-sdk.js"
		}
	}
	if c.LiffURL == "" {
		c.LiffURL = "https://liff.line.me"
	}
	if c.WAURL == "" {
		c.WAURL = "https://wa.me"
	}
	if c.LineAccountURL == "" {
		c.LineAccountURL = "https://line.me/R/ti/p"
	}
	if c.LiffSDKURL == "" {
		c.LiffSDKURL = "/static/vendor/liff/liff-2.31.0.js"
	}
	if c.LinkRatePerMinute <= 0 {
		c.LinkRatePerMinute = 120
	}
	if c.MetaGraphURL == "" {
		c.MetaGraphURL = "https://graph.facebook.com"
	}
	if c.MetaDialogURL == "" {
		c.MetaDialogURL = "https://www.facebook.com"
	}
	if c.LineAPIURL == "" {
		c.LineAPIURL = "https://api.line.me"
	}
}

// SandboxAppID and SandboxAppSecret identify the emulated Meta app; they are public by design.
const (
	SandboxAppID     = "100000000000001"
	SandboxAppSecret = "sandbox-app-secret-not-for-production"
)

// Validate checks every field and returns all problems joined, one per line.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.DatabaseURL == "" {
		add("DATABASE_URL is required (make run starts a private database and sets it)")
	}
	if _, err := crypto.ParseMasterKey(c.SecretKey); err != nil {
		add("OMNILINK_SECRET_KEY: %v", err)
	}
	if c.Providers != ProvidersSandbox && c.Providers != ProvidersLive {
		add("OMNILINK_PROVIDERS must be %q or %q, not %q", ProvidersSandbox, ProvidersLive, c.Providers)
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("OMNILINK_BASE_URL must be an absolute http(s) origin, got %q", c.BaseURL)
	}
	for name, v := range map[string]string{"META_GRAPH_URL": c.MetaGraphURL, "META_DIALOG_URL": c.MetaDialogURL, "LINE_API_URL": c.LineAPIURL} {
		if u, err := url.Parse(v); err != nil || u.Host == "" {
			add("%s must be an absolute URL, got %q", name, v)
		}
	}
	if c.Providers == ProvidersLive {
		if c.MetaAppID == "" || c.MetaAppSecret == "" {
			add("META_APP_ID and META_APP_SECRET are required when OMNILINK_PROVIDERS=live")
		}
		if c.MetaWebhookVerifyToken == "" {
			add("META_WEBHOOK_VERIFY_TOKEN is required when OMNILINK_PROVIDERS=live")
		}
		if !strings.HasPrefix(c.BaseURL, "https://") {
			add("OMNILINK_BASE_URL must be https when OMNILINK_PROVIDERS=live (Facebook Login and webhooks require it)")
		}
	}
	if !strings.HasPrefix(c.MetaGraphVersion, "v") {
		add("META_GRAPH_VERSION must look like v25.0, got %q", c.MetaGraphVersion)
	}
	if c.HealthCheckInterval < time.Minute {
		add("HEALTH_CHECK_INTERVAL must be at least 1m, got %s", c.HealthCheckInterval)
	}
	if c.OutboxConcurrency < 1 || c.OutboxConcurrency > MaxOutboxConcurrency {
		add("OUTBOX_CONCURRENCY must be between 1 and %d, got %d", MaxOutboxConcurrency, c.OutboxConcurrency)
	}
	if c.OutboxDBConns < 1 || c.OutboxDBConns > MaxOutboxDBConns {
		add("OUTBOX_DB_CONNS must be between 1 and %d, got %d", MaxOutboxDBConns, c.OutboxDBConns)
	}
	if c.WebhookRetention < MinWebhookRetention {
		add("WEBHOOK_RETENTION must be at least %s (platforms redeliver events for up to a day or two), got %s", MinWebhookRetention, c.WebhookRetention)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		add("OMNILINK_LOG_LEVEL must be debug, info, warn or error, got %q", c.LogLevel)
	}
	return errors.Join(errs...)
}

// MasterKey returns the decoded OMNILINK_SECRET_KEY; Validate has already checked it.
func (c Config) MasterKey() []byte {
	k, _ := crypto.ParseMasterKey(c.SecretKey)
	return k
}

func portOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[i:]
	}
	return ":8080"
}
