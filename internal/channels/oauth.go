package channels

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/meta"
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
	// PageWebhookFields are subscribed on every connected Page (and the Page linked to an Instagram account).
	PageWebhookFields = []string{"messages", "messaging_postbacks", "message_reactions", "messaging_seen", "message_echoes"}
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
	CodeDenied          = "channels.outcome_denied"
	CodeFacebookError   = "channels.outcome_facebook_error"
	CodeExchangeFailed  = "channels.outcome_exchange_failed"
	CodeReauthNotFound  = "channels.outcome_reauth_not_visible"
	CodeReauthProblem   = "channels.outcome_reauth_problem"
	CodeReauthorized    = "channels.outcome_reauthorized"
	CodeAuthorized      = "channels.outcome_authorized"
	ProblemNoInstagram  = "channels.problem_no_instagram"
	ProblemCreator      = "channels.problem_creator"
	ProblemTasks        = "channels.problem_tasks"
	ProblemScopes       = "channels.problem_scopes"
	ProblemOtherUser    = "channels.problem_other_user"
	ProblemTakenByOther = "channels.problem_taken"
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
	fail := func(code string, err error) {
		slog.WarnContext(ctx, "facebook login failed", "team_id", st.TeamID, "stage", code, "error", err)
		st.Outcome, st.OutcomeCode = "failed", CodeExchangeFailed
	}
	short, err := s.meta.ExchangeCode(ctx, code, s.oauth.RedirectURI)
	if err != nil {
		fail("exchange", err)
		return
	}
	long, err := s.meta.ExchangeLongLived(ctx, short.AccessToken)
	if err != nil {
		fail("long-lived", err)
		return
	}
	me, err := s.meta.Me(ctx, long.AccessToken)
	if err != nil {
		fail("me", err)
		return
	}
	perms, err := s.meta.Permissions(ctx, long.AccessToken)
	if err != nil {
		fail("permissions", err)
		return
	}
	pages, err := s.meta.Accounts(ctx, long.AccessToken)
	if err != nil {
		fail("accounts", err)
		return
	}
	auth := &models.MetaAuthorization{TeamID: st.TeamID, FBUserID: me.ID, FBUserName: me.Name,
		GrantedScopes: perms.Granted, DeclinedScopes: perms.Declined}
	auth.AccessToken = s.box.Seal([]byte(long.AccessToken), tokenAAD(st.TeamID, me.ID))
	if !long.ExpiresAt.IsZero() {
		auth.ExpiresAt = &long.ExpiresAt
	}
	if err := s.st.UpsertMetaAuthorization(ctx, auth); err != nil {
		fail("store", err)
		return
	}
	st.AuthorizationID = &auth.ID
	cands, err := s.candidates(ctx, st.TeamID, st.Purpose, me.ID, perms, pages)
	if err != nil {
		fail("candidates", err)
		return
	}
	st.Candidates = cands
	st.Outcome, st.OutcomeCode = "authorized", CodeAuthorized
	if st.ChannelID != nil {
		s.reauthorize(ctx, st, auth, pages)
	}
}

// candidates lists the accounts Facebook Login made available, each with the reason it cannot
// be connected (the spec's checklist), if any.
func (s *Service) candidates(ctx context.Context, teamID int64, purpose models.Platform, fbUserID string, perms meta.Permissions, pages []meta.Page) (models.Candidates, error) {
	missing := missingScopes(purpose, perms)
	// Spec rule: once a Page of this team is connected by Facebook user X, Instagram must be connected by X too.
	var otherUser string
	if purpose == models.Instagram {
		authorizers, err := s.st.TeamFacebookAuthorizers(ctx, teamID)
		if err != nil {
			return nil, err
		}
		if len(authorizers) > 0 && !slices.ContainsFunc(authorizers, func(a models.MetaAuthorization) bool { return a.FBUserID == fbUserID }) {
			names := make([]string, len(authorizers))
			for i, a := range authorizers {
				names[i] = a.FBUserName
			}
			otherUser = strings.Join(names, "、")
		}
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
			case otherUser != "":
				c.Problem = ProblemOtherUser
				c.ProblemArg = otherUser
			case len(missing) > 0:
				c.Problem = ProblemScopes
			case !hasAnyTask(p.Tasks, messagingTasks):
				c.Problem = ProblemTasks
			}
		}
		if c.ID != "" {
			if ch, err := s.st.LiveChannelByAccount(ctx, purpose, c.ID); err == nil {
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
		return
	}
	if cand.Problem != "" && cand.Problem != ProblemOtherUser {
		st.Outcome, st.OutcomeCode = "failed", CodeReauthProblem
		return
	}
	page := pageOf(pages, cand.PageID)
	if err := s.attach(ctx, ch, auth, page); err != nil {
		slog.WarnContext(ctx, "reauthorise failed", "channel_id", ch.ID, "error", err)
		st.Outcome, st.OutcomeCode = "failed", CodeReauthProblem
		return
	}
	st.Outcome, st.OutcomeCode = "reauthorized", CodeReauthorized
	s.repairSiblings(ctx, ch, auth, page)
}

// repairSiblings gives the new Page token to the team's other broken channels on the same Page
// (a Page and the Instagram account linked to it share one token, so they break together).
func (s *Service) repairSiblings(ctx context.Context, repaired *models.Channel, auth *models.MetaAuthorization, page meta.Page) {
	list, err := s.st.TeamBrokenChannels(ctx, repaired.TeamID)
	if err != nil {
		slog.WarnContext(ctx, "list channels sharing the Page", "team_id", repaired.TeamID, "error", err)
		return
	}
	for i := range list {
		sib := &list[i]
		samePage := (sib.Platform == models.Facebook && sib.ExternalID == page.ID) || (sib.Platform == models.Instagram && sib.Settings.PageID == page.ID)
		if sib.ID == repaired.ID || !samePage {
			continue
		}
		if err := s.attach(ctx, sib, auth, page); err != nil {
			slog.WarnContext(ctx, "repair channel sharing the Page", "channel_id", sib.ID, "error", err)
		}
	}
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
		return ErrPlatformFailed
	}
	if err := s.meta.SubscribeApp(ctx, page.ID, page.AccessToken, PageWebhookFields); err != nil {
		return ErrPlatformFailed.Wrap(err)
	}
	apps, err := s.meta.SubscribedApps(ctx, page.ID, page.AccessToken)
	if err != nil {
		return ErrPlatformFailed.Wrap(err)
	}
	if len(apps) == 0 {
		return ErrPlatformFailed.Wrap(errors.New("subscription not visible after subscribing"))
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
