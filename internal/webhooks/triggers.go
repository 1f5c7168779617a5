package webhooks

import (
	"context"
	"strconv"
	"time"

	"github.com/omnilink/omnilink/internal/automation"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Answerer replies to customers' messages and postbacks (the automation triggers).
type Answerer interface {
	Answer(ctx context.Context, tx *store.Store, in automation.Inbound) error
}

// SetAnswerer makes the processor hand each applied message and postback to a; without one
// nothing answers.
func (p *Processor) SetAnswerer(a Answerer) { p.answerer = a }

// answerTriggers hands one applied message or postback to the triggers, inside the event's
// transaction. The event key is scoped by channel, so two accounts' keys never collide.
func (p *Processor) answerTriggers(ctx context.Context, tx *store.Store, ch *models.Channel, contactID int64, text, payload, replyToken, eventKey string, at time.Time) error {
	if p.answerer == nil {
		return nil
	}
	return p.answerer.Answer(ctx, tx, automation.Inbound{Channel: ch, ContactID: contactID, Text: text, Payload: payload,
		ReplyToken: replyToken, At: at, EventKey: strconv.FormatInt(ch.ID, 10) + ":" + eventKey})
}
