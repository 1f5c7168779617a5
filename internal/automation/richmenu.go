package automation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/outbox"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// KindRichMenu is the outbox kind that links or unlinks one LINE user's rich menu.
const KindRichMenu = "line.richmenu"

// ErrMenusUnavailable is returned when LINE would not list a channel's rich menus.
var ErrMenusUnavailable = &apperr.Error{Status: http.StatusBadGateway, Key: "tags.error.menus_unavailable"}

type richMenuPayload struct {
	ContactID  int64 `json:"contact_id"`
	Generation int   `json:"generation"`
}

// Register makes o deliver rich-menu changes.
func (t *Tags) Register(o *outbox.Outbox) { o.Handle(KindRichMenu, t.deliverRichMenu) }

// RichMenus lists the rich menus LINE has on one of the team's LINE channels.
func (t *Tags) RichMenus(ctx context.Context, teamID, channelID int64) ([]line.RichMenu, error) {
	ch, err := t.st.Channel(ctx, teamID, channelID)
	if err != nil {
		return nil, err
	}
	return t.channelMenus(ctx, ch)
}

func (t *Tags) channelMenus(ctx context.Context, ch *models.Channel) ([]line.RichMenu, error) {
	if ch.Platform != models.LINE {
		return nil, apperr.Invalid("menu", "tags.error.not_line")
	}
	if err := channels.Guard(ch); err != nil {
		return nil, err
	}
	creds, err := t.creds.Credentials(ch)
	if err != nil {
		return nil, ErrMenusUnavailable.Wrap(err)
	}
	menus, err := t.line.RichMenuList(ctx, creds.AccessToken)
	if err != nil {
		return nil, ErrMenusUnavailable.Wrap(err)
	}
	return menus, nil
}

// syncRichMenu works out which rich menu a LINE contact should see (the highest-priority
// usable rule among its tags, else the default) and, when that differs from what was last
// asked for, queues the change under a key naming the contact, the change and the menu.
func (t *Tags) syncRichMenu(ctx context.Context, tx *store.Store, teamID, contactID int64) error {
	c, err := tx.TeamContact(ctx, teamID, contactID)
	if err != nil {
		return err
	}
	ch, err := tx.Channel(ctx, teamID, c.ChannelID)
	if err != nil || ch.Platform != models.LINE {
		return err
	}
	rule, err := tx.WinningRichMenuRule(ctx, teamID, c.ID, ch.ID)
	if err != nil {
		return err
	}
	desired := ""
	var ruleID *int64
	if rule != nil {
		desired, ruleID = rule.RichMenuID, &rule.ID
	}
	row, err := tx.LockContactRichMenu(ctx, c.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if desired == "" {
			return nil // never linked: the user already sees the default
		}
		row = &models.ContactRichMenu{ContactID: c.ID, TeamID: teamID, ChannelID: ch.ID}
	case err != nil:
		return err
	case row.Desired == desired:
		if !sameID(row.RuleID, ruleID) {
			row.RuleID = ruleID
			return tx.SaveContactRichMenu(ctx, row)
		}
		return nil // already asked for: applying again changes nothing
	}
	row.Desired, row.RuleID = desired, ruleID
	return t.queueRichMenu(ctx, tx, row)
}

// queueRichMenu bumps the row's generation (superseding older queued work) and queues it.
func (t *Tags) queueRichMenu(ctx context.Context, tx *store.Store, row *models.ContactRichMenu) error {
	row.Generation++
	row.Status, row.Error, row.UpdatedAt = models.RichMenuPending, "", t.now()
	if err := tx.SaveContactRichMenu(ctx, row); err != nil {
		return err
	}
	menu := row.Desired
	if menu == "" {
		menu = "default"
	}
	_, err := outbox.Enqueue(ctx, tx, t.now(), outbox.Entry{
		Kind: KindRichMenu, TeamID: row.TeamID,
		Key:     fmt.Sprintf("%s:%d:%d:%s", KindRichMenu, row.ContactID, row.Generation, menu),
		Payload: richMenuPayload{ContactID: row.ContactID, Generation: row.Generation},
	})
	return err
}

