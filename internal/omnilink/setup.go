// Package omnilink holds the OmniLink campaign rules: setting campaigns up (this file and its
// neighbours) and, later, link tokens, clicks, completion and statistics. It knows nothing of HTTP.
package omnilink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/omnilink/omnilink/internal/media"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Modules is the seam to the bot modules: the campaign service asks only for a team's modules
// of one platform and for the platforms of the modules a form named.
type Modules interface {
	TeamModules(ctx context.Context, teamID int64, p models.Platform) ([]models.ModuleRef, error)
	TeamModulePlatforms(ctx context.Context, teamID int64, ids []int64) (map[int64]models.Platform, error)
}

// NoModules is the module directory of a server without bot modules: every picker is empty and
// every module id is unknown.
type NoModules struct{}

// TeamModules lists nothing.
func (NoModules) TeamModules(context.Context, int64, models.Platform) ([]models.ModuleRef, error) {
	return nil, nil
}

// TeamModulePlatforms knows no module.
func (NoModules) TeamModulePlatforms(context.Context, int64, []int64) (map[int64]models.Platform, error) {
	return map[int64]models.Platform{}, nil
}

// StaleError says another person saved the campaign after the form was loaded.
type StaleError struct {
	Current *models.Campaign
	Changes []models.AuditRow // the saves since the form's version, newest first
}

// Error names the conflict, for logs.
func (e *StaleError) Error() string { return "campaign changed since version was loaded" }

// Unwrap lets errors.Is match store.ErrStale.
func (e *StaleError) Unwrap() error { return store.ErrStale }

// Service sets campaigns up: create, edit, enable/disable, duplicate, delete, images.
type Service struct {
	st      *store.Store
	modules Modules
	limits  media.Limits
	now     func() time.Time
	// httpImages is a public address platforms will not fetch card images from.
	httpImages bool
}

// New builds the service; modules may be nil (no bot modules yet). baseURL is the server's
// public address, from which platforms fetch card images.
func New(st *store.Store, modules Modules, baseURL string, now func() time.Time) *Service {
	if modules == nil {
		modules = NoModules{}
	}
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, modules: modules, limits: media.DefaultLimits, now: now, httpImages: !strings.HasPrefix(baseURL, "https://")}
}

// Limits are the image upload limits the service applies.
func (s *Service) Limits() media.Limits { return s.limits }

// Channels lists the team's connected channels a campaign may use.
func (s *Service) Channels(ctx context.Context, teamID int64) ([]models.Channel, error) {
	return s.st.TeamChannels(ctx, teamID)
}

// Tags lists the team's tags.
func (s *Service) Tags(ctx context.Context, teamID int64) ([]models.Tag, error) {
	return s.st.TeamTags(ctx, teamID)
}

// Modules lists the team's bot modules of a platform (empty until bot modules exist).
func (s *Service) Modules(ctx context.Context, teamID int64, p models.Platform) ([]models.ModuleRef, error) {
	if !p.Valid() {
		return nil, nil
	}
	return s.modules.TeamModules(ctx, teamID, p)
}

// Campaign loads one of a team's campaigns.
func (s *Service) Campaign(ctx context.Context, teamID, id int64) (*models.Campaign, error) {
	return s.st.Campaign(ctx, teamID, id)
}

// List lists a team's campaigns and tells whether the team has any at all.
func (s *Service) List(ctx context.Context, teamID int64, f models.CampaignFilter) ([]models.CampaignRow, int64, error) {
	rows, err := s.st.TeamCampaigns(ctx, teamID, f)
	if err != nil {
		return nil, 0, err
	}
	total, err := s.st.CountTeamCampaigns(ctx, teamID)
	return rows, total, err
}

