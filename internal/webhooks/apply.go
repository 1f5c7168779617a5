package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// tally counts what deliveries did; it reaches the metrics only once their transaction
// committed, so a retried delivery is not counted twice.
type tally struct {
	events, duplicates map[string]int
	unrouted           map[[2]string]int // by platform and account
}

func newTally() *tally {
	return &tally{events: map[string]int{}, duplicates: map[string]int{}, unrouted: map[[2]string]int{}}
}

// report adds the counts to the metrics and warns once per unconnected account.
func (t *tally) report(m *Metrics, log *slog.Logger) {
	for p, n := range t.events {
		m.events.WithLabelValues(p).Add(float64(n))
	}
	for p, n := range t.duplicates {
		m.duplicates.WithLabelValues(p).Add(float64(n))
	}
	for k, n := range t.unrouted {
		m.unrouted.WithLabelValues(k[0]).Add(float64(n))
		log.Warn("webhook events for an unconnected account kept as unrouted", "platform", k[0], "account_id", k[1], "events", n)
	}
}

// item is one event of a delivery, parsed and routed, with the writes it asks for.
type item struct {
	n        int    // the event's position in its delivery, for error messages
	platform string // the key's namespace: facebook, instagram, whatsapp or line
	key      string // the deduplication key, scoped by account (Meta) or signing channel (LINE)
	eventKey string // the platform's own key, kept with unrouted events
	account  string
	ch       *models.Channel // nil: no team has the account live
	act      *store.ContactActivity
	msg      *models.Message // ContactID is filled in once the contact exists
	in       *inbound        // handed on once applied: to the triggers and to OmniLink linking
}

// inbound is what an applied event hands on: a message's text or a postback's payload to the
// triggers (and a WhatsApp text to OmniLink's code matching), a LINE follow to OmniLink.
type inbound struct {
	text, payload, replyToken string
	follow                    bool
	at                        time.Time
}

// parsed is one claimed delivery turned into items; err marks a delivery that can never apply.
type parsed struct {
	ev    *models.WebhookEvent
	items []item
	err   error
}

// router finds live channels, remembering each answer for the rest of the batch.
type router struct {
	tx    *store.Store
	live  map[string]*models.Channel
	byID  map[int64]*models.Channel
	found map[int64]bool
}

func newRouter(tx *store.Store) *router {
	return &router{tx: tx, live: map[string]*models.Channel{}, byID: map[int64]*models.Channel{}, found: map[int64]bool{}}
}

