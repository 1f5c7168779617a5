package automation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/messaging"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// CardLinks mints the link behind an OmniLink card for one contact (the OmniLink runtime).
type CardLinks interface {
	CardLink(ctx context.Context, tx *store.Store, teamID, campaignID, contactID int64) (string, error)
}

// Sender is the one outbound path (the messaging service).
type Sender interface {
	Send(ctx context.Context, tx *store.Store, req messaging.SendRequest) (messaging.Result, error)
}

// Errors of module sends and deletes.
var (
	// ErrCardLinksUnavailable refuses a live send of a card when this server cannot mint links.
	ErrCardLinksUnavailable = &apperr.Error{Status: http.StatusServiceUnavailable, Key: "modules.error_card_links_unavailable",
		Err: errors.New("OmniLink card links are not available yet")}
	// ErrWrongPlatform refuses a module for a contact or channel on another platform.
	ErrWrongPlatform = apperr.Invalid("module_id", "modules.error_wrong_platform")
)

// InUseError refuses to delete a module that campaigns, triggers or other modules use.
type InUseError struct {
	Uses []models.ModuleUse
}

// Error lists the users, for logs.
func (e *InUseError) Error() string { return fmt.Sprintf("module in use by %d", len(e.Uses)) }

// AppErr is the refusal as the console shows it.
func (e *InUseError) AppErr() *apperr.Error {
	names := make([]string, 0, len(e.Uses))
	for _, u := range e.Uses {
		names = append(names, u.Name)
	}
	return &apperr.Error{Status: http.StatusConflict, Key: "modules.error_in_use", Args: map[string]any{"Uses": strings.Join(names, "、")}, Err: e}
}

// PreviewLinkPath is the placeholder behind a card's button in previews: no token is minted.
const PreviewLinkPath = "/l/preview"

// imageStandIn replaces our own card image URLs while limits are checked: the real URL is
// served by this server and its scheme depends on where the server runs, not on the module.
const imageStandIn = "https://omnilink.invalid/media/card.jpg"

// Modules keeps a team's bot modules and sends them.
type Modules struct {
	st    *store.Store
	send  Sender
	links CardLinks
	base  string
	now   func() time.Time
}

// NewModules builds the service. links may be nil: cards then preview with a placeholder link
// and live sends of them are refused with ErrCardLinksUnavailable. baseURL serves card images.
func NewModules(st *store.Store, send Sender, links CardLinks, baseURL string, now func() time.Time) *Modules {
	if now == nil {
		now = time.Now
	}
	return &Modules{st: st, send: send, links: links, base: strings.TrimRight(baseURL, "/"), now: now}
}

// TeamModules lists the team's modules of a platform, for the campaign pickers.
func (m *Modules) TeamModules(ctx context.Context, teamID int64, p models.Platform) ([]models.ModuleRef, error) {
	list, err := m.st.TeamModules(ctx, teamID, p)
	if err != nil {
		return nil, err
	}
	out := make([]models.ModuleRef, 0, len(list))
	for _, x := range list {
		out = append(out, models.ModuleRef{ID: x.ID, Name: x.Name, Platform: x.Platform})
	}
	return out, nil
}

// TeamModulePlatforms maps those of ids that are the team's modules to their platforms.
func (m *Modules) TeamModulePlatforms(ctx context.Context, teamID int64, ids []int64) (map[int64]models.Platform, error) {
	list, err := m.st.TeamModulesByID(ctx, teamID, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]models.Platform, len(list))
	for _, x := range list {
		out[x.ID] = x.Platform
	}
	return out, nil
}

// List lists all the team's modules by name.
func (m *Modules) List(ctx context.Context, teamID int64) ([]models.Module, error) {
	return m.st.TeamModules(ctx, teamID, "")
}

// Module loads one of the team's modules.
func (m *Modules) Module(ctx context.Context, teamID, id int64) (*models.Module, error) {
	return m.st.TeamModule(ctx, teamID, id)
}

