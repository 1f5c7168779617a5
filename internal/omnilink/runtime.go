package omnilink

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/identity"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/messaging"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Sender queues a message to a contact (messaging.Service).
type Sender interface {
	Send(ctx context.Context, tx *store.Store, req messaging.SendRequest) (messaging.Result, error)
}

// ModuleSender sends a bot module to a contact (the bot modules' SendModule).
type ModuleSender interface {
	SendModule(ctx context.Context, tx *store.Store, teamID, contactID, moduleID int64, idempotencyKey, cause string) (messaging.Result, error)
}

// TagApplier applies a campaign's tags to a contact and runs the tags' rules (automation.Tags).
type TagApplier interface {
	ApplyCampaignTags(ctx context.Context, tx *store.Store, teamID, contactID, campaignID int64, tagIDs []int64) error
}

// IDTokenVerifier asks LINE whether a raw LIFF ID token is genuine for a LINE Login channel.
type IDTokenVerifier interface {
	VerifyIDToken(ctx context.Context, idToken, loginChannelID string) (line.IDToken, error)
}

// HealthReporter hears of a failed platform call on a channel, as sends report theirs: an
// answer that says the credentials no longer work breaks the channel at once.
type HealthReporter interface {
	ReportFailure(ctx context.Context, ch *models.Channel, err error) (bool, error)
}

// LINEProfiles reads a LINE user's profile through a target channel's Messaging API. An error
// matching line.ErrNotFound means the user is not a friend of the account (or blocked it).
type LINEProfiles interface {
	LINEProfile(ctx context.Context, ch *models.Channel, userID string) (line.Profile, error)
}

// Notifier is told that sends were queued, so the outbox delivers them at once.
type Notifier interface{ Notify() }

// LinkEvents hears about every successful link inside its transaction (the team's outbound
// webhook); mergeID is 0 when the two were one customer already.
type LinkEvents interface {
	LinkEvent(ctx context.Context, tx *store.Store, teamID, campaignID, sourceContactID, targetContactID, mergeID int64, at time.Time) error
}

// RuntimeConfig are the addresses links lead to.
type RuntimeConfig struct {
	BaseURL string // our origin: cards link to {BaseURL}/l/{token}
	LiffURL string // LINE's LIFF launcher, https://liff.line.me (the sandbox serves its own)
	WAURL   string // WhatsApp click-to-chat, https://wa.me
	// LineAccountURL opens an official account in LINE, https://line.me/R/ti/p (+ /@basic id).
	LineAccountURL string
}

// RuntimeDeps are the runtime's collaborators; Modules and Tags may be nil (not available).
type RuntimeDeps struct {
	Store    *store.Store
	Sender   Sender
	Modules  ModuleSender
	Tags     TagApplier
	Verifier IDTokenVerifier
	Profiles LINEProfiles   // nil: target contacts take the ID token's name
	Health   HealthReporter // nil: failed profile reads are only logged
	Notify   Notifier
	Events   LinkEvents // nil: nobody listens
	Log      *slog.Logger
	Now      func() time.Time
}

// Runtime runs OmniLink for customers: card links, clicks, linking and the outcomes.
type Runtime struct {
	st        *store.Store
	send      Sender
	modules   ModuleSender
	tags      TagApplier
	verify    IDTokenVerifier
	profiles  LINEProfiles
	health    HealthReporter
	campaigns campaignCache
	notify    Notifier
	events    LinkEvents
	log       *slog.Logger
	now       func() time.Time
	cfg       RuntimeConfig
}

// NewRuntime builds the runtime.
func NewRuntime(d RuntimeDeps, cfg RuntimeConfig) *Runtime {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if cfg.LiffURL == "" {
		cfg.LiffURL = "https://liff.line.me"
	}
	if cfg.WAURL == "" {
		cfg.WAURL = "https://wa.me"
	}
	if cfg.LineAccountURL == "" {
		cfg.LineAccountURL = "https://line.me/R/ti/p"
	}
	cfg.LineAccountURL = strings.TrimRight(cfg.LineAccountURL, "/")
	cfg.LiffURL, cfg.WAURL, cfg.BaseURL = strings.TrimRight(cfg.LiffURL, "/"), strings.TrimRight(cfg.WAURL, "/"), strings.TrimRight(cfg.BaseURL, "/")
	return &Runtime{st: d.Store, send: d.Sender, modules: d.Modules, tags: d.Tags, verify: d.Verifier, profiles: d.Profiles, health: d.Health, notify: d.Notify,
		events: d.Events, log: d.Log, now: d.Now, cfg: cfg}
}

// SetModules gives the runtime the bot modules it sends as outcomes; the modules render cards
// with the runtime's links, so they are built after it.
func (r *Runtime) SetModules(m ModuleSender) { r.modules = m }

