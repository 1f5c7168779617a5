// Package messaging is the one path every outbound message takes: content is rendered for the
// contact's platform and checked against its limits when the send is requested; the channel's
// health, the 24-hour window and the LINE friendship are checked before anything is queued;
// the send is queued in the outbox in the caller's transaction; and the outbox worker calls the
// platform (paced per channel), records the platform message ids, retries what can be retried
// and records what cannot.
package messaging

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/outbox"
	"github.com/omnilink/omnilink/internal/pace"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// KindSend is the outbox kind of a queued send.
const KindSend = "message.send"

// HumanAgentWindow is how long after a customer's last message a person (never automation)
// may still answer on Messenger and Instagram with the HUMAN_AGENT tag.
const HumanAgentWindow = 7 * 24 * time.Hour

// CredentialOpener opens a channel's sealed secrets (the channels service).
type CredentialOpener interface {
	Credentials(ch *models.Channel) (models.Credentials, error)
}

// HealthReporter hears about every failed platform call, so auth failures break the channel
// through the same state change as the health sweep (health.Monitor).
type HealthReporter interface {
	ReportFailure(ctx context.Context, ch *models.Channel, err error) (bool, error)
}

// Notifier is told when work was queued, so the outbox delivers it at once.
type Notifier interface{ Notify() }