// Campaigns lists the team's campaigns whose source channel is on p: the ones a card block of
// a module on p may show.
func (m *Modules) Campaigns(ctx context.Context, teamID int64, p models.Platform) ([]models.CampaignRow, error) {
	rows, err := m.st.TeamCampaigns(ctx, teamID, models.CampaignFilter{})
	if err != nil {
		return nil, err
	}
	var out []models.CampaignRow
	for _, r := range rows {
		if r.SourcePlatform == p {
			out = append(out, r)
		}
	}
	return out, nil
}

// Check returns every problem of an input; an empty result means it can be saved. Limits are
// those messaging.Render applies when the module is sent, so nothing saved can fail them later.
func (m *Modules) Check(ctx context.Context, teamID int64, in *models.ModuleInput) (models.FieldProblems, error) {
	errs := models.FieldProblems{}
	in.Name = strings.TrimSpace(in.Name)
	switch n := models.Length(in.Name); {
	case n == 0:
		errs.Add("name", "modules.error_name_required")
	case n > models.MaxModuleName:
		errs.Add("name", "modules.error_name_too_long", "Max", models.MaxModuleName)
	}
	if !in.Platform.Valid() {
		errs.Add("platform", "modules.error_platform")
		return errs, nil
	}
	switch {
	case len(in.Blocks) == 0:
		errs.Add("blocks", "modules.error_no_blocks")
		return errs, nil
	case len(in.Blocks) > models.MaxModuleBlocks:
		errs.Add("blocks", "modules.error_too_many_blocks", "Max", models.MaxModuleBlocks)
		return errs, nil
	}
	content, err := m.content(ctx, nil, teamID, in.Platform, in.Blocks, 0, forCheck, errs)
	if err != nil {
		return nil, err
	}
	blockProblems := false
	for f := range errs {
		blockProblems = blockProblems || strings.HasPrefix(f, "blocks")
	}
	// Render's block numbers match the module's only when every block resolved.
	if !blockProblems {
		if _, err := messaging.Render(in.Platform, content); err != nil {
			ae, ok := apperr.From(err)
			if !ok {
				return nil, err
			}
			errs.Add(ae.Field, ae.Key, argPairs(ae.Args)...)
		}
	}
	return errs, nil
}

func argPairs(m map[string]any) []any {
	var out []any
	for k, v := range m {
		out = append(out, k, v)
	}
	return out
}

// purpose says what content is resolved for: it decides card links and image URLs.
type purpose int

const (
	forCheck   purpose = iota // limits at save time: placeholder link, https image stand-in
	forPreview                // the editor's preview: placeholder link, our real image URL
	forSend                   // a live send: a fresh link, the image only over https
)

// content resolves module blocks into sendable content. errs, when given, collects problems
// with blocks, campaigns and target modules instead of failing; without it those are errors.
// contactID matters only for forSend.
func (m *Modules) content(ctx context.Context, tx *store.Store, teamID int64, p models.Platform, blocks models.ModuleBlocks, contactID int64, why purpose, errs models.FieldProblems) (models.Content, error) {
	if tx == nil {
		tx = m.st
	}
	var c models.Content
	for i, b := range blocks {
		field := func(f string) string { return fmt.Sprintf("blocks[%d].%s", i, f) }
		if !models.ValidModuleBlock(b.Kind) {
			if errs == nil {
				return c, apperr.Invalid(field("kind"), "modules.error_block_kind")
			}
			errs.Add(field("kind"), "modules.error_block_kind")
			continue
		}
		out := b.Block
		for j, bt := range out.Buttons {
			if bt.Kind != models.ButtonPostback {
				continue
			}
			id, ok := models.ParseModulePayload(bt.Payload)
			var target *models.Module
			var err error
			if ok {
				target, err = tx.TeamModule(ctx, teamID, id)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return c, err
				}
			}
			switch {
			case target == nil:
				if errs == nil {
					return c, apperr.Invalid(field("buttons"), "modules.error_target_module")
				}
				errs.Add(fmt.Sprintf("blocks[%d].buttons[%d]", i, j), "modules.error_target_module")
			case target.Platform != p:
				if errs == nil {
					return c, ErrWrongPlatform
				}
				errs.Add(fmt.Sprintf("blocks[%d].buttons[%d]", i, j), "modules.error_target_platform", "Name", target.Name)
			}
		}
		if b.Kind == models.BlockOmniLinkCard {
			card, err := m.card(ctx, tx, teamID, p, b.CampaignID, contactID, why)
			var ae *apperr.Error
			if errs != nil && errors.As(err, &ae) && ae.Status != http.StatusServiceUnavailable {
				errs.Add(field("campaign_id"), ae.Key, argPairs(ae.Args)...)
				continue
			}
			if err != nil {
				return c, err
			}
			out = card
		}
		c.Blocks = append(c.Blocks, out)
	}
	return c, nil
}