// Errors of card links and of the customer's side, with the spec's wording as i18n keys.
var (
	ErrCardDisabled   = &apperr.Error{Status: http.StatusConflict, Key: models.ReasonDisabled.Key()}
	ErrCardLinkFailed = &apperr.Error{Status: http.StatusConflict, Key: models.ReasonLinkFailed.Key()}
	// ErrLinkNotExist is every "link does not exist" case; nothing is recorded.
	ErrLinkNotExist = &apperr.Error{Status: http.StatusNotFound, Key: "click.not_exist"}
	ErrLinkExpired  = &apperr.Error{Status: http.StatusGone, Key: "click.expired"}
	// ErrLinkUsed is a token that already linked someone.
	ErrLinkUsed = &apperr.Error{Status: http.StatusConflict, Key: "click.used"}
	// ErrIDTokenRejected is an ID token LINE refused (forged, expired, for another channel).
	ErrIDTokenRejected = &apperr.Error{Status: http.StatusUnauthorized, Key: "liff.id_token_rejected"}
	// ErrIDTokenReplayed is an ID token that already completed another link.
	ErrIDTokenReplayed = &apperr.Error{Status: http.StatusConflict, Key: "liff.id_token_replayed"}
	// ErrLineUnavailable is LINE not answering the verification.
	ErrLineUnavailable = &apperr.Error{Status: http.StatusServiceUnavailable, Key: "liff.line_unavailable"}
)

// linkCtx is a token with everything a link needs, checked against the six "does not exist" cases.
type linkCtx struct {
	tok            *models.LinkToken
	camp           *models.Campaign
	source, target *models.Channel
	// gone is why a link clicked earlier can no longer complete (source or target contact not
	// found): the participation fails with it instead of the link not existing.
	gone models.FailureReason
	// campVersion is the campaign row's version read under the participation's lock; complete
	// takes the campaign at that version from the cache.
	campVersion int64
}

// resolve loads what a token points at; each way the link cannot work is ErrLinkNotExist.
// After the click (afterClick) a campaign disabled meanwhile, or a source or target channel
// disconnected meanwhile, is a failure reason, not a missing link: completing records it.
func (r *Runtime) resolve(ctx context.Context, st *store.Store, tok *models.LinkToken, afterClick bool) (*linkCtx, error) {
	camp, err := st.CampaignAny(ctx, tok.TeamID, tok.CampaignID)
	if err != nil || camp.DeletedAt != nil || (camp.Status != models.CampaignEnabled && !afterClick) {
		return nil, ErrLinkNotExist
	}
	lc := &linkCtx{tok: tok, camp: camp}
	src, err := st.Channel(ctx, tok.TeamID, camp.SourceChannelID)
	if err != nil {
		return nil, ErrLinkNotExist
	}
	contact, err := st.TeamContact(ctx, tok.TeamID, tok.SourceContactID)
	if src.Status == models.ChannelDisconnected || err != nil || contact.ChannelID != src.ID {
		if !afterClick {
			return nil, ErrLinkNotExist
		}
		lc.gone = models.ReasonSourceNotFound
	}
	tgt, err := st.Channel(ctx, tok.TeamID, camp.TargetChannelID)
	if err != nil || !tgt.Platform.CanBeTarget() || (tgt.Platform == models.LINE && tgt.Settings.LiffID == "") {
		return nil, ErrLinkNotExist
	}
	if tgt.Status == models.ChannelDisconnected {
		if !afterClick {
			return nil, ErrLinkNotExist
		}
		lc.gone = cmp.Or(lc.gone, models.ReasonTargetNotFound)
	}
	lc.source, lc.target = src, tgt
	return lc, nil
}

// goneAfterClick is resolve's afterClick verdict on a token's one-query context: whether the
// link still exists and, if it does, the failure reason it must end with (empty: none).
func goneAfterClick(lx *store.LinkContext) (models.FailureReason, bool) {
	live := func(st *models.ChannelStatus) bool { return st != nil && *st != models.ChannelDisconnected }
	switch {
	case lx.CampaignDeleted || lx.TargetStatus == nil || !lx.TargetPlatform.CanBeTarget():
		return "", false
	case lx.TargetPlatform == models.LINE && lx.TargetSettings.LiffID == "":
		return "", false
	case lx.SourceStatus == nil:
		return "", false
	case !live(lx.SourceStatus) || lx.ContactChannelID == nil || *lx.ContactChannelID != lx.SourceChannelID:
		return models.ReasonSourceNotFound, true
	case !live(lx.TargetStatus):
		return models.ReasonTargetNotFound, true
	}
	return "", true
}

// linkExists applies the six "does not exist" cases to a token's one-query context at the
// click, where a disabled campaign or a channel gone also means no link; resolve applies the
// same rules where the full rows are loaded.
func linkExists(lx *store.LinkContext) bool {
	gone, ok := goneAfterClick(lx)
	return ok && gone == "" && lx.CampaignStatus == models.CampaignEnabled
}

// linkCtxOf is a one-query context as a linkCtx: the campaign and target channel carry only
// the columns the query read (complete loads the campaign again under the participation's lock).
func linkCtxOf(lx *store.LinkContext) *linkCtx {
	tok := &lx.Token
	return &linkCtx{tok: tok, camp: &models.Campaign{ID: tok.CampaignID, TeamID: tok.TeamID, WAMessage: lx.WAMessage},
		target: &models.Channel{ID: lx.TargetChannelID, TeamID: tok.TeamID, Platform: lx.TargetPlatform, ExternalID: lx.TargetExternalID,
			Settings: lx.TargetSettings, Credentials: lx.TargetCredentials}}
}

// campaignCacheTTL bounds how long a cached campaign serves, whatever its row version says.
const campaignCacheTTL = time.Minute

// campaignCache keeps campaigns as their rows were at a version, for the links that complete
// them: every link needs the campaign's outcomes, and it rarely changes.
type campaignCache struct {
	mu sync.Mutex
	m  map[int64]cachedCampaign
}

type cachedCampaign struct {
	version int64
	at      time.Time
	camp    models.Campaign
}

