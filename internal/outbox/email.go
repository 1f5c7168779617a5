package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/omnilink/omnilink/internal/mail"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// KindEmail is an email, its payload a mail.Message.
const KindEmail = "email"

// EmailHandler sends KindEmail items through m; SMTP answers that no retry can fix (5xx, bad
// address) stop the item with the error kept for people to read.
func EmailHandler(m mail.Mailer) Handler {
	return func(ctx context.Context, it models.OutboxItem) error {
		var msg mail.Message
		if err := json.Unmarshal([]byte(it.Payload), &msg); err != nil {
			return Permanent(fmt.Errorf("decode email: %w", err))
		}
		if msg.Headers == nil {
			msg.Headers = map[string]string{}
		}
		// Receivers (and our tests) can recognise a redelivery after a crash by this key.
		msg.Headers[mail.HeaderIdempotency] = it.IdempotencyKey
		sendCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if err := m.Send(sendCtx, msg); err != nil {
			if mail.IsTemporary(err) {
				return err
			}
			return Permanent(err)
		}
		return nil
	}
}

// EnqueueEmail queues msg under key in st (usually the transaction making the change it reports).
func EnqueueEmail(ctx context.Context, st *store.Store, now time.Time, key string, teamID int64, msg mail.Message) (bool, error) {
	return Enqueue(ctx, st, now, Entry{Kind: KindEmail, Key: key, TeamID: teamID, Payload: msg})
}
