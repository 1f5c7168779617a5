package messaging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/outbox"
	"github.com/omnilink/omnilink/models"
)

// retryKeySpace is the UUIDv5 namespace of LINE retry keys. The key of a queued send is
// derived from its outbox idempotency key, so every attempt of the same send (after a timeout,
// a crash, a lost lease) carries the same X-Line-Retry-Key and LINE delivers it once.
var retryKeySpace = uuid.MustParse("5b0e6c1e-4f4a-4c55-9d0b-6f6d6e696c6b")

// LineRetryKey is the X-Line-Retry-Key of the send queued under outboxKey.
func LineRetryKey(outboxKey string) string {
	return uuid.NewSHA1(retryKeySpace, []byte(outboxKey)).String()
}

// failure is how a failed platform call counts for a send.
type failure int

const (
	failOther     failure = iota // no retry helps: bad content, unknown error
	failTransient                // retry later
	failRateLimit                // retry later, and slow down
	failAuth                     // the channel's credentials no longer work
	failWindow                   // the platform says the 24-hour window is closed
	failRecipient                // this recipient cannot be reached (no such user, blocked)
)

// classify sorts a send error. Meta's codes come from meta.Classify: window 10/2018278,
// 10/2534022, WhatsApp 131047; recipient 551, 200/1545041, 10/2018108, WhatsApp 131026.
func classify(p models.Platform, err error) failure {
	if p == models.LINE {
		if lineRecipientGone(err) {
			return failRecipient
		}
		c := line.Classify(err)
		switch c.Class {
		case line.ClassAuthBroken:
			return failAuth
		case line.ClassTransient:
			if c.Cause == line.CauseRateLimited {
				return failRateLimit
			}
			return failTransient
		}
		return failOther
	}
	c := meta.Classify(err)
	switch c.Class {
	case meta.ClassAuthBroken:
		return failAuth
	case meta.ClassTransient:
		if c.Cause == meta.CauseRateLimited {
			return failRateLimit
		}
		return failTransient
	case meta.ClassMessagingWindow:
		return failWindow
	case meta.ClassRecipientUnavailable:
		return failRecipient
	}
	var ge *meta.GraphError
	if errors.As(err, &ge) && ge.Code == 100 && ge.Subcode == 2018001 {
		return failRecipient // "No matching user found"
	}
	return failOther
}

// lineRecipientGone reports LINE's answer to a push to a user id it does not know.
// UNCONFIRMED: LINE answers 400 "Failed to send messages" (or a detail on "to") for an
// unknown or invalid user id; the exact text is known from reports, not documentation.
func lineRecipientGone(err error) bool {
	var ae *line.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		return false
	}
	for _, d := range ae.Details {
		if d.Property == "to" {
			return true
		}
	}
	return strings.Contains(strings.ToLower(ae.Message), "failed to send messages")
}

// job is one delivery attempt's loaded state.
type job struct {
	item    models.OutboxItem
	send    *models.MessageSend
	ch      *models.Channel
	contact *models.Contact
	payload sendPayload
	creds   models.Credentials
	done    map[int]string
	// accepted are the messages of a LINE request the platform took, recorded with the outcome.
	accepted []models.Message
}

// deliver is the outbox handler of KindSend.
func (s *Service) deliver(ctx context.Context, it models.OutboxItem) error {
	j := &job{item: it}
	if err := json.Unmarshal([]byte(it.Payload), &j.payload); err != nil {
		return outbox.Permanent(fmt.Errorf("decode send: %w", err))
	}
	// The send, its contact and the channel in one query: the outbox runs many deliveries side
	// by side on a busy database.
	var err error
	if j.send, j.contact, j.ch, err = s.st.MessageSendWithContactSystem(ctx, j.payload.SendID); err != nil {
		return err
	}
	if j.send.Outcome.Final() {
		return nil
	}
	// What was true when the send was queued may have changed while it waited.
	now := s.now()
	if err := channels.Guard(j.ch); err != nil {
		return s.finish(ctx, j, models.SendSkippedBrokenChannel, err.Error(), nil)
	}
	if windowed(j.ch.Platform) && j.payload.Tag == "" && j.payload.Template == nil && !j.contact.InWindow(now) {
		return s.finish(ctx, j, models.SendSkippedWindow, DetailOutsideWindow, nil)
	}
	if j.ch.Platform == models.LINE && j.contact.LineFriendship == models.FriendshipBlocked {
		return s.finish(ctx, j, models.SendSkippedBlocked, DetailBlocked, nil)
	}
	if j.creds, err = s.creds.Credentials(j.ch); err != nil {
		return s.finish(ctx, j, models.SendFailedPermanent, "credentials do not open", outbox.Permanent(err))
	}
	// Parts are recorded only by an attempt, so the first attempt finds none and skips the query.
	j.done = map[int]string{}
	if it.Attempts > 1 {
		if j.done, err = s.st.SentPartsSystem(ctx, j.send.ID); err != nil {
			return err
		}
	}
	switch j.ch.Platform {
	case models.LINE:
		err = s.sendLINE(ctx, j)
	case models.WhatsApp:
		err = s.sendWhatsApp(ctx, j)
	default:
		err = s.sendMeta(ctx, j)
	}
	if err != nil {
		return s.failed(ctx, j, err)
	}
	if len(j.accepted) > 0 {
		return s.st.SentMessageSendSystem(ctx, j.send.ID, s.now(), j.accepted)
	}
	return s.finish(ctx, j, models.SendSent, "", nil)
}