func (c *campaignCache) get(id, version int64, now time.Time) (*models.Campaign, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || e.version != version || now.Sub(e.at) > campaignCacheTTL {
		return nil, false
	}
	camp := e.camp
	return &camp, true
}

func (c *campaignCache) put(camp *models.Campaign, version int64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[int64]cachedCampaign{}
	}
	c.m[camp.ID] = cachedCampaign{version: version, at: now, camp: *camp}
}

// completionCampaign is the token's campaign as its row is under the participation's lock: from
// the cache when that version is there, else read (and kept).
func (r *Runtime) completionCampaign(ctx context.Context, tx *store.Store, lc *linkCtx) (*models.Campaign, error) {
	now := r.now()
	if lc.campVersion != 0 {
		if camp, ok := r.campaigns.get(lc.tok.CampaignID, lc.campVersion, now); ok {
			return camp, nil
		}
	}
	camp, version, err := tx.CampaignWithRowVersion(ctx, lc.tok.TeamID, lc.tok.CampaignID)
	if err != nil {
		return nil, err
	}
	r.campaigns.put(camp, version, now)
	return camp, nil
}

// CardLink mints a link token for (campaign, source contact) inside tx and returns the card's
// button URL, {BASE_URL}/l/{token}; the participation records "card sent".
func (r *Runtime) CardLink(ctx context.Context, tx *store.Store, teamID, campaignID, contactID int64) (string, error) {
	camp, err := tx.Campaign(ctx, teamID, campaignID)
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrCardLinkFailed
	} else if err != nil {
		return "", err
	}
	if camp.Status != models.CampaignEnabled {
		return "", ErrCardDisabled
	}
	src, err1 := tx.Channel(ctx, teamID, camp.SourceChannelID)
	tgt, err2 := tx.Channel(ctx, teamID, camp.TargetChannelID)
	if err1 != nil || err2 != nil || src.Status == models.ChannelDisconnected || tgt.Status == models.ChannelDisconnected ||
		(tgt.Platform == models.LINE && tgt.Settings.LiffID == "") {
		return "", ErrCardLinkFailed
	}
	contact, err := tx.TeamContact(ctx, teamID, contactID)
	if err != nil || contact.ChannelID != src.ID {
		return "", ErrCardLinkFailed
	}
	now := r.now()
	raw, hash := newToken()
	t := &models.LinkToken{TeamID: teamID, CampaignID: camp.ID, SourceContactID: contactID, TokenHash: hash,
		CreatedAt: now, ExpiresAt: now.Add(camp.TokenTTL())}
	if tgt.Platform == models.WhatsApp {
		code := newCode()
		t.WACode = &code
	}
	if err := tx.CreateLinkToken(ctx, t); err != nil {
		return "", err
	}
	return r.cfg.BaseURL + "/l/" + raw, nil
}

// ClickKind is what the click page does.
type ClickKind string

// Click outcomes.
const (
	ClickRedirect   ClickKind = "redirect"    // straight on to LIFF or wa.me
	ClickFBAndroid  ClickKind = "fb_android"  // Facebook's Android in-app browser cannot open LINE
	ClickIOSInApp   ClickKind = "ios_in_app"  // Facebook/Instagram on iOS: open in the external browser
	ClickDesktop    ClickKind = "desktop"     // scan the QR code with the phone
	ClickNotExist   ClickKind = "not_exist"   // the six "does not exist" cases
	ClickExpired    ClickKind = "expired"     // past the campaign's token lifetime
	ClickUsed       ClickKind = "used"        // already linked
	ClickBadRequest ClickKind = "bad_request" // not a token at all
)

// Click is where a tapped card sends the customer. It never says whose link it is.
type Click struct {
	Kind      ClickKind
	Target    models.Platform
	NextURL   string // LIFF or wa.me
	LinkURL   string // this link itself, for copy / QR / open in browser
	IntentURL string // Android intent hand-off to the LINE app (Facebook on Android)
}

// ClickLink records a tap on a card's button and decides where the customer goes next.
func (r *Runtime) ClickLink(ctx context.Context, raw, userAgent string) (Click, error) {
	hash, ok := ParseToken(raw)
	if !ok {
		return Click{Kind: ClickNotExist}, nil
	}
	lx, err := r.st.LinkContextByHashSystem(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Click{Kind: ClickNotExist}, nil
	} else if err != nil {
		return Click{}, err
	}
	if !linkExists(lx) {
		return Click{Kind: ClickNotExist}, nil
	}
	lc := linkCtxOf(lx)
	tok := lc.tok
	now := r.now()
	if tok.UsedAt != nil {
		// Somewhere to go on to: the business's account on the target, never the customer's.
		return Click{Kind: ClickUsed, Target: lc.target.Platform, NextURL: r.accountURL(lc.target)}, nil
	}
	if !now.Before(tok.ExpiresAt) {
		return Click{Kind: ClickExpired, Target: lc.target.Platform}, nil
	}
	d := DetectDevice(userAgent)
	c := Click{Target: lc.target.Platform, LinkURL: r.cfg.BaseURL + "/l/" + raw}
	if lc.target.Platform == models.LINE {
		c.NextURL = r.cfg.LiffURL + "/" + url.PathEscape(lc.target.Settings.LiffID) + "?t=" + url.QueryEscape(raw)
	} else {
		c.NextURL = r.waURL(lc)
	}
	switch {
	case d.Kind == DeviceDesktop:
		c.Kind = ClickDesktop
	case lc.target.Platform == models.LINE && d.InApp == InAppFacebook && d.OS == OSAndroid:
		c.Kind = ClickFBAndroid
		c.IntentURL = intentURL(c.NextURL)
	case lc.target.Platform == models.LINE && d.OS == OSiOS && (d.InApp == InAppFacebook || d.InApp == InAppInsta):
		c.Kind = ClickIOSInApp
	default:
		c.Kind = ClickRedirect
	}
	err = r.st.RecordLinkClick(ctx, tok.TeamID, tok.CampaignID, tok.SourceContactID,
		store.ClickFacts{Device: d.Kind, OS: d.OS, InApp: d.InApp, Opened: c.Kind == ClickRedirect}, now)
	return c, err
}

