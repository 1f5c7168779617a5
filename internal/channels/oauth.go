package channels

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/platform"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// StateTTL is how long a Facebook Login attempt may take.
const StateTTL = 10 * time.Minute

// dialogTTL is how long after starting Facebook Login its result may still be used to connect.
const dialogTTL = 30 * time.Minute

// Scopes each connection needs (protocols §1.2). Kept in one place: a wrong guess is one edit.
var (
	InstagramScopes = []string{"instagram_basic", "instagram_manage_messages", "pages_manage_metadata", "pages_read_engagement", "pages_show_list"}
	FacebookScopes  = []string{"pages_messaging", "pages_manage_metadata", "pages_read_engagement", "pages_show_list"}
	// messagingTasks: a Page role that may read and answer messages.
	messagingTasks = []string{"MANAGE", "MODERATE", "MESSAGING"}
)

func scopesFor(p models.Platform) []string {
	if p == models.Instagram {
		return InstagramScopes
	}
	return FacebookScopes
}

// Errors of the Facebook Login flow.
var (
	ErrStateInvalid   = &apperr.Error{Status: http.StatusBadRequest, Key: "channels.error_state"}
	ErrStateForeign   = &apperr.Error{Status: http.StatusForbidden, Key: "channels.error_state_foreign"}
	ErrNotFacebook    = apperr.Invalid("platform", "channels.error_platform")
	ErrNothingChosen  = apperr.Invalid("accounts", "channels.error_nothing_chosen")
	ErrPlatformFailed = &apperr.Error{Status: http.StatusBadGateway, Key: "channels.error_platform_call"}
)

// Outcome codes stored on an OAuth state (i18n keys).
const (
	CodeDenied         = "channels.outcome_denied"
	CodeFacebookError  = "channels.outcome_facebook_error"
	CodeExchangeFailed = "channels.outcome_exchange_failed"
	CodeReauthNotFound = "channels.outcome_reauth_not_visible"
	CodeReauthProblem  = "channels.outcome_reauth_problem"
	CodeReauthFailed   = "channels.outcome_reauth_failed"
	CodeReauthorized   = "channels.outcome_reauthorized"
	CodeAuthorized     = "channels.outcome_authorized"
	ProblemNoInstagram = "channels.problem_no_instagram"
	ProblemCreator     = "channels.problem_creator"
	ProblemTasks       = "channels.problem_tasks"
	ProblemScopes      = "channels.problem_scopes"
	ProblemOtherUser   = "channels.problem_other_user"
	// ProblemOtherUserPage is the same-user rule met from the other side: a Page connected by
	// another Facebook user than the team's Instagram accounts.
	ProblemOtherUserPage = "channels.problem_other_user_page"
	ProblemTakenByOther  = "channels.problem_taken"
	// NoteReauthorizeSibling: a channel on the same Page stays broken because the new token
	// is not proven to serve it; reauthorise it too.
	NoteReauthorizeSibling = "channels.note_reauthorize_sibling"
)

// Start is a begun Facebook Login: the dialog URL to open and the id the console polls.
type Start struct {
	URL     string
	StateID string
}

// StartOAuth begins Facebook Login for connecting purpose's accounts, or for reauthorising
// channelID in place. The state is single-use, bound to the user, team and session, and expires.
func (s *Service) StartOAuth(ctx context.Context, actor *models.User, sessionHash string, purpose models.Platform, channelID *int64, rerequest bool) (Start, error) {
	if channelID != nil {
		ch, err := s.st.Channel(ctx, actor.TeamID, *channelID)
		if err != nil {
			return Start{}, err
		}
		purpose = ch.Platform
	}
	if !purpose.ViaFacebookLogin() {
		return Start{}, ErrNotFacebook
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return Start{}, err
	}
	state := base64.RawURLEncoding.EncodeToString(raw)
	now := s.now()
	row := &models.OAuthState{ID: StateID(state), TeamID: actor.TeamID, UserID: actor.ID, SessionHash: sessionHash, Purpose: purpose,
		ChannelID: channelID, CreatedAt: now, ExpiresAt: now.Add(StateTTL)}
	if err := s.st.CreateOAuthState(ctx, row); err != nil {
		return Start{}, err
	}
	var opts []meta.AuthOption
	if rerequest {
		opts = append(opts, meta.Rerequest())
	}
	return Start{URL: s.meta.AuthCodeURL(s.oauth.RedirectURI, state, scopesFor(purpose), s.oauth.ConfigID, opts...), StateID: row.ID}, nil
}

