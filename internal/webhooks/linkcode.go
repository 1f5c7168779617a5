package webhooks

import (
	"context"
	"time"

	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// LinkCodeMatcher completes OmniLink links from inbound events (omnilink.Runtime): a WhatsApp
// message carrying a link's code, or a LINE follow after the add-friend screen.
type LinkCodeMatcher interface {
	MatchWhatsApp(ctx context.Context, tx *store.Store, ch *models.Channel, contactID int64, text string) error
	MatchLINEFollow(ctx context.Context, tx *store.Store, ch *models.Channel, contactID int64, lineUserID string, at time.Time) error
}
