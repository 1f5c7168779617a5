package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// tally counts what one delivery did; it reaches the metrics only once the delivery's
// subtransaction succeeded, so a retried delivery is not counted twice.
type tally struct {
	events, duplicates map[string]int
	unrouted           map[[2]string]int // by platform and account
}

func newTally() *tally {
	return &tally{events: map[string]int{}, duplicates: map[string]int{}, unrouted: map[[2]string]int{}}
}

// report adds the counts to the metrics and warns once per unconnected account.
func (t *tally) report(m *Metrics, log *slog.Logger, eventID int64) {
	for p, n := range t.events {
		m.events.WithLabelValues(p).Add(float64(n))
	}
	for p, n := range t.duplicates {
		m.duplicates.WithLabelValues(p).Add(float64(n))
	}
	for k, n := range t.unrouted {
		m.unrouted.WithLabelValues(k[0]).Add(float64(n))
		log.Warn("webhook events for an unconnected account kept as unrouted", "event_id", eventID, "platform", k[0], "account_id", k[1], "events", n)
	}
}

// apply turns one stored delivery into its effects inside tx.
func (p *Processor) apply(ctx context.Context, tx *store.Store, ev *models.WebhookEvent, t *tally) error {
	switch ev.Platform {
	case SourceMeta:
		return p.applyMeta(ctx, tx, ev, t)
	case SourceLINE:
		return p.applyLINE(ctx, tx, ev, t)
	}
	return malformed(fmt.Errorf("unknown source %q", ev.Platform))
}

// applyMeta routes each event by its business account: the Page (entry.id) for Messenger,
// the Instagram account (entry.id) for Instagram, metadata.phone_number_id for WhatsApp.
func (p *Processor) applyMeta(ctx context.Context, tx *store.Store, ev *models.WebhookEvent, t *tally) error {
	batch, err := meta.ParseWebhook(ev.Body)
	if err != nil {
		return malformed(err)
	}
	channels := map[string]*models.Channel{}
	for i := range batch.Events {
		e := &batch.Events[i]
		platform := models.Platform(e.Platform)
		t.events[string(platform)]++
		// Keys are scoped by account, so no account's events can shadow another's.
		fresh, err := tx.ClaimWebhookEventKey(ctx, string(platform), e.AccountID+":"+e.EventKey, ev.ID)
		if err != nil {
			return err
		}
		if !fresh {
			t.duplicates[string(platform)]++
			continue
		}
		ck := string(platform) + ":" + e.AccountID
		ch, seen := channels[ck]
		if !seen {
			if ch, err = liveChannel(ctx, tx, platform, e.AccountID); err != nil {
				return err
			}
			channels[ck] = ch
		}
		if ch == nil {
			if err := p.unrouted(ctx, tx, ev.ID, string(platform), e.AccountID, e.EventKey, t); err != nil {
				return err
			}
			continue
		}
		if err := applyMetaEvent(ctx, tx, ch, e, ev.ReceivedAt); err != nil {
			return err
		}
		if err := p.matchLinkCode(ctx, tx, ch, e); err != nil {
			return err
		}
	}
	return nil
}

func applyMetaEvent(ctx context.Context, tx *store.Store, ch *models.Channel, e *meta.Event, received time.Time) error {
	switch e.Kind {
	case meta.KindMessage, meta.KindPostback, meta.KindReaction, meta.KindReferral:
	default:
		// Echoes are our own sends; reads, deliveries and WhatsApp statuses say nothing new
		// about who the customer is, so none of them creates or touches a contact.
		return nil
	}
	if e.IsEcho || e.IsDeleted || e.SenderID == "" || e.SenderID == ch.ExternalID {
		return nil
	}
	at := eventTime(e.Timestamp, received)
	contactID, _, err := tx.UpsertContact(ctx, store.ContactActivity{
		TeamID: ch.TeamID, ChannelID: ch.ID, ExternalUserID: e.SenderID, Name: e.ProfileName, InboundAt: &at,
	})
	if err != nil {
		return err
	}
	if (e.Kind != meta.KindMessage && e.Kind != meta.KindPostback) || e.MessageID == "" {
		return nil
	}
	kind := e.MessageType
	if e.Kind == meta.KindPostback {
		kind = "postback"
	}
	_, err = tx.AddInboundMessage(ctx, &models.Message{
		TeamID: ch.TeamID, ChannelID: ch.ID, ContactID: contactID, PlatformMessageID: e.MessageID,
		Kind: orOther(kind), Body: e.Text, SentAt: at,
	})
	return err
}