// StateID is the stored (and polled) name of a state: its hash, so the secret itself is never kept.
func StateID(state string) string {
	h := sha256.Sum256([]byte(state))
	return hex.EncodeToString(h[:])
}

// Callback is what Facebook sent back to the redirect URI.
type Callback struct {
	State, Code, Error, ErrorReason, ErrorDescription string
}

// CompleteOAuth finishes Facebook Login: it checks the state, exchanges the code for a long-lived
// token, records the authorising user, and lists the accounts now available (or, when
// reauthorising, repairs the channel in place). Platform trouble is recorded as the outcome.
func (s *Service) CompleteOAuth(ctx context.Context, actor *models.User, sessionHash string, cb Callback) (*models.OAuthState, error) {
	if cb.State == "" {
		return nil, ErrStateInvalid
	}
	// Ownership is part of the claim itself: a state shown by another session (a leaked callback
	// URL, another tab signed in as someone else) is refused without being spent.
	st, err := s.st.ClaimOAuthState(ctx, StateID(cb.State), actor.TeamID, actor.ID, sessionHash, s.now())
	if errors.Is(err, store.ErrNotFound) {
		if other, lerr := s.st.OAuthStateSystem(ctx, StateID(cb.State)); lerr == nil && other.UsedAt == nil &&
			(other.TeamID != actor.TeamID || other.UserID != actor.ID || other.SessionHash != sessionHash) {
			return nil, ErrStateForeign
		}
		return nil, ErrStateInvalid
	}
	if err != nil {
		return nil, err
	}
	switch {
	case cb.Error != "" && (cb.Error == "access_denied" || cb.ErrorReason == "user_denied"):
		st.Outcome, st.OutcomeCode = "denied", CodeDenied
	case cb.Error != "" || cb.Code == "":
		st.Outcome, st.OutcomeCode = "failed", CodeFacebookError
	default:
		s.authorize(ctx, st, cb.Code)
	}
	if err := s.st.FinishOAuthState(ctx, st); err != nil {
		return nil, err
	}
	return st, nil
}

// authorize exchanges the code and fills st's outcome and candidates.
func (s *Service) authorize(ctx context.Context, st *models.OAuthState, code string) {
	fail := func(step string, err error) {
		ae := s.platformFailure(ctx, step, err, "team_id", st.TeamID)
		st.Outcome, st.OutcomeCode, st.OutcomeArgs = "failed", ae.Key, failureArgs(ae)
	}
	short, err := s.meta.ExchangeCode(ctx, code, s.oauth.RedirectURI)
	if err != nil {
		fail(StepExchange, err)
		return
	}
	long, err := s.meta.ExchangeLongLived(ctx, short.AccessToken)
	if err != nil {
		fail(StepExchange, err)
		return
	}
	me, err := s.meta.Me(ctx, long.AccessToken)
	if err != nil {
		fail(StepProfile, err)
		return
	}
	perms, err := s.meta.Permissions(ctx, long.AccessToken)
	if err != nil {
		fail(StepProfile, err)
		return
	}
	pages, err := s.meta.Accounts(ctx, long.AccessToken)
	if err != nil {
		fail(StepAccounts, err)
		return
	}
	auth := &models.MetaAuthorization{TeamID: st.TeamID, FBUserID: me.ID, FBUserName: me.Name,
		GrantedScopes: perms.Granted, DeclinedScopes: perms.Declined}
	auth.AccessToken = s.box.Seal([]byte(long.AccessToken), tokenAAD(st.TeamID, me.ID))
	if !long.ExpiresAt.IsZero() {
		auth.ExpiresAt = &long.ExpiresAt
	}
	if err := s.st.UpsertMetaAuthorization(ctx, auth); err != nil {
		s.log.ErrorContext(ctx, "storing the Facebook authorisation failed", "team_id", st.TeamID, "error", err)
		st.Outcome, st.OutcomeCode = "failed", CodeExchangeFailed
		return
	}
	st.AuthorizationID = &auth.ID
	cands, err := s.candidates(ctx, st.TeamID, st.Purpose, me.ID, perms, pages, st.ChannelID)
	if err != nil {
		s.log.ErrorContext(ctx, "listing Facebook Login candidates failed", "team_id", st.TeamID, "error", err)
		st.Outcome, st.OutcomeCode = "failed", CodeExchangeFailed
		return
	}
	st.Candidates = cands
	st.Outcome, st.OutcomeCode = "authorized", CodeAuthorized
	if st.ChannelID != nil {
		s.reauthorize(ctx, st, auth, pages)
	}
}

