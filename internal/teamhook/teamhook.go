// Package teamhook posts a team's identity events (identity.linked, customer.merged,
// customer.merge_undone) to the team's own HTTPS endpoint, signed with HMAC-SHA256 over the
// raw body, through the outbox (retries with backoff), in order per team, with a delivery log.
package teamhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/crypto"
	"github.com/omnilink/omnilink/internal/outbox"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Kind is the outbox kind of a webhook delivery.
const Kind = "team_webhook"

// Headers of every delivery.
const (
	HeaderSignature = "X-Omnilink-Signature" // t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
	HeaderEvent     = "X-Omnilink-Event"
	HeaderDelivery  = "X-Omnilink-Delivery"
)

// Event kinds.
const (
	EventLinked      = "identity.linked"
	EventMerged      = "customer.merged"
	EventMergeUndone = "customer.merge_undone"
	EventPing        = "ping"
)

// MinSecret is the shortest secret accepted, in bytes.
const MinSecret = 16

// Service keeps the setting, records events and delivers them.
type Service struct {
	st           *store.Store
	box          *crypto.Box
	client       *http.Client
	notify       interface{ Notify() }
	now          func() time.Time
	allowPrivate bool
}

// Options configure the service.
type Options struct {
	// AllowPrivate lets endpoints resolve to loopback and private addresses (the sandbox);
	// otherwise such connections are refused, so the setting cannot reach internal services.
	AllowPrivate bool
	Now          func() time.Time
}

// New builds the service.
func New(st *store.Store, box *crypto.Box, notify interface{ Notify() }, opt Options) *Service {
	s := &Service{st: st, box: box, notify: notify, now: opt.Now, allowPrivate: opt.AllowPrivate}
	if s.now == nil {
		s.now = time.Now
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: s.checkAddress}
	s.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: 5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second, MaxIdleConnsPerHost: 2},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return s
}

// UseClient replaces the HTTP client deliveries use (tests trusting a test server's certificate).
func (s *Service) UseClient(c *http.Client) { s.client = c }