// finish records the send's outcome and returns ret to the outbox.
func (s *Service) finish(ctx context.Context, j *job, o models.SendOutcome, detail string, ret error) error {
	if err := s.st.FinishMessageSendSystem(ctx, j.send.ID, o, truncate(detail), s.now()); err != nil {
		return err
	}
	return ret
}

// failed decides what a platform error means for the send: every error is shown to the health
// monitor (the sweep's own state change breaks the channel on auth errors); transient errors are
// retried by the outbox; window, recipient and other refusals are recorded and not retried.
func (s *Service) failed(ctx context.Context, j *job, err error) error {
	kind := classify(j.ch.Platform, err)
	if s.health != nil {
		if _, herr := s.health.ReportFailure(ctx, j.ch, err); herr != nil {
			s.log.Error("reporting a send failure to the health monitor failed", "channel_id", j.ch.ID, "error", herr)
		}
	}
	switch kind {
	case failAuth:
		return s.finish(ctx, j, models.SendFailedBrokenChannel, err.Error(), outbox.Permanent(err))
	case failWindow:
		return s.finish(ctx, j, models.SendSkippedWindow, DetailOutsideWindow+": "+err.Error(), nil)
	case failRecipient:
		return s.finish(ctx, j, models.SendFailedRecipient, err.Error(), outbox.Permanent(err))
	case failTransient, failRateLimit:
		if kind == failRateLimit && j.ch.Platform != models.LINE {
			s.usage.Throttled(j.ch.ExternalID)
		}
		if j.item.Attempts >= j.item.MaxAttempts {
			return s.finish(ctx, j, models.SendFailedPermanent, "gave up: "+err.Error(), err)
		}
		if nerr := s.st.NoteMessageSendSystem(ctx, j.send.ID, truncate(err.Error())); nerr != nil {
			return nerr
		}
		return err
	}
	return s.finish(ctx, j, models.SendFailedPermanent, err.Error(), outbox.Permanent(err))
}

func truncate(s string) string {
	const max = 1000
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// message is the record of one accepted part.
func (s *Service) message(j *job, part int, platformID string) *models.Message {
	p := j.payload.Parts[part]
	m := &models.Message{TeamID: j.send.TeamID, ChannelID: j.ch.ID, ContactID: j.contact.ID, Direction: models.DirectionOut,
		PlatformMessageID: platformID, Kind: string(p.Kind), Body: p.Summary, SentAt: s.now(), SendID: &j.send.ID, Part: &part}
	if j.payload.Template != nil {
		m.Kind, m.Body = "template", "[template "+j.payload.Template.Name+"]"
	}
	return m
}

// record keeps one accepted platform message at once: a Graph send goes part by part, and a
// retry must not repeat a part that went out.
func (s *Service) record(ctx context.Context, j *job, part int, platformID string) error {
	_, err := s.st.AddOutboundMessage(ctx, s.message(j, part, platformID))
	return err
}

// accept keeps a LINE push's accepted message, to be recorded with the send's outcome in one
// write. One request carries every part; should that write fail, the retried push carries the
// same retry key and LINE answers it as already accepted.
func (s *Service) accept(j *job, part int, platformID string) {
	j.accepted = append(j.accepted, *s.message(j, part, platformID))
}

func (s *Service) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opt.CallTimeout)
}