// accountURL opens the target account in its app: the LINE official account's page (add
// friend, unblock, chat) or a WhatsApp chat with the number.
func (r *Runtime) accountURL(target *models.Channel) string {
	if target.Platform == models.LINE {
		basic := strings.TrimPrefix(target.Settings.BasicID, "@")
		if basic == "" {
			return ""
		}
		return r.cfg.LineAccountURL + "/%40" + url.PathEscape(basic)
	}
	return r.cfg.WAURL + "/" + waDigits(target)
}

func waDigits(target *models.Channel) string {
	if d := onlyDigits(target.Settings.DisplayNumber); d != "" {
		return d
	}
	return onlyDigits(target.ExternalID)
}

// waURL is the click-to-chat link with the campaign's message and the code prefilled.
func (r *Runtime) waURL(lc *linkCtx) string {
	digits := waDigits(lc.target)
	text := strings.TrimSpace(lc.camp.WAMessage)
	code := ""
	if lc.tok.WACode != nil {
		code = *lc.tok.WACode
	}
	if text != "" {
		text += "\n"
	}
	text += code
	return r.cfg.WAURL + "/" + digits + "?text=" + url.QueryEscape(text)
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// intentURL hands an https URL to the LINE app on Android, falling back to the URL itself.
// Community-reported, not documented by LINE: the page always shows visible fallbacks too.
func intentURL(next string) string {
	u, err := url.Parse(next)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return ""
	}
	return "intent://" + u.Host + u.RequestURI() + "#Intent;scheme=" + u.Scheme + ";package=jp.naver.line.android;S.browser_fallback_url=" +
		url.QueryEscape(next) + ";end"
}

// LinkStatus is the answer the LIFF page gets.
type LinkStatus string

// LIFF answers.
const (
	StatusLinked         LinkStatus = "linked"
	StatusFailed         LinkStatus = "failed"
	StatusFriendRequired LinkStatus = "friend_required"
)

// LinkResult is what became of a submission.
type LinkResult struct {
	Status       LinkStatus
	Reason       models.FailureReason // when failed
	AddFriendURL string               // when friend_required
	Blocked      bool                 // when friend_required: the user is known to have blocked the account
	Lang         string               // the LINE user's language, when known
}

// LIFFSubmission is what the LIFF page posts: the raw token and LINE's raw ID token, and
// whether the page found the user is not a friend (then only the visit is recorded).
type LIFFSubmission struct {
	Token         string
	IDToken       string
	NotFriend     bool
	LineUserAgent string
}

