package webhooks

import (
	"context"
	"time"

	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// LinkCodeMatcher completes OmniLink links from inbound events (omnilink.Runtime): a WhatsApp
// message carrying a link's code, or a LINE follow after the add-friend screen.
type LinkCodeMatcher interface {
	MatchWhatsApp(ctx context.Context, tx *store.Store, ch *models.Channel, contactID int64, text string) error
	MatchLINEFollow(ctx context.Context, tx *store.Store, ch *models.Channel, contactID int64, lineUserID string, at time.Time) error
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

// matchLINEFollow hands a LINE follow to the link matcher, in the event's transaction.
func (p *Processor) matchLINEFollow(ctx context.Context, tx *store.Store, ch *models.Channel, e *line.Event, received time.Time) error {
	if p.opt.LinkCodes == nil || e.Type != line.EventFollow || e.SourceType != "user" || e.UserID == "" {
		return nil
	}
	c, err := tx.ContactByExternalID(ctx, ch.TeamID, ch.ID, e.UserID)
	if err != nil {
		return nil
	}
	return p.opt.LinkCodes.MatchLINEFollow(ctx, tx, ch, c.ID, e.UserID, eventTime(e.Timestamp, received))
}