// card renders a campaign's card as a card block whose one button opens the link: a fresh
// link for a live send, the placeholder otherwise.
func (m *Modules) card(ctx context.Context, tx *store.Store, teamID int64, p models.Platform, campaignID, contactID int64, why purpose) (models.Block, error) {
	var b models.Block
	if campaignID <= 0 {
		return b, apperr.Invalid("campaign_id", "modules.error_campaign_required")
	}
	camp, err := tx.Campaign(ctx, teamID, campaignID)
	if errors.Is(err, store.ErrNotFound) {
		return b, apperr.Invalid("campaign_id", "modules.error_campaign_unknown")
	}
	if err != nil {
		return b, err
	}
	src, err := tx.Channel(ctx, teamID, camp.SourceChannelID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return b, err
	}
	if src == nil || src.Platform != p {
		return b, apperr.Invalid("campaign_id", "modules.error_campaign_platform").With(map[string]any{"Name": camp.Name})
	}
	b = models.Block{Kind: models.BlockCard, Title: camp.Card.Title, Text: camp.Card.Text}
	if camp.Card.MediaID != nil {
		md, err := tx.Media(ctx, teamID, *camp.Card.MediaID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return b, err
		}
		if md != nil {
			b.ImageURL = m.imageURL(md, p, why)
		}
	}
	link := m.base + PreviewLinkPath
	if why == forSend {
		if m.links == nil {
			return b, ErrCardLinksUnavailable
		}
		if link, err = m.links.CardLink(ctx, tx, teamID, campaignID, contactID); err != nil {
			return b, err
		}
	}
	b.Buttons = []models.Button{{Kind: models.ButtonURL, Label: camp.Card.Button, URL: link}}
	return b, nil
}

// imageURL is where platforms fetch a card image: the square crop on Facebook and Instagram
// (their cards are square). Platforms fetch only https, so a server reachable only over http
// (development) sends its cards without the image rather than not at all.
func (m *Modules) imageURL(md *models.Media, p models.Platform, why purpose) string {
	hash := md.CardHash
	if p == models.Facebook || p == models.Instagram {
		hash = md.SquareHash
	}
	u := m.base + "/media/" + hash + "." + models.MimeExt(md.Mime)
	switch {
	case strings.HasPrefix(u, "https://") || why == forPreview:
		return u
	case why == forCheck:
		return imageStandIn
	}
	return ""
}

// PreviewContent resolves a module's blocks as its preview shows them (placeholder card links,
// our own image URLs whatever their scheme). Blocks that cannot be resolved are left out.
func (m *Modules) PreviewContent(ctx context.Context, teamID int64, p models.Platform, blocks models.ModuleBlocks) (models.Content, error) {
	var c models.Content
	for _, b := range blocks {
		one, err := m.content(ctx, nil, teamID, p, models.ModuleBlocks{b}, 0, forPreview, models.FieldProblems{})
		if err != nil {
			return c, err
		}
		c.Blocks = append(c.Blocks, one.Blocks...)
	}
	return c, nil
}