// LinkLIFF completes a link from the LIFF page: the ID token is verified with LINE for the
// target channel's LINE Login channel, and its subject becomes the target contact.
func (r *Runtime) LinkLIFF(ctx context.Context, in LIFFSubmission) (LinkResult, error) {
	hash, ok := ParseToken(in.Token)
	if !ok {
		return LinkResult{}, ErrLinkNotExist
	}
	if in.IDToken == "" || len(in.IDToken) > 4096 {
		return LinkResult{}, ErrIDTokenRejected
	}
	// One query, outside any transaction: nothing is locked while LINE verifies the ID token.
	lx, err := r.st.LinkContextByHashSystem(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return LinkResult{}, ErrLinkNotExist
	} else if err != nil {
		return LinkResult{}, err
	}
	gone, ok := goneAfterClick(lx)
	if !ok {
		return LinkResult{}, ErrLinkNotExist
	}
	lc := linkCtxOf(lx)
	lc.gone = gone
	tok := lc.tok
	if lc.target.Platform != models.LINE || lc.target.Settings.LoginChannelID == "" {
		return LinkResult{}, ErrLinkNotExist
	}
	if tok.UsedAt == nil && !r.now().Before(tok.ExpiresAt) {
		return LinkResult{}, ErrLinkExpired
	}
	idt, err := r.verify.VerifyIDToken(ctx, in.IDToken, lc.target.Settings.LoginChannelID)
	var ite *line.IDTokenError
	switch {
	case errors.As(err, &ite):
		return LinkResult{}, ErrIDTokenRejected.Wrap(err)
	case err != nil:
		return LinkResult{}, ErrLineUnavailable.Wrap(err)
	}
	if in.NotFriend && lc.gone == "" {
		return r.friendRequired(ctx, lc, idt)
	}
	target := store.ContactActivity{TeamID: lc.target.TeamID, ChannelID: lc.target.ID, ExternalUserID: idt.Sub, Name: idt.Name}
	if lc.gone == "" && r.profiles != nil {
		// The Messaging API has the profile the account sees, and answers only for a friend:
		// LINE's word on friendship outranks what the page reported.
		prof, err := r.profiles.LINEProfile(ctx, lc.target, idt.Sub)
		switch {
		case errors.Is(err, line.ErrNotFound):
			return r.friendRequired(ctx, lc, idt)
		case err != nil:
			r.log.Warn("LINE profile not read; linking with the ID token's name", "channel", lc.target.ID, "error", err)
			if r.health != nil {
				if _, herr := r.health.ReportFailure(ctx, lc.target, err); herr != nil {
					r.log.Error("reporting a LINE profile failure to the health monitor failed", "channel", lc.target.ID, "error", herr)
				}
			}
		default:
			now := r.now()
			target.Name = cmp.Or(prof.DisplayName, idt.Name)
			target.Friendship, target.FriendshipAt = models.FriendshipFriend, &now
		}
	}
	var res LinkResult
	err = r.st.WithTx(ctx, func(tx *store.Store) error {
		if lc.gone != "" {
			// No target contact is made on a channel that is gone.
			res, err = r.complete(ctx, tx, lc, 0, false, hashIDToken(in.IDToken), idt.Sub)
			return err
		}
		targetID, created, err := tx.UpsertContact(ctx, target)
		if err != nil {
			return err
		}
		res, err = r.complete(ctx, tx, lc, targetID, created, hashIDToken(in.IDToken), idt.Sub)
		return err
	})
	if _, typed := apperr.From(err); err != nil && !typed && ctx.Err() == nil {
		// Not the customer's doing: the participation ends as the spec's "Internal server
		// error", which the statistics show; tapping the card again may still link.
		r.log.Error("linking failed", "campaign", lc.tok.CampaignID, "error", err.Error())
		recorded, ierr := r.failInternal(ctx, lc, err)
		if ierr != nil {
			r.log.Error("recording an internal linking failure failed", "campaign", lc.tok.CampaignID, "error", ierr.Error())
		}
		if !recorded {
			return res, err
		}
		res, err = LinkResult{Status: StatusFailed, Reason: models.ReasonInternal}, nil
	}
	if err == nil && r.notify != nil {
		r.notify.Notify()
	}
	return res, err
}

// failInternal ends an unfinished participation with "Internal server error" in a transaction
// of its own, the linking one having failed with cause; recorded is false when the
// participation was linked meanwhile or could not be written.
func (r *Runtime) failInternal(ctx context.Context, lc *linkCtx, cause error) (recorded bool, err error) {
	err = r.st.WithTx(ctx, func(tx *store.Store) error {
		a, err := tx.LinkAttemptForUpdate(ctx, lc.tok.TeamID, lc.tok.CampaignID, lc.tok.SourceContactID)
		if err != nil || a.Status == models.AttemptLinked {
			return err
		}
		camp, err := r.completionCampaign(ctx, tx, lc)
		if err != nil {
			return err
		}
		lc.camp = camp
		if err := r.markFailed(ctx, tx, a, models.ReasonInternal, truncate(cause.Error(), 300)); err != nil {
			return err
		}
		recorded = true
		// The failure message may hit what failed the link: in a savepoint, so the reason stays.
		if err := r.savepoint(ctx, tx, func(sp *store.Store) error {
			return r.failureMessage(ctx, sp, lc, a)
		}); err != nil {
			r.activity(ctx, tx, lc.camp, "failure_source", "send_failed", err.Error())
		}
		return nil
	})
	return recorded && err == nil, err
}

// friendRequired records that the customer reached LIFF but is not a friend (or blocked):
// nothing is sent and nothing is linked now.
func (r *Runtime) friendRequired(ctx context.Context, lc *linkCtx, idt line.IDToken) (LinkResult, error) {
	err := r.st.WithTx(ctx, func(tx *store.Store) error {
		a, err := tx.LinkAttemptForUpdate(ctx, lc.tok.TeamID, lc.tok.CampaignID, lc.tok.SourceContactID)
		if err != nil {
			return err
		}
		now := r.now()
		if a.FriendRequiredAt == nil {
			a.FriendRequiredAt = &now
		}
		if a.OpenedAt == nil {
			a.OpenedAt = &now // the add-friend screen is on the LIFF page
		}
		a.LiffVerifiedAt, a.LiffUserID, a.UpdatedAt = &now, idt.Sub, now
		return tx.SaveLinkAttempt(ctx, a)
	})
	res := LinkResult{Status: StatusFriendRequired, AddFriendURL: r.accountURL(lc.target)}
	if err != nil {
		return res, err
	}
	// LINE answers "not a friend" alike for both; an unfollow event we kept tells them apart,
	// and a customer who blocked the account must be told to unblock it, not to add it.
	c, cerr := r.st.ContactByExternalID(ctx, lc.target.TeamID, lc.target.ID, idt.Sub)
	if cerr != nil && !errors.Is(cerr, store.ErrNotFound) {
		// The visit is recorded; the generic add-friend screen (which mentions unblocking) will do.
		r.log.Warn("LINE friendship not read", "channel", lc.target.ID, "error", cerr.Error())
	}
	res.Blocked = c != nil && c.LineFriendship == models.FriendshipBlocked
	return res, nil
}

