// Package webhooks receives Meta (Messenger, Instagram, WhatsApp) and LINE webhooks and applies
// them: the receiver verifies and durably stores each delivery before it is acknowledged, and
// the processor turns stored deliveries into contacts and messages, at least once and
// idempotently, so a crash or a platform's redelivery neither loses nor doubles anything.
package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Sources: the webhook_events.platform values, one per callback URL family.
const (
	SourceMeta = "meta"
	SourceLINE = "line"
)

// MaxBody is the largest delivery accepted; Meta batches and LINE bodies stay far below it.
const MaxBody = 1 << 20

// Errors the receiver answers with; nothing is stored when one is returned.
var (
	ErrBadSignature   = &apperr.Error{Status: http.StatusUnauthorized, Key: "webhooks.error_signature"}
	ErrUnknownChannel = &apperr.Error{Status: http.StatusNotFound, Key: "webhooks.error_unknown_channel"}
)

// CredentialOpener opens a channel's sealed secrets (the channels service).
type CredentialOpener interface {
	Credentials(ch *models.Channel) (models.Credentials, error)
}

// Service is the receiving side: signature check, durable store, processor wake-up.
type Service struct {
	st          *store.Store
	creds       CredentialOpener
	appSecret   string
	verifyToken string
	metrics     *Metrics
	log         *slog.Logger
	wake        chan struct{}

	mu      sync.Mutex
	secrets map[int64]lineSecret // LINE channel secrets by channel id, opened once per TTL
}

// lineSecret is an opened LINE channel secret and when it must be read again.
type lineSecret struct {
	secret  string
	expires time.Time
}

// lineSecretTTL bounds how long a cached secret is trusted without looking at the channel row;
// a rotated secret is picked up at once anyway (a signature that fails the cached secret is
// checked again against the stored one).
const lineSecretTTL = time.Minute

// Deps are the Service's collaborators and settings.
type Deps struct {
	Store       *store.Store
	Credentials CredentialOpener
	AppSecret   string // Meta app secret: signs every Meta delivery
	VerifyToken string // Meta subscription handshake token
	Metrics     *Metrics
	Log         *slog.Logger
}

// New builds the receiver.
func New(d Deps) *Service {
	return &Service{
		st: d.Store, creds: d.Credentials, appSecret: d.AppSecret, verifyToken: d.VerifyToken,
		metrics: d.Metrics, log: d.Log,
		wake: make(chan struct{}, 1), secrets: map[int64]lineSecret{},
	}
}

// Wake delivers a signal after each stored delivery; a processor waits on it so new events are
// handled at once instead of at the next poll. Signals coalesce, never block the receiver.
func (s *Service) Wake() <-chan struct{} { return s.wake }

// MetaChallenge answers Meta's subscription handshake: the challenge to echo, or false.
func (s *Service) MetaChallenge(q url.Values) (string, bool) {
	return meta.VerifyChallenge(q, s.verifyToken)
}

// ReceiveMeta verifies a Messenger / Instagram / WhatsApp delivery on its raw bytes and stores it.
func (s *Service) ReceiveMeta(ctx context.Context, body []byte, signature string) error {
	if !meta.VerifySignature(s.appSecret, body, signature) {
		s.metrics.rejected.WithLabelValues(SourceMeta, "signature").Inc()
		return ErrBadSignature
	}
	return s.store(ctx, SourceMeta, nil, body)
}

// ReceiveLINE verifies a delivery to one LINE channel's URL with that channel's own secret
// and stores it. The channel id only selects the secret; routing happens later.
func (s *Service) ReceiveLINE(ctx context.Context, channelID int64, body []byte, signature string) error {
	// The hot path: a secret opened recently verifies without a query or a decryption.
	s.mu.Lock()
	cached, ok := s.secrets[channelID]
	s.mu.Unlock()
	if ok && time.Now().Before(cached.expires) && line.VerifySignature(cached.secret, body, signature) {
		return s.store(ctx, SourceLINE, &channelID, body)
	}
	ch, err := s.st.ChannelByIDSystem(ctx, channelID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && ch.Platform != models.LINE) {
		s.metrics.rejected.WithLabelValues(SourceLINE, "unknown_channel").Inc()
		return ErrUnknownChannel
	}
	if err != nil {
		return err
	}
	creds, err := s.creds.Credentials(ch)
	if err != nil {
		// Without the secret nothing can be verified; 500 makes LINE retry once an operator fixes the key.
		return fmt.Errorf("line webhook for channel %d: %w", ch.ID, err)
	}
	s.mu.Lock()
	s.secrets[ch.ID] = lineSecret{secret: creds.ChannelSecret, expires: time.Now().Add(lineSecretTTL)}
	s.mu.Unlock()
	if !line.VerifySignature(creds.ChannelSecret, body, signature) {
		s.metrics.rejected.WithLabelValues(SourceLINE, "signature").Inc()
		return ErrBadSignature
	}
	return s.store(ctx, SourceLINE, &ch.ID, body)
}

func (s *Service) store(ctx context.Context, source string, channelID *int64, body []byte) error {
	if err := s.st.InsertWebhookEvent(ctx, source, channelID, body); err != nil {
		return fmt.Errorf("store %s webhook: %w", source, err)
	}
	s.metrics.deliveries.WithLabelValues(source).Inc()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}