// Facts looks up, within the team, everything an input refers to.
func (s *Service) Facts(ctx context.Context, teamID int64, in *models.CampaignInput) (models.CampaignFacts, error) {
	f := models.CampaignFacts{KnownTags: map[int64]bool{}}
	var err error
	if f.Source, err = s.channel(ctx, teamID, in.SourceChannelID); err != nil {
		return f, err
	}
	if f.Target, err = s.channel(ctx, teamID, in.TargetChannelID); err != nil {
		return f, err
	}
	if in.MediaID != 0 {
		m, err := s.st.Media(ctx, teamID, in.MediaID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return f, err
		}
		if m != nil {
			f.Image = &models.ImageFacts{Width: m.SourceWidth, Height: m.SourceHeight}
		}
	}
	var ids []int64
	for _, a := range []models.Action{in.SuccessSource, in.SuccessTarget, in.FailureSource} {
		if a.ModuleID != nil {
			ids = append(ids, *a.ModuleID)
		}
	}
	if f.ModulePlatform, err = s.modules.TeamModulePlatforms(ctx, teamID, ids); err != nil {
		return f, err
	}
	tags, err := s.st.TeamTagsByID(ctx, teamID, append(slices.Clone(in.TagsSource), in.TagsTarget...))
	if err != nil {
		return f, err
	}
	for _, t := range tags {
		f.KnownTags[t.ID] = true
	}
	f.ImageUnreachable = s.httpImages
	return f, nil
}

