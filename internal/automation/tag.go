package automation

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/messaging"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Sender is the one outbound path (messaging.Service).
type Sender interface {
	Send(ctx context.Context, tx *store.Store, req messaging.SendRequest) (messaging.Result, error)
}

// ModuleSender renders and sends a bot module to a contact.
type ModuleSender interface {
	SendModule(ctx context.Context, tx *store.Store, teamID, contactID, moduleID int64, idempotencyKey, cause string) (messaging.Result, error)
}

// CredentialOpener opens a channel's sealed secrets (the channels service).
type CredentialOpener interface {
	Credentials(ch *models.Channel) (models.Credentials, error)
}

// HealthReporter hears about failed platform calls, so an auth failure breaks the channel.
type HealthReporter interface {
	ReportFailure(ctx context.Context, ch *models.Channel, err error) (bool, error)
}

// Notifier is told when work was queued, so it goes out at once.
type Notifier interface{ Notify() }

// TagsDeps are the tag service's collaborators.
type TagsDeps struct {
	Store       *store.Store
	Messaging   Sender
	Modules     ModuleSender // nil until bot modules are wired: module steps are skipped
	Line        *line.Client
	Credentials CredentialOpener
	Health      HealthReporter // optional
	Outbox      Notifier       // optional
	Log         *slog.Logger
	Now         func() time.Time
}

// Tags applies and removes tags and runs their effects: journeys and LINE rich menus.
type Tags struct {
	st      *store.Store
	send    Sender
	modules ModuleSender
	line    *line.Client
	creds   CredentialOpener
	health  HealthReporter
	notify  Notifier
	log     *slog.Logger
	now     func() time.Time
	wake    chan struct{}
}

// NewTags builds the tag service.
func NewTags(d TagsDeps) *Tags {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Tags{st: d.Store, send: d.Messaging, modules: d.Modules, line: d.Line, creds: d.Credentials,
		health: d.Health, notify: d.Outbox, log: d.Log, now: d.Now, wake: make(chan struct{}, 1)}
}

// SetModules wires the bot-module sender once it exists.
func (t *Tags) SetModules(m ModuleSender) { t.modules = m }

// List lists the team's tags with their counts.
func (t *Tags) List(ctx context.Context, teamID int64) ([]models.TagRow, error) {
	return t.st.TeamTagRows(ctx, teamID)
}

// Tag loads one of the team's tags.
func (t *Tags) Tag(ctx context.Context, teamID, id int64) (*models.Tag, error) {
	return t.st.TeamTag(ctx, teamID, id)
}

// Create adds a tag to the actor's team.
func (t *Tags) Create(ctx context.Context, actor *models.User, in models.TagInput) (*models.Tag, error) {
	if errs := in.Validate(); len(errs) > 0 {
		return nil, errs
	}
	tag := &models.Tag{TeamID: actor.TeamID, Name: in.Name, CreatedBy: &actor.ID, CreatedAt: t.now()}
	if err := t.st.CreateTeamTag(ctx, tag); err != nil {
		if errors.Is(err, store.ErrTagTaken) {
			errs := models.FieldProblems{}
			errs.Add("name", "tags.error.name_taken")
			return nil, errs
		}
		return nil, err
	}
	return tag, nil
}

// Rename renames one of the actor's team's tags.
func (t *Tags) Rename(ctx context.Context, actor *models.User, id int64, in models.TagInput) error {
	if errs := in.Validate(); len(errs) > 0 {
		return errs
	}
	err := t.st.RenameTeamTag(ctx, actor.TeamID, id, in.Name)
	if errors.Is(err, store.ErrTagTaken) {
		errs := models.FieldProblems{}
		errs.Add("name", "tags.error.name_taken")
		return errs
	}
	return err
}