// complete links the token's source contact to targetID inside tx and queues the outcome.
// The participation's row lock makes concurrent completions of one pair (one token or two)
// happen one after the other: the first links, the rest see it done.
func (r *Runtime) complete(ctx context.Context, tx *store.Store, lc *linkCtx, targetID int64, created bool, idHash []byte, lineUser string) (LinkResult, error) {
	// The participation's row lock also holds its source contact: deleting the contact would
	// delete the participation (and its tokens) with it, so a missing row is a missing link.
	a, err := tx.LinkAttemptForUpdate(ctx, lc.tok.TeamID, lc.tok.CampaignID, lc.tok.SourceContactID)
	if errors.Is(err, store.ErrNotFound) {
		return LinkResult{}, ErrLinkNotExist
	} else if err != nil {
		return LinkResult{}, err
	}
	if a.Status == models.AttemptLinked {
		if a.TargetContactID != nil && *a.TargetContactID == targetID {
			return LinkResult{Status: StatusLinked}, nil
		}
		return LinkResult{}, ErrLinkUsed
	}
	// After the lock, in a statement of its own so that a submission that waited sees what
	// committed meanwhile: a replayed ID token is refused with nothing written (not ended as a
	// failure by the merge's rules; the unique index on the hash stands behind this), and the
	// campaign is taken as its row is now.
	used, campVersion, err := tx.LinkCompletionChecksSystem(ctx, lc.tok.CampaignID, idHash)
	if err != nil {
		return LinkResult{}, err
	}
	if used {
		return LinkResult{}, ErrIDTokenReplayed
	}
	lc.campVersion = campVersion
	now := r.now()
	if a.FirstClickedAt == nil {
		a.FirstClickedAt = &now
	}
	if a.OpenedAt == nil {
		// Whoever completes has reached the target, whichever way (a QR code scanned by
		// another phone, a forwarded link): the funnel's steps never exceed the one before.
		a.OpenedAt = &now
	}
	a.UpdatedAt, a.TargetContactID = now, nil
	if targetID != 0 {
		a.TargetContactID = &targetID
	}
	if lineUser != "" {
		a.LiffVerifiedAt, a.LiffUserID = &now, lineUser
	}
	camp, err := r.completionCampaign(ctx, tx, lc)
	if err != nil {
		return LinkResult{}, ErrLinkNotExist
	}
	lc.camp = camp
	if camp.Status != models.CampaignEnabled {
		return r.fail(ctx, tx, lc, a, models.ReasonDisabled, "")
	}
	if lc.gone != "" {
		return r.fail(ctx, tx, lc, a, lc.gone, "")
	}
	linked, err := identity.Link(ctx, tx, lc.tok.TeamID, lc.tok.SourceContactID, targetID, "campaign:"+strconv.FormatInt(camp.ID, 10), now)
	var ce *identity.ConflictError
	switch {
	case errors.As(err, &ce):
		return r.fail(ctx, tx, lc, a, models.ReasonMemberConflict, ce.Error())
	case errors.Is(err, identity.ErrContactNotFound):
		return r.fail(ctx, tx, lc, a, models.ReasonTargetNotFound, "")
	case err != nil:
		return LinkResult{}, err
	}
	a.Status, a.Reason, a.ReasonDetail, a.CompletedAt, a.TargetCreated = models.AttemptLinked, "", "", &now, created
	a.IDTokenHash = idHash
	if err := tx.SaveLinkedAttempt(ctx, a, now); err != nil {
		if isIDTokenReplay(err) {
			return LinkResult{}, ErrIDTokenReplayed
		}
		return LinkResult{}, err
	}
	if err := r.outcomeSuccess(ctx, tx, lc, a, targetID); err != nil {
		return LinkResult{}, err
	}
	// After the outcome, so the event carries the tags the campaign applied.
	if r.events != nil {
		if err := r.events.LinkEvent(ctx, tx, lc.tok.TeamID, camp.ID, lc.tok.SourceContactID, targetID, linked.MergeID, now); err != nil {
			return LinkResult{}, err
		}
	}
	return LinkResult{Status: StatusLinked}, nil
}

func isIDTokenReplay(err error) bool {
	return err != nil && strings.Contains(err.Error(), "link_attempts_id_token_hash_key")
}

// fail records a failure reason and queues the optional failure message on the source channel.
func (r *Runtime) fail(ctx context.Context, tx *store.Store, lc *linkCtx, a *models.LinkAttempt, reason models.FailureReason, detail string) (LinkResult, error) {
	if err := r.markFailed(ctx, tx, a, reason, detail); err != nil {
		return LinkResult{}, err
	}
	if err := r.failureMessage(ctx, tx, lc, a); err != nil {
		return LinkResult{}, err
	}
	return LinkResult{Status: StatusFailed, Reason: reason}, nil
}

// markFailed ends a participation with reason.
func (r *Runtime) markFailed(ctx context.Context, tx *store.Store, a *models.LinkAttempt, reason models.FailureReason, detail string) error {
	now := r.now()
	a.Status, a.Reason, a.ReasonDetail, a.CompletedAt, a.UpdatedAt = models.AttemptFailed, reason, detail, &now, now
	return tx.SaveLinkAttempt(ctx, a)
}

// failureMessage queues the campaign's optional failure message for a failed participation.
func (r *Runtime) failureMessage(ctx context.Context, tx *store.Store, lc *linkCtx, a *models.LinkAttempt) error {
	key := fmt.Sprintf("campaign:%d:attempt:%d:failure:%s", lc.camp.ID, a.ID, a.Reason)
	return r.action(ctx, tx, lc.camp, lc.tok.SourceContactID, lc.camp.FailureSource, key, "failure_source")
}