// liveChannel is the live channel for an account, or nil.
func (r *router) liveChannel(ctx context.Context, p models.Platform, account string) (*models.Channel, error) {
	if account == "" {
		return nil, nil
	}
	k := string(p) + ":" + account
	if ch, ok := r.live[k]; ok {
		return ch, nil
	}
	ch, err := r.tx.LiveChannelByAccountSystem(ctx, p, account)
	if errors.Is(err, store.ErrNotFound) {
		ch, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	r.live[k] = ch
	return ch, nil
}

func (r *router) channel(ctx context.Context, id int64) (*models.Channel, error) {
	if r.found[id] {
		return r.byID[id], nil
	}
	ch, err := r.tx.ChannelByIDSystem(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		ch, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	r.found[id], r.byID[id] = true, ch
	return ch, nil
}

// parse turns a stored delivery into its items; only database errors are returned.
func (r *router) parse(ctx context.Context, ev *models.WebhookEvent) (parsed, error) {
	out := parsed{ev: ev}
	var err error
	switch ev.Platform {
	case SourceMeta:
		out.items, err = r.parseMeta(ctx, ev)
	case SourceLINE:
		out.items, err = r.parseLINE(ctx, ev)
	default:
		err = malformed(fmt.Errorf("unknown source %q", ev.Platform))
	}
	if errors.Is(err, errMalformed) {
		out.err, err = err, nil
	}
	return out, err
}

// parseMeta routes each event by its business account: the Page (entry.id) for Messenger,
// the Instagram account (entry.id) for Instagram, metadata.phone_number_id for WhatsApp.
func (r *router) parseMeta(ctx context.Context, ev *models.WebhookEvent) ([]item, error) {
	batch, err := meta.ParseWebhook(ev.Body)
	if err != nil {
		return nil, malformed(err)
	}
	items := make([]item, 0, len(batch.Events))
	for i := range batch.Events {
		e := &batch.Events[i]
		platform := models.Platform(e.Platform)
		account := noNUL(e.AccountID)
		ch, err := r.liveChannel(ctx, platform, account)
		if err != nil {
			return nil, err
		}
		it := item{n: i + 1, platform: string(platform), eventKey: noNUL(e.EventKey), account: account, ch: ch}
		// Keys are scoped by account, so no account's events can shadow another's.
		it.key = account + ":" + it.eventKey
		if ch != nil {
			it.act, it.msg, it.in = metaEffects(ch, e, ev.ReceivedAt)
		}
		items = append(items, it)
	}
	return items, nil
}

// metaEffects is what one Meta event writes on a live channel (a contact and maybe a message)
// and what it hands on.
func metaEffects(ch *models.Channel, e *meta.Event, received time.Time) (*store.ContactActivity, *models.Message, *inbound) {
	switch e.Kind {
	case meta.KindMessage, meta.KindPostback, meta.KindReaction, meta.KindReferral:
	default:
		// Echoes are our own sends; reads, deliveries and WhatsApp statuses say nothing new
		// about who the customer is, so none of them creates or touches a contact.
		return nil, nil, nil
	}
	sender := noNUL(e.SenderID)
	if e.IsEcho || e.IsDeleted || sender == "" || sender == ch.ExternalID {
		return nil, nil, nil
	}
	at := eventTime(e.Timestamp, received)
	act := &store.ContactActivity{TeamID: ch.TeamID, ChannelID: ch.ID, ExternalUserID: sender, Name: noNUL(e.ProfileName), InboundAt: &at}
	if e.Kind == meta.KindPostback && e.MessageID == "" {
		// Messenger postbacks may come without a mid; they are still a tap to answer.
		return act, nil, &inbound{payload: noNUL(e.Payload), at: at}
	}
	if (e.Kind != meta.KindMessage && e.Kind != meta.KindPostback) || e.MessageID == "" {
		return act, nil, nil
	}
	kind, in := e.MessageType, &inbound{text: noNUL(e.Text), at: at}
	if e.Kind == meta.KindPostback {
		kind, in.payload = "postback", noNUL(e.Payload)
	}
	return act, &models.Message{TeamID: ch.TeamID, ChannelID: ch.ID, PlatformMessageID: noNUL(e.MessageID),
		Kind: orOther(noNUL(kind)), Body: noNUL(e.Text), SentAt: at}, in
}

// parseLINE routes a delivery to the channel whose URL (and secret) it came through, and only
// if that channel is the live one for the body's destination: a channel's secret can never
// write into another team's channel.
func (r *router) parseLINE(ctx context.Context, ev *models.WebhookEvent) ([]item, error) {
	batch, err := line.ParseWebhook(ev.Body)
	if err != nil {
		return nil, malformed(err)
	}
	var ch *models.Channel
	account := noNUL(batch.Destination)
	var signerID int64
	if ev.ChannelID != nil {
		signerID = *ev.ChannelID
		signer, err := r.channel(ctx, signerID)
		if err != nil {
			return nil, err
		}
		if signer != nil {
			if account == "" {
				account = signer.ExternalID
			}
			live, err := r.liveChannel(ctx, models.LINE, account)
			if err != nil {
				return nil, err
			}
			if live != nil && live.ID == signer.ID {
				ch = live
			}
		}
	}
	platform := string(models.LINE)
	items := make([]item, 0, len(batch.Events))
	for i := range batch.Events {
		e := &batch.Events[i]
		it := item{n: i + 1, platform: platform, eventKey: noNUL(e.EventKey), account: account, ch: ch}
		it.key = strconv.FormatInt(signerID, 10) + ":" + it.eventKey
		if ch != nil {
			it.act, it.msg, it.in = lineEffects(ch, e, ev.ReceivedAt)
		}
		items = append(items, it)
	}
	return items, nil
}

// lineEffects is what one LINE event writes on a live channel, and what it hands on.
func lineEffects(ch *models.Channel, e *line.Event, received time.Time) (*store.ContactActivity, *models.Message, *inbound) {
	user := noNUL(e.UserID)
	if e.SourceType != "user" || user == "" {
		return nil, nil, nil // group and room events are not one customer's conversation
	}
	at := eventTime(e.Timestamp, received)
	act := &store.ContactActivity{TeamID: ch.TeamID, ChannelID: ch.ID, ExternalUserID: user}
	switch e.Type {
	case line.EventMessage, line.EventPostback:
		act.InboundAt = &at
	case line.EventFollow: // a new friend, or an unblock (follow.isUnblocked)
		act.Friendship, act.FriendshipAt = models.FriendshipFriend, &at
	case line.EventUnfollow: // LINE's unfollow means the user blocked the account
		act.Friendship, act.FriendshipAt = models.FriendshipBlocked, &at
	default:
		return nil, nil, nil
	}
	switch {
	case e.Type == line.EventFollow:
		return act, nil, &inbound{follow: true, at: at}
	case e.Type == line.EventPostback:
		return act, nil, &inbound{payload: noNUL(e.PostbackData), replyToken: e.ReplyToken, at: at}
	case e.Type != line.EventMessage || e.MessageID == "":
		return act, nil, nil
	}
	return act, &models.Message{TeamID: ch.TeamID, ChannelID: ch.ID, PlatformMessageID: noNUL(e.MessageID),
		Kind: orOther(noNUL(e.MessageType)), Body: noNUL(e.Text), SentAt: at}, &inbound{text: noNUL(e.Text), replyToken: e.ReplyToken, at: at}
}

// applyBatch applies every item of the deliveries in a few set-based statements: keys, unrouted
// events, contacts (with their customers), messages. It is all or nothing; the caller runs it in
// a savepoint and falls back to one event at a time when it fails.
func (p *Processor) applyBatch(ctx context.Context, tx *store.Store, ds []parsed, t *tally) error {
	var keys []store.EventKey
	seen := map[store.EventKey]bool{}
	type ref struct{ d, i int }
	var order []ref
	for d := range ds {
		for i := range ds[d].items {
			it := &ds[d].items[i]
			t.events[it.platform]++
			k := store.EventKey{Platform: it.platform, Key: it.key}
			if seen[k] {
				t.duplicates[it.platform]++ // an earlier delivery of this batch carries it
				continue
			}
			seen[k] = true
			k.EventID = ds[d].ev.ID
			keys = append(keys, k)
			order = append(order, ref{d, i})
		}
	}
	fresh, err := tx.ClaimWebhookEventKeys(ctx, keys)
	if err != nil {
		return err
	}
	var unrouted []store.UnroutedEvent
	var acts []store.ContactActivity
	actIdx := map[store.ContactRef]int{}
	var msgs, applied []*item
	for n, r := range order {
		it := &ds[r.d].items[r.i]
		if !fresh[keys[n]] {
			t.duplicates[it.platform]++
			continue
		}
		if it.ch == nil {
			t.unrouted[[2]string{it.platform, it.account}]++
			unrouted = append(unrouted, store.UnroutedEvent{EventID: ds[r.d].ev.ID, Platform: it.platform, AccountID: it.account, Key: it.eventKey})
			continue
		}
		if it.act == nil {
			continue
		}
		cr := store.ContactRef{ChannelID: it.act.ChannelID, ExternalUserID: it.act.ExternalUserID}
		if j, ok := actIdx[cr]; ok {
			merge(&acts[j], it.act)
		} else {
			actIdx[cr] = len(acts)
			acts = append(acts, *it.act)
		}
		if it.msg != nil {
			msgs = append(msgs, it)
		}
		applied = append(applied, it)
	}
	if err := tx.AddUnroutedEvents(ctx, unrouted); err != nil {
		return err
	}
	ids, err := tx.UpsertContacts(ctx, acts)
	if err != nil {
		return err
	}
	rows := make([]models.Message, 0, len(msgs))
	mids := map[[2]string]bool{}
	for _, it := range msgs {
		m := *it.msg
		k := [2]string{strconv.FormatInt(m.ChannelID, 10), m.PlatformMessageID}
		if mids[k] {
			continue // the first delivery of a message wins, as it would one at a time
		}
		mids[k] = true
		m.ContactID = ids[store.ContactRef{ChannelID: m.ChannelID, ExternalUserID: it.act.ExternalUserID}]
		rows = append(rows, m)
	}
	if err := tx.AddInboundMessages(ctx, rows); err != nil {
		return err
	}
	for _, it := range applied {
		if err := p.handOn(ctx, tx, it, ids[store.ContactRef{ChannelID: it.act.ChannelID, ExternalUserID: it.act.ExternalUserID}]); err != nil {
			return err
		}
	}
	return nil
}

// handOn passes an applied event on, in its transaction: a message or postback to the triggers,
// a WhatsApp text to OmniLink's code matching, a LINE follow to OmniLink's follow completion.
func (p *Processor) handOn(ctx context.Context, tx *store.Store, it *item, contactID int64) error {
	in := it.in
	if in == nil || contactID == 0 {
		return nil
	}
	if in.follow {
		if p.opt.LinkCodes == nil {
			return nil
		}
		return p.opt.LinkCodes.MatchLINEFollow(ctx, tx, it.ch, contactID, it.act.ExternalUserID, in.at)
	}
	if err := p.answerTriggers(ctx, tx, it.ch, contactID, in.text, in.payload, in.replyToken, it.eventKey, in.at); err != nil {
		return err
	}
	if p.opt.LinkCodes != nil && it.ch.Platform == models.WhatsApp && in.payload == "" && in.text != "" {
		return p.opt.LinkCodes.MatchWhatsApp(ctx, tx, it.ch, contactID, in.text)
	}
	return nil
}

// merge folds a later event's activity into the batch's one for the same contact, with the
// rules the upsert applies between events: the last name given, the latest inbound time, and
// the friendship with the latest time (a later event wins a tie).
func merge(into, a *store.ContactActivity) {
	if a.Name != "" {
		into.Name = a.Name
	}
	if a.InboundAt != nil && (into.InboundAt == nil || a.InboundAt.After(*into.InboundAt)) {
		into.InboundAt = a.InboundAt
	}
	if a.FriendshipAt != nil && a.Friendship != "" && (into.FriendshipAt == nil || !a.FriendshipAt.Before(*into.FriendshipAt)) {
		into.Friendship, into.FriendshipAt = a.Friendship, a.FriendshipAt
	}
}

// applyItem applies one event on its own: the slow path, run in a savepoint per event.
func (p *Processor) applyItem(ctx context.Context, tx *store.Store, eventID int64, it *item, t *tally) error {
	fresh, err := tx.ClaimWebhookEventKey(ctx, it.platform, it.key, eventID)
	if err != nil {
		return err
	}
	if !fresh {
		t.duplicates[it.platform]++
		return nil
	}
	if it.ch == nil {
		t.unrouted[[2]string{it.platform, it.account}]++
		return tx.AddUnroutedEvent(ctx, eventID, it.platform, it.account, it.eventKey)
	}
	if it.act == nil {
		return nil
	}
	contactID, _, err := tx.UpsertContact(ctx, *it.act)
	if err != nil {
		return err
	}
	if it.msg != nil {
		m := *it.msg
		m.ContactID = contactID
		if _, err = tx.AddInboundMessage(ctx, &m); err != nil {
			return err
		}
	}
	return p.handOn(ctx, tx, it, contactID)
}

// noNUL drops NUL characters, which Postgres text cannot hold; JSON may carry them as \u0000.
func noNUL(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "")
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