// sendLINE pushes every part in one request with the send's retry key; a 409 for that key
// means an earlier attempt was accepted (its answer lost), which counts as sent.
func (s *Service) sendLINE(ctx context.Context, j *job) error {
	if len(j.done) > 0 {
		return nil // one push carries every part; a recorded part means it went out
	}
	msgs := make([]any, len(j.payload.Parts))
	for i, p := range j.payload.Parts {
		msgs[i] = p.Body
	}
	// A reply token is single-use: it is tried on the first attempt only, and a refusal (the
	// token expired or was used) falls back to the push, which carries the retry key.
	if j.payload.ReplyToken != "" && j.item.Attempts <= 1 && j.payload.ReplyBefore != nil && s.now().Before(*j.payload.ReplyBefore) {
		if err := s.pacer.Wait(ctx, models.LINE, j.ch.ExternalID+"|reply"); err != nil {
			return err
		}
		cctx, cancel := s.call(ctx)
		res, err := s.line.Reply(cctx, j.creds.AccessToken, j.payload.ReplyToken, msgs)
		cancel()
		if err == nil {
			for i := range j.payload.Parts {
				id := ""
				if i < len(res.SentMessages) {
					id = res.SentMessages[i].ID
				}
				if id == "" {
					id = fmt.Sprintf("reply:%d:%d", j.send.ID, i)
				}
				// Recorded at once: a retry after a lost write would be a push, which LINE has no
				// retry key for, and the customer would get the message twice.
				if err := s.record(ctx, j, i, id); err != nil {
					return err
				}
			}
			return nil
		}
		var ae *line.APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
			return err
		}
	}
	if err := s.pacer.Wait(ctx, models.LINE, j.ch.ExternalID+"|push"); err != nil {
		return err
	}
	cctx, cancel := s.call(ctx)
	res, err := s.line.Push(cctx, j.creds.AccessToken, j.contact.ExternalUserID, msgs, LineRetryKey(j.item.IdempotencyKey))
	cancel()
	if err != nil {
		return err
	}
	for i := range j.payload.Parts {
		id := ""
		if i < len(res.SentMessages) {
			id = res.SentMessages[i].ID
		}
		if id == "" {
			// A 409 may come without the earlier ids; the accepted request still names the push.
			ref := res.AcceptedRequestID
			if ref == "" {
				ref = LineRetryKey(j.item.IdempotencyKey)
			}
			id = fmt.Sprintf("accepted:%s:%d", ref, i)
		}
		s.accept(j, i, id)
	}
	return nil
}

// waitMeta paces a Graph call: per channel, then by the app's and the account's usage.
func (s *Service) waitMeta(ctx context.Context, j *job) error {
	if err := s.pacer.Wait(ctx, j.ch.Platform, j.ch.ExternalID); err != nil {
		return err
	}
	if err := s.usage.Wait(ctx); err != nil {
		return err
	}
	if until, busy := s.usage.BusinessBusy(j.ch.ExternalID); busy {
		if err := s.sleep(ctx, until.Sub(s.now())); err != nil {
			return err
		}
	}
	return nil
}

// sendMeta sends each part not yet accepted through the Send API, recording each as it goes,
// so a retry after a partial failure does not repeat the parts that went out.
func (s *Service) sendMeta(ctx context.Context, j *job) error {
	pageID := j.ch.ExternalID
	if j.ch.Platform == models.Instagram && j.ch.Settings.PageID != "" {
		pageID = j.ch.Settings.PageID
	}
	for i, p := range j.payload.Parts {
		if _, ok := j.done[i]; ok {
			continue
		}
		if err := s.waitMeta(ctx, j); err != nil {
			return err
		}
		cctx, cancel := s.call(ctx)
		var res meta.SendResult
		var err error
		if j.payload.Tag != "" {
			res, err = s.meta.SendTaggedMessage(cctx, pageID, j.creds.AccessToken, j.contact.ExternalUserID, j.payload.Tag, p.Body)
		} else {
			res, err = s.meta.SendMessage(cctx, pageID, j.creds.AccessToken, j.contact.ExternalUserID, meta.MessagingResponse, p.Body)
		}
		cancel()
		if err != nil {
			return err
		}
		if err := s.record(ctx, j, i, res.MessageID); err != nil {
			return err
		}
	}
	return nil
}

// sendWhatsApp sends each part not yet accepted, or the chosen template instead when the
// window had closed.
func (s *Service) sendWhatsApp(ctx context.Context, j *job) error {
	parts := j.payload.Parts
	if j.payload.Template != nil {
		parts = parts[:1]
	}
	for i, p := range parts {
		if _, ok := j.done[i]; ok {
			continue
		}
		var msg meta.WhatsAppMessage
		if j.payload.Template != nil {
			msg = meta.WhatsAppTemplateMessage(j.payload.Template.Name, j.payload.Template.Language)
		} else if err := json.Unmarshal(p.Body, &msg); err != nil {
			return outbox.Permanent(fmt.Errorf("decode WhatsApp part %d: %w", i, err))
		}
		if err := s.waitMeta(ctx, j); err != nil {
			return err
		}
		cctx, cancel := s.call(ctx)
		res, err := s.meta.SendWhatsApp(cctx, j.ch.ExternalID, j.creds.AccessToken, j.contact.ExternalUserID, msg)
		cancel()
		if err != nil {
			return err
		}
		if err := s.record(ctx, j, i, res.MessageID); err != nil {
			return err
		}
	}
	return nil
}