func sameID(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// deliverRichMenu tells LINE which menu one user should see. Work superseded by a newer change
// is dropped; a menu LINE no longer has marks its rule and falls back to the next one; a broken
// channel leaves the change failed until the channel recovers (ChannelRecovered re-queues it).
func (t *Tags) deliverRichMenu(ctx context.Context, it models.OutboxItem) error {
	var p richMenuPayload
	if err := json.Unmarshal([]byte(it.Payload), &p); err != nil {
		return outbox.Permanent(fmt.Errorf("decode rich menu work: %w", err))
	}
	row, err := t.st.ContactRichMenu(ctx, p.ContactID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if row.Generation != p.Generation {
		return nil
	}
	contact, err := t.st.ContactSystem(ctx, p.ContactID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	ch, err := t.st.ChannelByID(ctx, row.ChannelID)
	if err != nil {
		return err
	}
	if gerr := channels.Guard(ch); gerr != nil {
		return t.finishRichMenu(ctx, p, models.RichMenuFailed, "channel unavailable: "+gerr.Error(), nil)
	}
	creds, err := t.creds.Credentials(ch)
	if err != nil {
		return outbox.Permanent(t.finishRichMenu(ctx, p, models.RichMenuFailed, "credentials do not open", err))
	}
	var callErr error
	if row.Desired == "" {
		callErr = t.line.UnlinkRichMenu(ctx, creds.AccessToken, contact.ExternalUserID)
	} else {
		callErr = t.line.LinkRichMenu(ctx, creds.AccessToken, contact.ExternalUserID, row.Desired)
	}
	err = callErr
	if err == nil {
		return t.finishRichMenu(ctx, p, models.RichMenuApplied, "", nil)
	}
	if line.IsRichMenuMissing(err) && row.RuleID != nil {
		// The menu was deleted at LINE: the rule is marked (shown on the tag page, never
		// applied again) and the user falls back to the next rule or the default.
		ferr := t.st.WithTx(ctx, func(tx *store.Store) error {
			cur, err := tx.LockContactRichMenu(ctx, p.ContactID)
			if err != nil || cur.Generation != p.Generation {
				return err
			}
			now := t.now()
			if err := tx.SetRuleMenuMissingSystem(ctx, *row.RuleID, &now); err != nil {
				return err
			}
			if err := t.syncRichMenu(ctx, tx, cur.TeamID, cur.ContactID); err != nil {
				return err
			}
			after, err := tx.LockContactRichMenu(ctx, p.ContactID)
			if err != nil || after.Generation != p.Generation {
				return err
			}
			after.Status, after.Error = models.RichMenuFailed, truncate(callErr.Error())
			return tx.SaveContactRichMenu(ctx, after)
		})
		t.kick(ferr)
		return ferr
	}
	switch line.Classify(err).Class {
	case line.ClassTransient:
		return err
	case line.ClassAuthBroken:
		if t.health != nil {
			if _, herr := t.health.ReportFailure(ctx, ch, err); herr != nil {
				t.log.Warn("reporting a rich menu failure to the health monitor failed", "channel_id", ch.ID, "error", herr)
			}
		}
	}
	return outbox.Permanent(t.finishRichMenu(ctx, p, models.RichMenuFailed, err.Error(), err))
}

// finishRichMenu records the outcome unless a newer change superseded this one; it returns
// cause so callers can hand it to the outbox.
func (t *Tags) finishRichMenu(ctx context.Context, p richMenuPayload, status models.RichMenuStatus, detail string, cause error) error {
	err := t.st.WithTx(ctx, func(tx *store.Store) error {
		row, err := tx.LockContactRichMenu(ctx, p.ContactID)
		if err != nil || row.Generation != p.Generation {
			return err
		}
		row.Status, row.Error, row.UpdatedAt = status, truncate(detail), t.now()
		if status == models.RichMenuApplied {
			applied := row.Desired
			row.Applied = &applied
		}
		return tx.SaveContactRichMenu(ctx, row)
	})
	if err != nil {
		return err
	}
	return cause
}

// ChannelRecovered re-queues, in the health monitor's transaction, every rich-menu change on
// a channel that LINE has not taken, once the channel works again.
func (t *Tags) ChannelRecovered(ctx context.Context, tx *store.Store, ch *models.Channel) error {
	if ch.Platform != models.LINE {
		return nil
	}
	rows, err := tx.RichMenusToRetryOnChannel(ctx, ch.ID)
	if err != nil {
		return err
	}
	for i := range rows {
		if err := t.queueRichMenu(ctx, tx, &rows[i]); err != nil {
			return err
		}
	}
	return nil
}

func truncate(s string) string {
	const max = 500
	if len(s) > max {
		return s[:max] + "…"
	}
	return strings.TrimSpace(s)
}