// outcomeSuccess queues the success messages and applies the tags. Platform refusals are not
// failure reasons: what could not be done goes to the campaign's activity log. The link itself
// is not logged there (the participation and the merge record it), so a busy campaign's log
// still shows its edits and its problems. An error means tx is aborted.
func (r *Runtime) outcomeSuccess(ctx context.Context, tx *store.Store, lc *linkCtx, a *models.LinkAttempt, targetID int64) error {
	base := fmt.Sprintf("campaign:%d:attempt:%d:", lc.camp.ID, a.ID)
	if err := r.action(ctx, tx, lc.camp, targetID, lc.camp.SuccessTarget, base+"success_target", "success_target"); err != nil {
		return err
	}
	if err := r.action(ctx, tx, lc.camp, lc.tok.SourceContactID, lc.camp.SuccessSource, base+"success_source", "success_source"); err != nil {
		return err
	}
	for _, t := range []struct {
		contact int64
		ids     models.IDList
		which   string
	}{{lc.tok.SourceContactID, lc.camp.TagsSource, "tags_source"}, {targetID, lc.camp.TagsTarget, "tags_target"}} {
		if len(t.ids) == 0 {
			continue
		}
		if r.tags == nil {
			r.activity(ctx, tx, lc.camp, t.which, "tags_not_applied", "tags not available")
			continue
		}
		if err := r.savepoint(ctx, tx, func(tx *store.Store) error {
			return r.tags.ApplyCampaignTags(ctx, tx, lc.camp.TeamID, t.contact, lc.camp.ID, t.ids)
		}); err != nil {
			r.activity(ctx, tx, lc.camp, t.which, "tags_failed", err.Error())
		}
	}
	return nil
}

// action sends one configured success or failure message to a contact. What the send refuses
// goes to the activity log; an error is returned only when tx can no longer be used.
func (r *Runtime) action(ctx context.Context, tx *store.Store, camp *models.Campaign, contactID int64, act models.Action, key, which string) error {
	cause := "campaign:" + strconv.FormatInt(camp.ID, 10) + ":" + which
	var res messaging.Result
	var err error
	switch act.Kind {
	case models.ActionText:
		if r.send == nil {
			r.activity(ctx, tx, camp, which, "skipped", "sending not available")
			return nil
		}
		// No savepoint: a text send refuses (a missing contact, content over a limit) with a
		// typed error before it writes. Any other error came from the database, which has
		// aborted tx: the link fails with that cause rather than at commit.
		res, err = r.send.Send(ctx, tx, messaging.SendRequest{TeamID: camp.TeamID, ContactID: contactID,
			Content: models.TextContent(act.Text), IdempotencyKey: key, Cause: cause, Automated: true})
		var refused *apperr.Error
		if err != nil && !errors.As(err, &refused) {
			return fmt.Errorf("campaign %d %s: %w", camp.ID, which, err)
		}
	case models.ActionModule:
		if r.modules == nil || act.ModuleID == nil {
			r.activity(ctx, tx, camp, which, "skipped", "modules not available")
			return nil
		}
		err = r.savepoint(ctx, tx, func(tx *store.Store) error {
			res, err = r.modules.SendModule(ctx, tx, camp.TeamID, contactID, *act.ModuleID, key, cause)
			return err
		})
	default:
		return nil
	}
	switch {
	case err != nil:
		r.activity(ctx, tx, camp, which, "send_failed", err.Error())
	case res.Outcome != models.SendQueued && !res.Duplicate:
		r.activity(ctx, tx, camp, which, string(res.Outcome), "")
	}
	return nil
}

// savepoint runs fn in a nested transaction, so a failed send or tag does not void the link.
func (r *Runtime) savepoint(ctx context.Context, tx *store.Store, fn func(tx *store.Store) error) error {
	return tx.WithTx(ctx, fn)
}

// activity writes one line of the campaign's activity log.
func (r *Runtime) activity(ctx context.Context, tx *store.Store, camp *models.Campaign, what, outcome, detail string) {
	err := tx.AddAudit(ctx, &models.AuditEntry{TeamID: camp.TeamID, Action: "campaign.activity", Target: target(camp.ID),
		Detail: models.JSONMap{"what": what, "outcome": outcome, "detail": truncate(detail, 300)}, CreatedAt: r.now()})
	if err != nil {
		r.log.Warn("campaign activity not recorded", "campaign", camp.ID, "error", err)
	}
}