// Create saves a new module, or returns FieldProblems and saves nothing.
func (m *Modules) Create(ctx context.Context, actor *models.User, in models.ModuleInput) (*models.Module, error) {
	problems, err := m.Check(ctx, actor.TeamID, &in)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, problems
	}
	now := m.now()
	mod := &models.Module{TeamID: actor.TeamID, Platform: in.Platform, Name: in.Name, Blocks: in.Blocks, CreatedBy: &actor.ID, CreatedAt: now, UpdatedAt: now}
	if err := m.st.CreateModule(ctx, mod); err != nil {
		return nil, err
	}
	return mod, nil
}

// Update saves an edit of one of the team's modules; its platform stays what it was.
func (m *Modules) Update(ctx context.Context, actor *models.User, id int64, in models.ModuleInput) (*models.Module, error) {
	mod, err := m.st.TeamModule(ctx, actor.TeamID, id)
	if err != nil {
		return nil, err
	}
	in.Platform = mod.Platform
	problems, err := m.Check(ctx, actor.TeamID, &in)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, problems
	}
	mod.Name, mod.Blocks = in.Name, in.Blocks
	if err := m.st.UpdateModule(ctx, mod); err != nil {
		return nil, err
	}
	return mod, nil
}

// Uses lists what uses one of the team's modules.
func (m *Modules) Uses(ctx context.Context, teamID, id int64) ([]models.ModuleUse, error) {
	return m.st.TeamModuleUses(ctx, teamID, id)
}

// Delete removes one of the team's modules unless something uses it (an *InUseError naming
// every user). The check and the delete share a transaction.
func (m *Modules) Delete(ctx context.Context, actor *models.User, id int64) error {
	return m.st.WithTx(ctx, func(tx *store.Store) error {
		if _, err := tx.TeamModule(ctx, actor.TeamID, id); err != nil {
			return err
		}
		uses, err := tx.TeamModuleUses(ctx, actor.TeamID, id)
		if err != nil {
			return err
		}
		if len(uses) > 0 {
			return &InUseError{Uses: uses}
		}
		return tx.DeleteModule(ctx, actor.TeamID, id)
	})
}

// SendModule renders one of the team's modules for a contact (card blocks get a fresh link)
// and sends it through the messaging service inside tx, as automation.
func (m *Modules) SendModule(ctx context.Context, tx *store.Store, teamID, contactID, moduleID int64, idempotencyKey, cause string) (messaging.Result, error) {
	return m.sendModule(ctx, tx, teamID, contactID, moduleID, messaging.SendRequest{IdempotencyKey: idempotencyKey, Cause: cause})
}

func (m *Modules) sendModule(ctx context.Context, tx *store.Store, teamID, contactID, moduleID int64, req messaging.SendRequest) (messaging.Result, error) {
	mod, err := tx.TeamModule(ctx, teamID, moduleID)
	if err != nil {
		return messaging.Result{}, err
	}
	contact, err := tx.TeamContact(ctx, teamID, contactID)
	if err != nil {
		return messaging.Result{}, err
	}
	ch, err := tx.Channel(ctx, teamID, contact.ChannelID)
	if err != nil {
		return messaging.Result{}, err
	}
	if ch.Platform != mod.Platform {
		return messaging.Result{}, ErrWrongPlatform
	}
	// A repeated request must not mint a second card link for a send that already exists.
	if prev, err := tx.TeamMessageSendByKey(ctx, teamID, req.IdempotencyKey); err == nil {
		return messaging.Result{SendID: prev.ID, Outcome: prev.Outcome, Duplicate: true}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return messaging.Result{}, err
	}
	content, err := m.content(ctx, tx, teamID, mod.Platform, mod.Blocks, contactID, forSend, nil)
	if err != nil {
		return messaging.Result{}, err
	}
	req.TeamID, req.ContactID, req.Content, req.Automated = teamID, contactID, content, true
	return m.send.Send(ctx, tx, req)
}