// Delete deletes a tag; contacts whose rich menu came from its rules fall back.
func (t *Tags) Delete(ctx context.Context, actor *models.User, id int64) error {
	err := t.st.WithTx(ctx, func(tx *store.Store) error {
		if _, err := tx.TeamTag(ctx, actor.TeamID, id); err != nil {
			return err
		}
		contacts, err := tx.TeamTaggedContacts(ctx, actor.TeamID, id, 100000)
		if err != nil {
			return err
		}
		if err := tx.DeleteTeamTag(ctx, actor.TeamID, id); err != nil {
			return err
		}
		for _, c := range contacts {
			if c.Platform == models.LINE {
				if err := t.syncRichMenu(ctx, tx, actor.TeamID, c.ContactID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	t.kick(err)
	return err
}

// TaggedContacts lists contacts carrying one of the team's tags.
func (t *Tags) TaggedContacts(ctx context.Context, teamID, tagID int64) ([]models.TaggedContact, error) {
	return t.st.TeamTaggedContacts(ctx, teamID, tagID, 200)
}

// ContactChoices lists the team's contacts for the picker on the tag page.
func (t *Tags) ContactChoices(ctx context.Context, teamID int64) ([]store.ContactChoice, error) {
	return t.st.TeamContactChoices(ctx, teamID, 500)
}

// Apply puts a tag on a contact from the console; applying it again changes nothing.
func (t *Tags) Apply(ctx context.Context, actor *models.User, contactID, tagID int64) error {
	err := t.st.WithTx(ctx, func(tx *store.Store) error {
		_, err := t.add(ctx, tx, actor.TeamID, contactID, []int64{tagID}, models.TagByUser, &actor.ID)
		return err
	})
	t.kick(err)
	return err
}

// Remove takes a tag off a contact from the console; its rich menu falls back to the next
// rule or to the default menu.
func (t *Tags) Remove(ctx context.Context, actor *models.User, contactID, tagID int64) error {
	err := t.st.WithTx(ctx, func(tx *store.Store) error {
		return t.remove(ctx, tx, actor.TeamID, contactID, tagID)
	})
	t.kick(err)
	return err
}

// ApplyCampaignTags adds the tags (applied by that campaign) idempotently, and triggers the
// tag rules (journeys, LINE rich menus) through the outbox in the same tx.
func (t *Tags) ApplyCampaignTags(ctx context.Context, tx *store.Store, teamID, contactID, campaignID int64, tagIDs []int64) error {
	_, err := t.add(ctx, tx, teamID, contactID, tagIDs, models.TagByCampaign, &campaignID)
	return err
}

// add is the one way tags go onto a contact: the contact and every tag must be the team's
// (404 otherwise, nothing written); tags already there change nothing; new ones start their
// journeys and re-evaluate the contact's rich menu, all in tx.
func (t *Tags) add(ctx context.Context, tx *store.Store, teamID, contactID int64, tagIDs []int64, src models.TagSource, srcID *int64) ([]int64, error) {
	ids := slices.Clone(tagIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	contact, err := tx.TeamContact(ctx, teamID, contactID)
	if err != nil {
		return nil, err
	}
	tags, err := tx.TeamTagsByID(ctx, teamID, ids)
	if err != nil {
		return nil, err
	}
	if len(tags) != len(ids) {
		return nil, apperr.ErrNotFound
	}
	added, err := tx.AddContactTags(ctx, teamID, contactID, ids, src, srcID, t.now())
	if err != nil || len(added) == 0 {
		return added, err
	}
	ruleJourneys, err := tx.JourneyRulesForTags(ctx, teamID, added)
	if err != nil {
		return nil, err
	}
	journeys, err := tx.EnabledJourneysForTriggers(ctx, teamID, added, ruleJourneys)
	if err != nil {
		return nil, err
	}
	for _, j := range journeys {
		if err := t.startRun(ctx, tx, &j, contact.ID); err != nil {
			return nil, err
		}
	}
	return added, t.syncRichMenu(ctx, tx, teamID, contact.ID)
}

// remove takes one of the team's tags off one of its contacts.
func (t *Tags) remove(ctx context.Context, tx *store.Store, teamID, contactID, tagID int64) error {
	if _, err := tx.TeamContact(ctx, teamID, contactID); err != nil {
		return err
	}
	if _, err := tx.TeamTag(ctx, teamID, tagID); err != nil {
		return err
	}
	removed, err := tx.RemoveContactTag(ctx, teamID, contactID, tagID)
	if err != nil || !removed {
		return err
	}
	return t.syncRichMenu(ctx, tx, teamID, contactID)
}

// kick wakes the outbox and the journey scheduler after a committed change.
func (t *Tags) kick(err error) {
	if err != nil {
		return
	}
	if t.notify != nil {
		t.notify.Notify()
	}
	select {
	case t.wake <- struct{}{}:
	default:
	}
}