// MatchWhatsApp links the sender of an inbound WhatsApp message when the message carries the
// code of an open link whose campaign targets this number; anything else does nothing. It runs
// in the webhook's transaction; contactID is the sender's contact on ch.
func (r *Runtime) MatchWhatsApp(ctx context.Context, tx *store.Store, ch *models.Channel, contactID int64, text string) error {
	if ch.Platform != models.WhatsApp {
		return nil
	}
	code := FindCode(text)
	if code == "" {
		return nil
	}
	tok, err := tx.OpenLinkTokenByCodeSystem(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if tok.TeamID != ch.TeamID || !r.now().Before(tok.ExpiresAt) {
		return nil
	}
	lc, err := r.resolve(ctx, tx, tok, true)
	if err != nil || lc.target.ID != ch.ID {
		return nil
	}
	// The sender is a new target contact when WhatsApp first heard of them after the card was
	// sent: the message with the code is what made the contact.
	sender, err := tx.TeamContact(ctx, ch.TeamID, contactID)
	if err != nil {
		return err
	}
	_, err = r.complete(ctx, tx, lc, contactID, !sender.FirstSeenAt.Before(tok.CreatedAt), nil, "")
	if errors.Is(err, ErrLinkUsed) {
		return nil
	}
	if err == nil && r.notify != nil {
		r.notify.Notify()
	}
	return err
}

// ContactChoice is a source-channel contact the console can send a card to.
type ContactChoice struct {
	ID   int64
	Name string
	Ext  string
}

// SourceContacts lists contacts of the campaign's source channel for "send to a contact".
func (r *Runtime) SourceContacts(ctx context.Context, teamID, campaignID int64) ([]ContactChoice, error) {
	camp, err := r.st.Campaign(ctx, teamID, campaignID)
	if err != nil {
		return nil, err
	}
	cs, err := r.st.TeamContactsOnChannel(ctx, teamID, camp.SourceChannelID, 200)
	if err != nil {
		return nil, err
	}
	out := make([]ContactChoice, 0, len(cs))
	for _, c := range cs {
		out = append(out, ContactChoice{ID: c.ID, Name: c.Name, Ext: c.ExternalUserID})
	}
	return out, nil
}

// SendCard sends the campaign's card to one of its source channel's contacts from the console.
func (r *Runtime) SendCard(ctx context.Context, actor *models.User, campaignID, contactID int64) (messaging.Result, error) {
	var res messaging.Result
	err := r.st.WithTx(ctx, func(tx *store.Store) error {
		camp, err := tx.Campaign(ctx, actor.TeamID, campaignID)
		if err != nil {
			return err
		}
		link, err := r.CardLink(ctx, tx, actor.TeamID, campaignID, contactID)
		if err != nil {
			return err
		}
		content, err := r.CardContent(ctx, tx, camp, link)
		if err != nil {
			return err
		}
		if r.send == nil {
			return apperr.ErrInternal
		}
		res, err = r.send.Send(ctx, tx, messaging.SendRequest{TeamID: actor.TeamID, ContactID: contactID, Content: content,
			IdempotencyKey: "card:" + link[strings.LastIndex(link, "/")+1:], Cause: "campaign:" + strconv.FormatInt(campaignID, 10) + ":card",
			Automated: false})
		if err != nil {
			return err
		}
		return tx.AddAudit(ctx, &models.AuditEntry{TeamID: actor.TeamID, ActorUserID: &actor.ID, Action: "campaign.card_sent",
			Target: target(campaignID), Detail: models.JSONMap{"contact": contactID, "outcome": string(res.Outcome)}, CreatedAt: r.now()})
	})
	if err == nil && r.notify != nil {
		r.notify.Notify()
	}
	return res, err
}

// CardContent is the campaign's card as a message: image, title, text and the link button.
func (r *Runtime) CardContent(ctx context.Context, st *store.Store, camp *models.Campaign, link string) (models.Content, error) {
	b := models.Block{Kind: models.BlockCard, Title: camp.Card.Title, Text: camp.Card.Text,
		Buttons: []models.Button{{Kind: models.ButtonURL, Label: camp.Card.Button, URL: link}}}
	if camp.Card.MediaID != nil {
		m, err := st.Media(ctx, camp.TeamID, *camp.Card.MediaID)
		if err == nil {
			hash := m.CardHash
			// Facebook and Instagram cards show a 1:1 image: send the centre crop.
			if src, err := st.Channel(ctx, camp.TeamID, camp.SourceChannelID); err == nil && src.Platform.ViaFacebookLogin() {
				hash = m.SquareHash
			}
			b.ImageURL = r.cfg.BaseURL + "/media/" + hash + "." + models.MimeExt(m.Mime)
		}
	}
	return models.Content{Blocks: []models.Block{b}}, nil
}

// FailUnfinished closes participations that were clicked but whose cards all expired unused:
// they count as failures with no stored reason, as the statistics show them.
func (r *Runtime) FailUnfinished(ctx context.Context) (int64, error) {
	return r.st.FailUnfinishedAttemptsSystem(ctx, r.now())
}

// FollowGrace is how long after a verified LIFF visit a follow still completes the link.
const FollowGrace = 30 * time.Minute

// MatchLINEFollow completes, for campaigns that opted in, the links of a LINE user who met the
// add-friend screen and has now followed the target account; contactID is that user's contact
// on ch. It runs in the webhook's transaction.
func (r *Runtime) MatchLINEFollow(ctx context.Context, tx *store.Store, ch *models.Channel, contactID int64, lineUserID string, at time.Time) error {
	if ch.Platform != models.LINE || lineUserID == "" {
		return nil
	}
	cands, err := tx.TeamFollowCandidates(ctx, ch.TeamID, ch.ID, lineUserID, at.Add(-FollowGrace))
	if err != nil || len(cands) == 0 {
		return err
	}
	for _, c := range cands {
		tok, err := tx.LinkTokenSystem(ctx, c.LastTokenID)
		if err != nil || tok.TeamID != ch.TeamID {
			continue
		}
		lc, err := r.resolve(ctx, tx, tok, true)
		if err != nil || lc.target.ID != ch.ID {
			continue
		}
		if _, err := r.complete(ctx, tx, lc, contactID, false, nil, lineUserID); err != nil && !errors.Is(err, ErrLinkUsed) {
			return err
		}
	}
	if r.notify != nil {
		r.notify.Notify()
	}
	return nil
}