// applyLINE applies a delivery to the channel whose URL (and secret) it came through, and only
// if that channel is the live one for the body's destination: a channel's secret can never
// write into another team's channel.
func (p *Processor) applyLINE(ctx context.Context, tx *store.Store, ev *models.WebhookEvent, t *tally) error {
	batch, err := line.ParseWebhook(ev.Body)
	if err != nil {
		return malformed(err)
	}
	var ch *models.Channel
	account := batch.Destination
	var signerID int64
	if ev.ChannelID != nil {
		signerID = *ev.ChannelID
		signer, err := tx.ChannelByID(ctx, signerID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if signer != nil {
			if account == "" {
				account = signer.ExternalID
			}
			live, err := liveChannel(ctx, tx, models.LINE, account)
			if err != nil {
				return err
			}
			if live != nil && live.ID == signer.ID {
				ch = live
			}
		}
	}
	platform := string(models.LINE)
	for i := range batch.Events {
		e := &batch.Events[i]
		t.events[platform]++
		fresh, err := tx.ClaimWebhookEventKey(ctx, platform, strconv.FormatInt(signerID, 10)+":"+e.EventKey, ev.ID)
		if err != nil {
			return err
		}
		if !fresh {
			t.duplicates[platform]++
			continue
		}
		if ch == nil {
			if err := p.unrouted(ctx, tx, ev.ID, platform, account, e.EventKey, t); err != nil {
				return err
			}
			continue
		}
		if err := applyLINEEvent(ctx, tx, ch, e, ev.ReceivedAt); err != nil {
			return err
		}
		if err := p.matchLINEFollow(ctx, tx, ch, e, ev.ReceivedAt); err != nil {
			return err
		}
	}
	return nil
}

func applyLINEEvent(ctx context.Context, tx *store.Store, ch *models.Channel, e *line.Event, received time.Time) error {
	if e.SourceType != "user" || e.UserID == "" {
		return nil // group and room events are not one customer's conversation
	}
	at := eventTime(e.Timestamp, received)
	act := store.ContactActivity{TeamID: ch.TeamID, ChannelID: ch.ID, ExternalUserID: e.UserID}
	switch e.Type {
	case line.EventMessage, line.EventPostback:
		act.InboundAt = &at
	case line.EventFollow: // a new friend, or an unblock (follow.isUnblocked)
		act.Friendship, act.FriendshipAt = models.FriendshipFriend, &at
	case line.EventUnfollow: // LINE's unfollow means the user blocked the account
		act.Friendship, act.FriendshipAt = models.FriendshipBlocked, &at
	default:
		return nil
	}
	contactID, _, err := tx.UpsertContact(ctx, act)
	if err != nil || e.Type != line.EventMessage || e.MessageID == "" {
		return err
	}
	_, err = tx.AddInboundMessage(ctx, &models.Message{
		TeamID: ch.TeamID, ChannelID: ch.ID, ContactID: contactID, PlatformMessageID: e.MessageID,
		Kind: orOther(e.MessageType), Body: e.Text, SentAt: at,
	})
	return err
}

// unrouted keeps an event for an account no team has live, and says so.
func (p *Processor) unrouted(ctx context.Context, tx *store.Store, eventID int64, platform, account, key string, t *tally) error {
	t.unrouted[[2]string{platform, account}]++
	return tx.AddUnroutedEvent(ctx, eventID, platform, account, key)
}

// liveChannel is the live channel for an account, or nil.
func liveChannel(ctx context.Context, tx *store.Store, p models.Platform, account string) (*models.Channel, error) {
	if account == "" {
		return nil, nil
	}
	ch, err := tx.LiveChannelByAccount(ctx, p, account)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return ch, err
}

// eventTime is the platform's event time, but never later than our receipt: a skewed or
// forged future timestamp must not hold the 24-hour window open.
func eventTime(ts, received time.Time) time.Time {
	if ts.IsZero() || ts.After(received) {
		return received
	}
	return ts
}

func orOther(kind string) string {
	if kind == "" {
		return "other"
	}
	return kind
}