func (s *Service) channel(ctx context.Context, teamID, id int64) (*models.Channel, error) {
	if id == 0 {
		return nil, nil
	}
	ch, err := s.st.Channel(ctx, teamID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return ch, err
}

// Check validates an input without writing anything: the field problems, the warnings, and
// the facts it was checked against (for previews).
func (s *Service) Check(ctx context.Context, teamID int64, in *models.CampaignInput) (models.FieldProblems, []models.FieldProblem, models.CampaignFacts, error) {
	in.Normalize()
	f, err := s.Facts(ctx, teamID, in)
	if err != nil {
		return nil, nil, f, err
	}
	// The prefilled WhatsApp message belongs to WhatsApp targets only; a draft typed before the
	// target changed is not kept.
	if f.Target == nil || f.Target.Platform != models.WhatsApp {
		in.WAMessage = ""
	}
	return in.Validate(f), models.CardWarnings(f), f, nil
}

// Create validates and stores a new campaign; a models.FieldProblems error means nothing was written.
func (s *Service) Create(ctx context.Context, actor *models.User, in models.CampaignInput) (*models.Campaign, error) {
	problems, _, _, err := s.Check(ctx, actor.TeamID, &in)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, problems
	}
	c := &models.Campaign{TeamID: actor.TeamID, CreatedBy: &actor.ID}
	err = s.st.WithTx(ctx, func(tx *store.Store) error {
		if err := apply(ctx, tx, actor, c, &in); err != nil {
			return err
		}
		if err := tx.CreateCampaign(ctx, c); err != nil {
			return err
		}
		return tx.AddAudit(ctx, auditEntry(actor, "campaign.create", c, diffCampaign(&models.Campaign{}, c)))
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Update validates and stores an edit made on the campaign as it was at in.Version; a
// *StaleError when someone saved in between, a models.FieldProblems error on bad input.
func (s *Service) Update(ctx context.Context, actor *models.User, id int64, in models.CampaignInput) (*models.Campaign, error) {
	if _, err := s.st.Campaign(ctx, actor.TeamID, id); err != nil {
		return nil, err
	}
	problems, _, _, err := s.Check(ctx, actor.TeamID, &in)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, problems
	}
	var saved *models.Campaign
	err = s.st.WithTx(ctx, func(tx *store.Store) error {
		cur, err := tx.CampaignForUpdate(ctx, actor.TeamID, id)
		if err != nil {
			return err
		}
		if cur.Version != in.Version {
			return store.ErrStale
		}
		next := *cur
		if err := apply(ctx, tx, actor, &next, &in); err != nil {
			return err
		}
		changes := diffCampaign(cur, &next)
		if len(changes) == 0 {
			saved = cur
			return nil
		}
		if err := tx.UpdateCampaign(ctx, &next, cur.Version); err != nil {
			return err
		}
		saved = &next
		return tx.AddAudit(ctx, auditEntry(actor, "campaign.update", &next, changes))
	})
	if errors.Is(err, store.ErrStale) {
		return nil, s.stale(ctx, actor.TeamID, id, in.Version)
	}
	if err != nil {
		return nil, err
	}
	return saved, nil
}

func (s *Service) stale(ctx context.Context, teamID, id int64, since int) error {
	cur, err := s.st.Campaign(ctx, teamID, id)
	if err != nil {
		return err
	}
	changes, err := s.st.TeamAuditVersionsAfter(ctx, teamID, target(id), since)
	if err != nil {
		return err
	}
	return &StaleError{Current: cur, Changes: changes}
}

// apply copies a validated input onto c, creating inline tags.
func apply(ctx context.Context, tx *store.Store, actor *models.User, c *models.Campaign, in *models.CampaignInput) error {
	c.Name, c.Status = in.Name, in.Status
	c.SourceChannelID, c.TargetChannelID = in.SourceChannelID, in.TargetChannelID
	c.Card = models.CardContent{Title: in.Title, Text: in.Text, Button: in.Button}
	if in.MediaID != 0 {
		id := in.MediaID
		c.Card.MediaID = &id
	}
	c.WAMessage = in.WAMessage
	c.SuccessSource, c.SuccessTarget, c.FailureSource = in.SuccessSource, in.SuccessTarget, in.FailureSource
	c.TokenTTLDays = in.TokenTTLDays
	c.UpdatedBy = &actor.ID
	src, tgt := slices.Clone(in.TagsSource), slices.Clone(in.TagsTarget)
	for _, nt := range []struct {
		name string
		ids  *[]int64
	}{{in.NewTagSource, &src}, {in.NewTagTarget, &tgt}} {
		if nt.name == "" {
			continue
		}
		t, err := tx.EnsureTeamTag(ctx, actor.TeamID, nt.name, actor.ID)
		if err != nil {
			return err
		}
		if !slices.Contains(*nt.ids, t.ID) {
			*nt.ids = append(*nt.ids, t.ID)
		}
	}
	c.TagsSource, c.TagsTarget = src, tgt
	return nil
}

// SetStatus enables or disables a campaign.
func (s *Service) SetStatus(ctx context.Context, actor *models.User, id int64, status models.CampaignStatus) error {
	if !status.Valid() {
		return store.ErrNotFound
	}
	return s.st.WithTx(ctx, func(tx *store.Store) error {
		cur, err := tx.CampaignForUpdate(ctx, actor.TeamID, id)
		if err != nil {
			return err
		}
		if cur.Status == status {
			return nil
		}
		if err := tx.SetCampaignStatus(ctx, actor.TeamID, id, status, actor.ID); err != nil {
			return err
		}
		next := *cur
		next.Status, next.Version = status, cur.Version+1
		return tx.AddAudit(ctx, auditEntry(actor, "campaign."+string(status), &next, diffCampaign(cur, &next)))
	})
}

// Duplicate copies a campaign under a new name, disabled, so it can be edited before it runs.
func (s *Service) Duplicate(ctx context.Context, actor *models.User, id int64, name string) (*models.Campaign, error) {
	var c models.Campaign
	err := s.st.WithTx(ctx, func(tx *store.Store) error {
		src, err := tx.Campaign(ctx, actor.TeamID, id)
		if err != nil {
			return err
		}
		c = *src
		c.ID, c.Status, c.CreatedBy, c.UpdatedBy = 0, models.CampaignDisabled, &actor.ID, &actor.ID
		c.CreatedAt, c.UpdatedAt = time.Time{}, time.Time{}
		c.Name = truncate(name, models.CampaignNameMax)
		c.TagsSource, c.TagsTarget = slices.Clone(src.TagsSource), slices.Clone(src.TagsTarget)
		if err := tx.CreateCampaign(ctx, &c); err != nil {
			return err
		}
		d := diffCampaign(&models.Campaign{}, &c)
		d["duplicated_from"] = src.ID
		return tx.AddAudit(ctx, auditEntry(actor, "campaign.duplicate", &c, d))
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// Delete soft-deletes a campaign: it leaves the list, its links stop working, its statistics stay.
func (s *Service) Delete(ctx context.Context, actor *models.User, id int64) error {
	return s.st.WithTx(ctx, func(tx *store.Store) error {
		cur, err := tx.CampaignForUpdate(ctx, actor.TeamID, id)
		if err != nil {
			return err
		}
		if err := tx.SoftDeleteCampaign(ctx, actor.TeamID, id, actor.ID); err != nil {
			return err
		}
		next := *cur
		next.Version = cur.Version + 1
		return tx.AddAudit(ctx, auditEntry(actor, "campaign.delete", &next, map[string]any{}))
	})
}

// History lists who changed a campaign, what and when, newest first.
func (s *Service) History(ctx context.Context, teamID, id int64) ([]models.AuditRow, error) {
	if _, err := s.st.Campaign(ctx, teamID, id); err != nil {
		return nil, err
	}
	return s.st.TeamAuditFor(ctx, teamID, target(id), 200)
}

// Upload checks and re-encodes an image and stores its renditions for the actor's team; a
// models.FieldProblems error names what is wrong with the file.
func (s *Service) Upload(ctx context.Context, actor *models.User, r io.Reader) (*models.Media, error) {
	res, err := media.Process(r, s.limits)
	if err != nil {
		var me *media.Error
		if errors.As(err, &me) {
			p := models.FieldProblems{}
			p.Add("image", me.Key, "MaxMB", s.limits.MaxBytes>>20)
			return nil, p
		}
		return nil, err
	}
	return s.store(ctx, actor, res)
}

func (s *Service) store(ctx context.Context, actor *models.User, res *media.Result) (*models.Media, error) {
	m := &models.Media{TeamID: actor.TeamID, SourceWidth: res.SourceWidth, SourceHeight: res.SourceHeight, Mime: res.Card.Mime,
		CardHash: res.Card.Hash, SquareHash: res.Square.Hash, CreatedBy: &actor.ID}
	blobs := []models.MediaBlob{blob(res.Card), blob(res.Square)}
	if err := s.st.SaveMedia(ctx, m, blobs...); err != nil {
		return nil, err
	}
	return m, nil
}

func blob(r media.Rendition) models.MediaBlob {
	return models.MediaBlob{Hash: r.Hash, Mime: r.Mime, Width: r.Width, Height: r.Height, Data: r.Data}
}

// Media loads one of the team's uploads with its two renditions' file names.
func (s *Service) Media(ctx context.Context, teamID, id int64) (*models.Media, error) {
	return s.st.Media(ctx, teamID, id)
}

// PublicImage loads an image by content hash for /media (no team: the hash is the address).
func (s *Service) PublicImage(ctx context.Context, hash string) (*models.MediaBlob, error) {
	return s.st.MediaBlobPublic(ctx, hash)
}

func target(id int64) string { return "campaign:" + strconv.FormatInt(id, 10) }

func auditEntry(actor *models.User, action string, c *models.Campaign, changes map[string]any) *models.AuditEntry {
	uid := actor.ID
	return &models.AuditEntry{TeamID: actor.TeamID, ActorUserID: &uid, Action: action, Target: target(c.ID),
		Detail: models.JSONMap{"version": c.Version, "changes": changes}}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// diffCampaign lists the fields that differ between a and b as field → [old, new].
func diffCampaign(a, b *models.Campaign) map[string]any {
	out := map[string]any{}
	add := func(field string, x, y any) {
		xs, ys := fmt.Sprint(x), fmt.Sprint(y)
		if xs != ys {
			out[field] = []string{xs, ys}
		}
	}
	add("name", a.Name, b.Name)
	add("status", a.Status, b.Status)
	add("source", a.SourceChannelID, b.SourceChannelID)
	add("target", a.TargetChannelID, b.TargetChannelID)
	add("image", idOrNone(a.Card.MediaID), idOrNone(b.Card.MediaID))
	add("title", a.Card.Title, b.Card.Title)
	add("text", a.Card.Text, b.Card.Text)
	add("button", a.Card.Button, b.Card.Button)
	add("wa_message", a.WAMessage, b.WAMessage)
	for _, p := range []struct {
		field string
		x, y  models.Action
	}{{"success_source", a.SuccessSource, b.SuccessSource}, {"success_target", a.SuccessTarget, b.SuccessTarget}, {"failure_source", a.FailureSource, b.FailureSource}} {
		add(p.field, actionString(p.x), actionString(p.y))
	}
	add("tags_source", []int64(a.TagsSource), []int64(b.TagsSource))
	add("tags_target", []int64(a.TagsTarget), []int64(b.TagsTarget))
	add("token_ttl", a.TokenTTLDays, b.TokenTTLDays)
	return out
}

func idOrNone(id *int64) string {
	if id == nil {
		return ""
	}
	return strconv.FormatInt(*id, 10)
}

func actionString(a models.Action) string {
	switch a.Kind {
	case models.ActionText:
		return "text: " + a.Text
	case models.ActionModule:
		return "module: " + idOrNone(a.ModuleID)
	}
	return string(a.Kind)
}
