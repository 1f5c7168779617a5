package webhooks

import (
	"context"

	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// LinkCodeMatcher completes an OmniLink link when a WhatsApp message carries its code
// (omnilink.Runtime).
type LinkCodeMatcher interface {
	MatchWhatsApp(ctx context.Context, tx *store.Store, ch *models.Channel, contactID int64, text string) error
}

// matchLinkCode hands an inbound WhatsApp text to the link matcher, in the event's transaction.
func (p *Processor) matchLinkCode(ctx context.Context, tx *store.Store, ch *models.Channel, e *meta.Event) error {
	if p.opt.LinkCodes == nil || ch.Platform != models.WhatsApp || e.Kind != meta.KindMessage || e.IsEcho || e.Text == "" {
		return nil
	}
	c, err := tx.ContactByExternalID(ctx, ch.TeamID, ch.ID, e.SenderID)
	if err != nil {
		return nil
	}
	return p.opt.LinkCodes.MatchWhatsApp(ctx, tx, ch, c.ID, e.Text)
}