// Deps are the service's collaborators.
type Deps struct {
	Store       *store.Store
	Credentials CredentialOpener
	// MetaConfig builds the service's own Graph client, whose usage headers pace sends.
	MetaConfig meta.Config
	Line       *line.Client
	Health     HealthReporter // optional
	Outbox     Notifier       // optional
	Log        *slog.Logger
	Now        func() time.Time
	// Sleep waits for d or until ctx ends; tests may pass one that moves a fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Options tune the service; zero values take the defaults.
type Options struct {
	CallTimeout time.Duration                 // per platform call (default 20s)
	Rates       map[models.Platform]pace.Rate // overrides of pace.Rates
	Usage       pace.UsageConfig              // slowing down from Meta's usage headers
}

// Service sends messages to contacts.
type Service struct {
	st     *store.Store
	creds  CredentialOpener
	meta   *meta.Client
	line   *line.Client
	health HealthReporter
	notify Notifier
	log    *slog.Logger
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	opt    Options
	pacer  *pace.Buckets
	usage  *pace.Usage
}

// New builds a Service.
func New(d Deps, opt Options) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Sleep == nil {
		d.Sleep = sleepCtx
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if opt.CallTimeout <= 0 {
		opt.CallTimeout = 20 * time.Second
	}
	s := &Service{st: d.Store, creds: d.Credentials, line: d.Line, health: d.Health, notify: d.Outbox,
		log: d.Log, now: d.Now, sleep: d.Sleep, opt: opt}
	s.pacer = pace.NewBuckets(opt.Rates, d.Now, d.Sleep)
	s.usage = pace.NewUsage(opt.Usage, d.Now, d.Sleep)
	mc := d.MetaConfig
	prev := mc.OnUsage
	mc.OnUsage = func(u meta.Usage) {
		s.usage.Observe(u)
		if prev != nil {
			prev(u)
		}
	}
	s.meta = meta.New(mc)
	return s
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Register makes o deliver queued sends.
func (s *Service) Register(o *outbox.Outbox) { o.Handle(KindSend, s.deliver) }

// Pacer exposes the per-channel pacer (for reports and tests).
func (s *Service) Pacer() *pace.Buckets { return s.pacer }

// WhatsAppTemplate is an approved template to send instead when a WhatsApp contact's window
// is closed.
type WhatsAppTemplate struct {
	Name     string `json:"name"`
	Language string `json:"language"`
}

// SendRequest asks for content to go to one of a team's contacts.
type SendRequest struct {
	TeamID    int64
	ContactID int64
	Content   models.Content
	// IdempotencyKey names the change that caused the send (e.g. "campaign:7:link:42:success");
	// a second request with the same key is the same send and goes out at most once.
	IdempotencyKey string
	Cause          string // what asked for the send, for people reading the record
	// Automated sends (bot modules, campaigns, journeys) never use the HUMAN_AGENT tag.
	Automated bool
	// WhatsAppTemplate, when set, goes out instead of the content if the WhatsApp window is closed.
	WhatsAppTemplate *WhatsAppTemplate
	// LineReplyToken, on LINE, answers the event that carried it instead of pushing, if the
	// first delivery attempt happens before ReplyBefore; otherwise the send is pushed.
	LineReplyToken string
	ReplyBefore    time.Time
}

// Result says what became of a send request.
type Result struct {
	SendID    int64
	Outcome   models.SendOutcome // queued, or a skipped outcome
	Duplicate bool               // the key was used before; Outcome is that send's
	// Refusal is the channel guard's explanation (an *apperr.Error) when the outcome is
	// skipped_broken_channel.
	Refusal error
}

// Detail texts kept on skipped sends.
const (
	DetailOutsideWindow = "outside the 24-hour window"
	DetailBlocked       = "the LINE user has blocked the account"
)

// Errors for malformed requests.
var (
	ErrNoKey     = apperr.Invalid("idempotency_key", "messaging.error.key_required")
	ErrNoContact = apperr.ErrNotFound
)

type sendPayload struct {
	SendID      int64             `json:"send_id"`
	Tag         string            `json:"tag,omitempty"`
	Template    *WhatsAppTemplate `json:"template,omitempty"`
	ReplyToken  string            `json:"reply_token,omitempty"`
	ReplyBefore *time.Time        `json:"reply_before,omitempty"`
	Parts       []Part            `json:"parts"`
}

// Send renders req's content for the contact's platform and, unless the channel, the window
// or the LINE friendship rules it out, queues it through tx, which should be the transaction
// making the change that causes the send. A content the platform cannot take returns a limit
// error (an *apperr.Error wrapping a *LimitError) and nothing is written; every other outcome
// is recorded as a message send. Send wakes the outbox, but a wake can arrive before tx commits;
// callers that need the message out at once call the outbox's Notify again after the commit.
func (s *Service) Send(ctx context.Context, tx *store.Store, req SendRequest) (Result, error) {
	if strings.TrimSpace(req.IdempotencyKey) == "" {
		return Result{}, ErrNoKey
	}
	contact, ch, err := tx.TeamContactWithChannel(ctx, req.TeamID, req.ContactID)
	if err != nil {
		return Result{}, err
	}
	parts, err := Render(ch.Platform, req.Content)
	if err != nil {
		return Result{}, err
	}
	now := s.now()
	rec := &models.MessageSend{TeamID: req.TeamID, ChannelID: ch.ID, ContactID: contact.ID, IdempotencyKey: req.IdempotencyKey,
		Cause: req.Cause, Automated: req.Automated, Outcome: models.SendQueued, Parts: len(parts), CreatedAt: now}
	payload := sendPayload{Parts: parts}
	var refusal error
	switch d := decide(ch, contact, req, now); {
	case d.guard != nil:
		refusal = d.guard
		rec.Outcome, rec.Detail = models.SendSkippedBrokenChannel, d.guard.Error()
	case d.outcome != models.SendQueued:
		rec.Outcome, rec.Detail = d.outcome, d.detail
	default:
		payload.Tag, payload.Template = d.tag, d.template
		if ch.Platform == models.LINE && req.LineReplyToken != "" && now.Before(req.ReplyBefore) {
			payload.ReplyToken, payload.ReplyBefore = req.LineReplyToken, &req.ReplyBefore
		}
	}
	if rec.Outcome.Final() {
		rec.FinishedAt = &now
	}
	// The outbox item is written with the send, by one statement; its payload gets the send's id
	// there. One lane per contact: a customer gets the messages in the order they were sent.
	item, err := outbox.Item(now, outbox.Entry{Kind: KindSend, Key: outboxKey(req.TeamID, req.IdempotencyKey),
		TeamID: req.TeamID, Payload: payload, Lane: "contact:" + strconv.FormatInt(contact.ID, 10)})
	if err != nil {
		return Result{}, err
	}
	// A key used before yields that send as it was, whatever is decided now.
	created, err := tx.CreateMessageSend(ctx, rec, item)
	if err != nil {
		return Result{}, err
	}
	if !created {
		return Result{SendID: rec.ID, Outcome: rec.Outcome, Duplicate: true}, nil
	}
	if rec.Outcome == models.SendQueued && s.notify != nil {
		s.notify.Notify()
	}
	return Result{SendID: rec.ID, Outcome: rec.Outcome, Refusal: refusal}, nil
}

func outboxKey(teamID int64, key string) string {
	return fmt.Sprintf("%s:%d:%s", KindSend, teamID, key)
}

type decision struct {
	guard    error
	outcome  models.SendOutcome
	detail   string
	tag      string
	template *WhatsAppTemplate
}

// windowed reports whether p only lets a business write within 24 hours of the customer.
func windowed(p models.Platform) bool {
	return p == models.Facebook || p == models.Instagram || p == models.WhatsApp
}

// decide applies the rules that stop a send before any platform call: a broken channel, a
// closed window (HUMAN_AGENT only for people, a WhatsApp template when one is given) and a
// LINE user who blocked the account.
func decide(ch *models.Channel, c *models.Contact, req SendRequest, now time.Time) decision {
	if err := channels.Guard(ch); err != nil {
		return decision{guard: err}
	}
	if windowed(ch.Platform) && !c.InWindow(now) {
		switch {
		case !req.Automated && ch.Platform != models.WhatsApp && c.LastInboundAt != nil && now.Sub(*c.LastInboundAt) < HumanAgentWindow:
			return decision{outcome: models.SendQueued, tag: meta.TagHumanAgent}
		case ch.Platform == models.WhatsApp && req.WhatsAppTemplate != nil:
			return decision{outcome: models.SendQueued, template: req.WhatsAppTemplate}
		}
		return decision{outcome: models.SendSkippedWindow, detail: DetailOutsideWindow}
	}
	if ch.Platform == models.LINE && c.LineFriendship == models.FriendshipBlocked {
		return decision{outcome: models.SendSkippedBlocked, detail: DetailBlocked}
	}
	return decision{outcome: models.SendQueued}
}