// otherPlatform is the Facebook Login platform that shares the same-user rule with p.
func otherPlatform(p models.Platform) models.Platform {
	if p == models.Instagram {
		return models.Facebook
	}
	return models.Instagram
}

// candidates lists the accounts Facebook Login made available, each with the reason it cannot
// be connected (the spec's checklist), if any. The first real cause is shown: the account
// itself, then a declined permission, then the Page role, and only then the same-user rule.
func (s *Service) candidates(ctx context.Context, teamID int64, purpose models.Platform, fbUserID string, perms meta.Permissions, pages []meta.Page, reauth *int64) (models.Candidates, error) {
	missing := missingScopes(purpose, perms)
	// Spec rule: one Facebook user connects a team's Pages and its Instagram accounts, whichever
	// came first. When reauthorising, channels that are broken too do not bind the choice.
	authorizers, err := s.st.TeamMetaAuthorizers(ctx, teamID, otherPlatform(purpose), reauth != nil)
	if err != nil {
		return nil, err
	}
	var otherUser string
	if len(authorizers) > 0 && !slices.ContainsFunc(authorizers, func(a models.MetaAuthorization) bool { return a.FBUserID == fbUserID }) {
		var names []string
		for _, a := range authorizers {
			if !slices.Contains(names, a.FBUserName) {
				names = append(names, a.FBUserName)
			}
		}
		otherUser = strings.Join(names, "、")
	}
	var out models.Candidates
	for _, p := range pages {
		c := models.Candidate{Platform: purpose, ID: p.ID, Name: p.Name, PictureURL: p.PictureURL, PageID: p.ID, PageName: p.Name}
		if purpose == models.Instagram {
			switch {
			case p.Instagram != nil:
				c.ID, c.Name, c.Username, c.PictureURL = p.Instagram.ID, firstNonEmpty(p.Instagram.Name, p.Instagram.Username), p.Instagram.Username, p.Instagram.ProfilePictureURL
			case p.ConnectedInstagram != nil:
				c.ID, c.Name, c.Username = p.ConnectedInstagram.ID, p.ConnectedInstagram.Username, p.ConnectedInstagram.Username
				c.Problem = ProblemCreator
			default:
				c.ID = ""
				c.Problem = ProblemNoInstagram
			}
		}
		if c.Problem == "" {
			switch {
			case len(missing) > 0:
				c.Problem = ProblemScopes
				c.ProblemArgs = models.Args{"Scopes": strings.Join(missing, ", ")}
			case !hasAnyTask(p.Tasks, messagingTasks):
				c.Problem = ProblemTasks
			case otherUser != "":
				c.Problem = ProblemOtherUser
				if purpose == models.Facebook {
					c.Problem = ProblemOtherUserPage
				}
				c.ProblemArg = otherUser
			}
		}
		if c.ID != "" {
			if ch, err := s.st.LiveChannelByAccountSystem(ctx, purpose, c.ID); err == nil {
				if ch.TeamID == teamID {
					c.Connected = true
				} else if c.Problem == "" {
					c.Problem = ProblemTakenByOther
				}
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func missingScopes(p models.Platform, perms meta.Permissions) []string {
	var out []string
	for _, sc := range scopesFor(p) {
		if !slices.Contains(perms.Granted, sc) {
			out = append(out, sc)
		}
	}
	return out
}

func hasAnyTask(tasks, want []string) bool {
	for _, t := range tasks {
		if slices.Contains(want, t) {
			return true
		}
	}
	return false
}

func firstNonEmpty(a ...string) string {
	for _, s := range a {
		if s != "" {
			return s
		}
	}
	return ""
}

// reauthorize repairs the state's channel in place when the new grant can see its account;
// otherwise the channel stays exactly as it was.
func (s *Service) reauthorize(ctx context.Context, st *models.OAuthState, auth *models.MetaAuthorization, pages []meta.Page) {
	ch, err := s.st.Channel(ctx, st.TeamID, *st.ChannelID)
	if err != nil {
		st.Outcome, st.OutcomeCode = "failed", CodeReauthNotFound
		return
	}
	var cand *models.Candidate
	for i := range st.Candidates {
		if st.Candidates[i].ID == ch.ExternalID {
			cand = &st.Candidates[i]
		}
	}
	if cand == nil {
		st.Outcome, st.OutcomeCode = "failed", CodeReauthNotFound
		if users, err := s.st.TeamFacebookUsersToUse(ctx, st.TeamID); err == nil && users[ch.ID] != "" {
			st.OutcomeArgs = models.Args{"User": users[ch.ID]}
		}
		return
	}
	if cand.Problem != "" {
		st.Outcome, st.OutcomeCode = "failed", CodeReauthProblem
		st.OutcomeArgs = models.Args{"Problem": cand.Problem, "User": cand.ProblemArg, "Page": cand.PageName}
		for k, v := range cand.ProblemArgs {
			st.OutcomeArgs[k] = v
		}
		return
	}
	page := pageOf(pages, cand.PageID)
	if err := s.attach(ctx, ch, auth, page); err != nil {
		st.Outcome, st.OutcomeCode = "failed", CodeReauthFailed
		if ae, ok := apperr.From(err); ok {
			st.OutcomeArgs = failureArgs(ae)
			st.OutcomeArgs["Failure"] = ae.Key
		}
		return
	}
	st.Outcome, st.OutcomeCode = "reauthorized", CodeReauthorized
	st.Notes = s.repairSiblings(ctx, ch, auth, page)
}

// RequiredScopes are the permissions each Meta channel cannot work without: messaging and
// webhook subscription for Pages, the Instagram messaging set for Instagram (through its Page),
// messaging and number management for WhatsApp. The health check asks debug_token for them.
var RequiredScopes = map[models.Platform][]string{
	models.Facebook:  {"pages_messaging", "pages_manage_metadata"},
	models.Instagram: {"instagram_basic", "instagram_manage_messages", "pages_manage_metadata"},
	models.WhatsApp:  {"whatsapp_business_messaging", "whatsapp_business_management"},
}

// repairSiblings looks at the team's other broken channels on the same Page (a Page and the
// Instagram account linked to it share one Page token, so they break together). A sibling gets
// the new token only when debug_token and the Page's tasks prove the token serves it; otherwise
// it stays broken, and the returned notes ask for it to be reauthorised too.
func (s *Service) repairSiblings(ctx context.Context, repaired *models.Channel, auth *models.MetaAuthorization, page meta.Page) models.Notes {
	list, err := s.st.TeamBrokenChannels(ctx, repaired.TeamID)
	if err != nil {
		s.log.WarnContext(ctx, "list channels sharing the Page", "team_id", repaired.TeamID, "error", err)
		return nil
	}
	var notes models.Notes
	var info *meta.TokenInfo
	for i := range list {
		sib := &list[i]
		samePage := (sib.Platform == models.Facebook && sib.ExternalID == page.ID) || (sib.Platform == models.Instagram && sib.Settings.PageID == page.ID)
		if sib.ID == repaired.ID || !samePage {
			continue
		}
		note := models.Note{Key: NoteReauthorizeSibling, Args: models.Args{"Platform": string(sib.Platform), "Name": sib.DisplayName, "ID": fmt.Sprint(sib.ID)}}
		if info == nil {
			ti, err := s.meta.DebugToken(ctx, page.AccessToken)
			if err != nil {
				s.platformFailure(ctx, StepTokenCheck, err, "team_id", sib.TeamID, "channel_id", sib.ID)
				notes = append(notes, note)
				continue
			}
			info = &ti
		}
		if why := serves(*info, page, sib, s.now()); why != "" {
			note.Args["Missing"] = why
			notes = append(notes, note)
			continue
		}
		if err := s.attach(ctx, sib, auth, page); err != nil {
			s.log.WarnContext(ctx, "repair channel sharing the Page", "channel_id", sib.ID, "error", err)
			notes = append(notes, note)
		}
	}
	return notes
}

// serves says why token (described by info, read for page) cannot serve ch, or "" when it can:
// it must be valid, carry ch's required scopes (granular ones must name the account), and the
// user's Page tasks must allow messaging; an Instagram account must be the one linked to page.
func serves(info meta.TokenInfo, page meta.Page, ch *models.Channel, now time.Time) string {
	if c := info.Classify(now); c.Class != platform.ClassNone {
		return c.String()
	}
	if miss := info.MissingScopes(RequiredScopes[ch.Platform]...); len(miss) > 0 {
		return strings.Join(miss, ", ")
	}
	for _, g := range info.GranularScopes {
		if slices.Contains(RequiredScopes[ch.Platform], g.Scope) && len(g.TargetIDs) > 0 && !slices.Contains(g.TargetIDs, ch.ExternalID) {
			return g.Scope + " (" + ch.ExternalID + ")"
		}
	}
	if !hasAnyTask(page.Tasks, messagingTasks) {
		return "MESSAGING"
	}
	if ch.Platform == models.Instagram && (page.Instagram == nil || page.Instagram.ID != ch.ExternalID) {
		return "instagram_business_account"
	}
	return ""
}

func pageOf(pages []meta.Page, id string) meta.Page {
	for _, p := range pages {
		if p.ID == id {
			return p
		}
	}
	return meta.Page{}
}

// attach gives a channel fresh credentials from page, subscribes its webhooks, confirms the
// subscription, and marks it active. Nothing is written unless all of that succeeds.
func (s *Service) attach(ctx context.Context, ch *models.Channel, auth *models.MetaAuthorization, page meta.Page) error {
	if page.AccessToken == "" {
		// The Page is no longer among the user's accounts, or came without a token.
		s.log.WarnContext(ctx, "facebook call failed", "step", "page_token", "team_id", ch.TeamID, "platform", string(ch.Platform), "account_id", ch.ExternalID)
		return &apperr.Error{Status: http.StatusUnprocessableEntity, Key: FailedNoPageToken, Args: map[string]any{"Step": StepPageToken}}
	}
	if err := s.meta.SubscribeApp(ctx, page.ID, page.AccessToken, meta.WebhookFields(meta.ObjectPage)); err != nil {
		return s.platformFailure(ctx, StepSubscribe, err, "team_id", ch.TeamID, "page_id", page.ID)
	}
	apps, err := s.meta.SubscribedApps(ctx, page.ID, page.AccessToken)
	if err != nil {
		return s.platformFailure(ctx, StepConfirm, err, "team_id", ch.TeamID, "page_id", page.ID)
	}
	if len(apps) == 0 {
		return s.platformFailure(ctx, StepConfirm, fmt.Errorf("%w: subscription not visible after subscribing", meta.ErrUnexpectedAnswer), "team_id", ch.TeamID, "page_id", page.ID)
	}
	if err := s.sealCredentials(ch, models.Credentials{AccessToken: page.AccessToken}); err != nil {
		return err
	}
	ch.AuthorizedBy = &auth.ID
	ch.TokenExpiresAt = auth.ExpiresAt
	ch.Settings.PageID = page.ID
	if page.PictureURL != "" && ch.Platform == models.Facebook {
		ch.PictureURL = page.PictureURL
	}
	return s.activate(ctx, ch)
}
