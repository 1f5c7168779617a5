package automation

import (
	"context"
	"errors"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// MenuChoice is one rich menu a rule may point at: a LINE channel and a menu LINE listed on it.
type MenuChoice struct {
	ChannelID   int64
	ChannelName string
	Menu        line.RichMenu
}

// MenuChoices lists, for every working LINE channel of the team, the rich menus LINE has; a
// channel LINE would not answer for is reported in unavailable instead.
func (t *Tags) MenuChoices(ctx context.Context, teamID int64) (choices []MenuChoice, unavailable []models.Channel, err error) {
	list, err := t.Channels(ctx, teamID)
	if err != nil {
		return nil, nil, err
	}
	for i := range list {
		ch := &list[i]
		if ch.Platform != models.LINE {
			continue
		}
		menus, err := t.channelMenus(ctx, ch)
		if err != nil {
			if _, ok := apperr.From(err); ok {
				unavailable = append(unavailable, *ch)
				continue
			}
			return nil, nil, err
		}
		for _, m := range menus {
			choices = append(choices, MenuChoice{ChannelID: ch.ID, ChannelName: ch.DisplayName, Menu: m})
		}
	}
	return choices, unavailable, nil
}

// Rules lists a tag's rules. Rich-menu rules are checked against what LINE lists now (given
// as choices): a rule whose menu is gone is marked missing and stops applying, and its
// contacts fall back; one whose menu is back applies again. Channels LINE did not answer for
// keep their rules' last known state.
func (t *Tags) Rules(ctx context.Context, teamID, tagID int64, choices []MenuChoice, unavailable []models.Channel) ([]models.TagRule, error) {
	if _, err := t.st.TeamTag(ctx, teamID, tagID); err != nil {
		return nil, err
	}
	rules, err := t.st.TeamTagRules(ctx, teamID, tagID)
	if err != nil {
		return nil, err
	}
	listed := map[int64]map[string]bool{}
	for _, c := range choices {
		if listed[c.ChannelID] == nil {
			listed[c.ChannelID] = map[string]bool{}
		}
		listed[c.ChannelID][c.Menu.RichMenuID] = true
	}
	skip := map[int64]bool{}
	for _, ch := range unavailable {
		skip[ch.ID] = true
	}
	changed := false
	err = t.st.WithTx(ctx, func(tx *store.Store) error {
		for i := range rules {
			r := &rules[i]
			if r.Action != models.RuleRichMenu || r.ChannelID == nil || skip[*r.ChannelID] {
				continue
			}
			exists := listed[*r.ChannelID][r.RichMenuID]
			if exists == (r.MenuMissingAt == nil) {
				continue
			}
			if exists {
				r.MenuMissingAt = nil
			} else {
				now := t.now()
				r.MenuMissingAt = &now
			}
			if err := tx.SetRuleMenuMissingSystem(ctx, r.ID, r.MenuMissingAt); err != nil {
				return err
			}
			if err := t.resyncTag(ctx, tx, teamID, r.TagID, *r.ChannelID); err != nil {
				return err
			}
			changed = true
		}
		return nil
	})
	if changed {
		t.kick(err)
	}
	return rules, err
}

// SaveRule adds a rule to one of the team's tags. A journey or channel of another team is a
// 404; a rich menu must be one LINE lists on that channel now (picked, never typed).
func (t *Tags) SaveRule(ctx context.Context, actor *models.User, tagID int64, in models.RuleInput) (*models.TagRule, error) {
	if _, err := t.st.TeamTag(ctx, actor.TeamID, tagID); err != nil {
		return nil, err
	}
	if errs := in.Validate(); len(errs) > 0 {
		return nil, errs
	}
	r := &models.TagRule{TeamID: actor.TeamID, TagID: tagID, Action: in.Action, Priority: in.PriorityN, CreatedBy: &actor.ID, CreatedAt: t.now()}
	switch in.Action {
	case models.RuleStartJourney:
		if _, err := t.st.TeamJourney(ctx, actor.TeamID, in.JourneyID); err != nil {
			return nil, err
		}
		r.JourneyID = &in.JourneyID
	case models.RuleRichMenu:
		ch, err := t.st.Channel(ctx, actor.TeamID, in.ChannelID)
		if err != nil {
			return nil, err
		}
		if ch.Status == models.ChannelDisconnected {
			return nil, apperr.ErrNotFound
		}
		if ch.Platform != models.LINE {
			errs := models.FieldProblems{}
			errs.Add("menu", "tags.error.not_line")
			return nil, errs
		}
		menus, err := t.channelMenus(ctx, ch)
		if err != nil {
			var ae *apperr.Error
			if errors.As(err, &ae) {
				errs := models.FieldProblems{}
				errs.Add("menu", ae.Key, "Channel", ch.DisplayName)
				return nil, errs
			}
			return nil, err
		}
		for _, m := range menus {
			if m.RichMenuID == in.RichMenuID {
				r.RichMenuName = m.Name
			}
		}
		if r.RichMenuName == "" {
			errs := models.FieldProblems{}
			errs.Add("menu", "tags.error.menu_not_listed")
			return nil, errs
		}
		r.ChannelID, r.RichMenuID = &ch.ID, in.RichMenuID
	}
	err := t.st.WithTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateTagRule(ctx, r); err != nil {
			return err
		}
		if r.Action == models.RuleRichMenu {
			return t.resyncTag(ctx, tx, actor.TeamID, tagID, *r.ChannelID)
		}
		return nil
	})
	t.kick(err)
	return r, err
}

// DeleteRule deletes one of the team's rules; contacts it gave a menu fall back.
func (t *Tags) DeleteRule(ctx context.Context, actor *models.User, tagID, ruleID int64) error {
	err := t.st.WithTx(ctx, func(tx *store.Store) error {
		r, err := tx.TeamTagRule(ctx, actor.TeamID, ruleID)
		if err != nil {
			return err
		}
		if r.TagID != tagID {
			return apperr.ErrNotFound
		}
		if err := tx.DeleteTeamTagRule(ctx, actor.TeamID, ruleID); err != nil {
			return err
		}
		if r.Action == models.RuleRichMenu && r.ChannelID != nil {
			return t.resyncTag(ctx, tx, actor.TeamID, tagID, *r.ChannelID)
		}
		return nil
	})
	t.kick(err)
	return err
}

// resyncTag re-evaluates the rich menu of every contact on a channel that carries a tag.
func (t *Tags) resyncTag(ctx context.Context, tx *store.Store, teamID, tagID, channelID int64) error {
	ids, err := tx.ContactsWithTagOnChannel(ctx, teamID, tagID, channelID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := t.syncRichMenu(ctx, tx, teamID, id); err != nil {
			return err
		}
	}
	return nil
}