// checkAddress refuses connections to internal addresses unless allowed, checked on the address
// actually dialled (so DNS tricks do not get around it).
func (s *Service) checkAddress(_, address string, _ syscall.RawConn) error {
	if s.allowPrivate {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || ip.IsMulticast() {
		return fmt.Errorf("teamhook: refusing to connect to internal address %s", host)
	}
	return nil
}

// Register lets the outbox deliver webhook events.
func (s *Service) Register(o *outbox.Outbox) { o.Handle(Kind, s.deliver) }

func aad(teamID int64) []byte {
	return []byte("team:" + strconv.FormatInt(teamID, 10) + ":webhook_secret")
}

// Setting is what the settings page shows: never the secret.
type Setting struct {
	URL        string
	Enabled    bool
	HasSecret  bool
	Deliveries []models.TeamWebhookDelivery
}

// Setting loads the team's setting and its latest deliveries.
func (s *Service) Setting(ctx context.Context, teamID int64) (*Setting, error) {
	out := &Setting{}
	w, err := s.st.TeamWebhook(ctx, teamID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		out.URL, out.Enabled, out.HasSecret = w.URL, w.Enabled, w.SecretEnc != ""
	}
	if out.Deliveries, err = s.st.TeamWebhookDeliveries(ctx, teamID, 50); err != nil {
		return nil, err
	}
	return out, nil
}

// Setting errors.
var (
	ErrURL    = apperr.Invalid("url", "settings.webhook_error_url")
	ErrSecret = apperr.Invalid("secret", "settings.webhook_error_secret")
)

// Input is the settings form.
type Input struct {
	URL     string
	Secret  string // empty keeps the current one
	Enabled bool
}

// Save validates and stores the team's setting (every field error at once), audited.
func (s *Service) Save(ctx context.Context, actor *models.User, in Input) error {
	in.URL = strings.TrimSpace(in.URL)
	var problems []error
	u, err := url.Parse(in.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(in.URL) > 500 {
		problems = append(problems, ErrURL)
	}
	cur, err := s.st.TeamWebhook(ctx, actor.TeamID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	secretEnc := ""
	if cur != nil {
		secretEnc = cur.SecretEnc
	}
	if in.Secret != "" || secretEnc == "" {
		if len(in.Secret) < MinSecret || len(in.Secret) > 200 || !utf8.ValidString(in.Secret) {
			problems = append(problems, ErrSecret.With(map[string]any{"Min": MinSecret}))
		} else {
			secretEnc = s.box.Seal([]byte(in.Secret), aad(actor.TeamID))
		}
	}
	if len(problems) > 0 {
		return errors.Join(problems...)
	}
	now := s.now()
	return s.st.WithTx(ctx, func(tx *store.Store) error {
		if err := tx.SaveTeamWebhook(ctx, &models.TeamWebhook{TeamID: actor.TeamID, URL: in.URL, SecretEnc: secretEnc, Enabled: in.Enabled,
			UpdatedBy: &actor.ID, UpdatedAt: now}); err != nil {
			return err
		}
		return tx.AddAudit(ctx, &models.AuditEntry{TeamID: actor.TeamID, ActorUserID: &actor.ID, Action: "team_webhook.save",
			Detail: models.JSONMap{"url": in.URL, "enabled": in.Enabled, "secret_changed": in.Secret != ""}, CreatedAt: now})
	})
}

// Ping queues a test event to the team's endpoint.
func (s *Service) Ping(ctx context.Context, actor *models.User) error {
	err := s.st.WithTx(ctx, func(tx *store.Store) error {
		return s.emit(ctx, tx, actor.TeamID, EventPing, s.now(), func() (any, error) {
			return map[string]any{"by_user": actor.ID}, nil
		})
	})
	if err == nil {
		s.notify.Notify()
	}
	return err
}

// envelope is every event's body.
type envelope struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	TeamID     int64  `json:"team_id"`
	OccurredAt string `json:"occurred_at"`
	Data       any    `json:"data"`
}

// emit records an event in tx when the team has an enabled webhook; the body is fixed now so
// a retry sends the same bytes. data builds the event's data only then, so a team without a
// webhook pays one query per event.
func (s *Service) emit(ctx context.Context, tx *store.Store, teamID int64, kind string, at time.Time, data func() (any, error)) error {
	w, err := tx.TeamWebhook(ctx, teamID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !w.Enabled) {
		return nil
	}
	if err != nil {
		return err
	}
	d, err := data()
	if err != nil {
		return err
	}
	return s.record(ctx, tx, teamID, kind, at, d)
}

// record writes the event's delivery and queues it.
func (s *Service) record(ctx context.Context, tx *store.Store, teamID int64, kind string, at time.Time, data any) error {
	id := "evt_" + rand.Text()
	body, err := json.Marshal(envelope{ID: id, Type: kind, TeamID: teamID, OccurredAt: at.UTC().Format(time.RFC3339Nano), Data: data})
	if err != nil {
		return err
	}
	d := &models.TeamWebhookDelivery{TeamID: teamID, EventID: id, Kind: kind, Body: string(body), CreatedAt: at}
	if err := tx.AddTeamWebhookDelivery(ctx, d); err != nil {
		return err
	}
	_, err = outbox.Enqueue(ctx, tx, at, outbox.Entry{Kind: Kind, Key: "team_webhook:" + id, TeamID: teamID, Payload: map[string]int64{"delivery_id": d.ID}})
	return err
}

// Sign is the signature header value for body at t.
func Sign(secret, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header against the raw body and the secret, refusing timestamps
// further than tolerance from now (replays); the compare is constant-time.
func Verify(secret, body []byte, header string, now time.Time, tolerance time.Duration) bool {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return false
	}
	t := time.Unix(sec, 0)
	if now.Sub(t) > tolerance || t.Sub(now) > tolerance {
		return false
	}
	want := Sign(secret, body, t)
	return hmac.Equal([]byte(want), []byte("t="+ts+",v1="+sig))
}

// deliver posts the team's pending events up to this one, oldest first, so events arrive in
// the order they happened even when the outbox hands them over in another order; the first
// failure stops the run and is retried with backoff. A receiver may see an event twice (two
// workers, or a lost answer): the event id tells.
func (s *Service) deliver(ctx context.Context, it models.OutboxItem) error {
	var p struct {
		DeliveryID int64 `json:"delivery_id"`
	}
	if err := json.Unmarshal([]byte(it.Payload), &p); err != nil {
		return outbox.Permanent(err)
	}
	d, err := s.st.TeamWebhookDeliverySystem(ctx, p.DeliveryID)
	if err != nil {
		return outbox.Permanent(err)
	}
	if d.DeliveredAt != nil || d.GivenUpAt != nil {
		return nil
	}
	w, err := s.st.TeamWebhook(ctx, d.TeamID)
	if err != nil || !w.Enabled {
		_ = s.st.NoteTeamWebhookAttemptSystem(ctx, d.ID, 0, "webhook removed or turned off", s.now(), false, true)
		return outbox.Permanent(errors.New("teamhook: webhook removed or turned off"))
	}
	secret, err := s.box.Open(w.SecretEnc, aad(d.TeamID))
	if err != nil {
		return outbox.Permanent(err)
	}
	// One run per team at a time: the outbox delivers many items at once, and two runs of one
	// team would post the same pending events twice, and out of order.
	lock, err := s.st.WaitAdvisoryLock(ctx, teamLockKey(d.TeamID))
	if err != nil {
		return err
	}
	defer func() { _ = lock.Unlock() }()
	pending, err := s.st.PendingTeamWebhookDeliveriesUpTo(ctx, d, 100)
	if err != nil {
		return err
	}
	for i := range pending {
		e := &pending[i]
		status, sendErr := s.post(ctx, w.URL, secret, e)
		msg := ""
		if sendErr != nil {
			msg = sendErr.Error()
			if len(msg) > 300 {
				msg = msg[:300]
			}
		}
		givenUp := sendErr != nil && e.ID == d.ID && it.Attempts >= it.MaxAttempts
		if err := s.st.NoteTeamWebhookAttemptSystem(ctx, e.ID, status, msg, s.now(), sendErr == nil, givenUp); err != nil {
			return err
		}
		if sendErr != nil {
			return sendErr
		}
	}
	return nil
}

// teamLockKey is the advisory lock of one team's webhook runs; the high bits keep it apart from
// the health monitor's locks.
func teamLockKey(teamID int64) int64 { return 0x5448<<48 | teamID }

func (s *Service) post(ctx context.Context, endpoint string, secret []byte, d *models.TeamWebhookDelivery) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	body := []byte(d.Body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, outbox.Permanent(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "omnilink-webhook/1")
	req.Header.Set(HeaderEvent, d.Kind)
	req.Header.Set(HeaderDelivery, d.EventID)
	req.Header.Set(HeaderSignature, Sign(secret, body, s.now()))
	res, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return res.StatusCode, nil
	}
	return res.StatusCode, fmt.Errorf("endpoint answered %d", res.StatusCode)
}
