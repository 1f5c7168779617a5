package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm/clause"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/models"
)

// ErrChannelTaken is returned when another live channel already holds the platform account.
var ErrChannelTaken = apperr.Conflict("account", "channels.error_taken")

// CreateChannel inserts a channel; ErrChannelTaken when the account is live elsewhere.
func (s *Store) CreateChannel(ctx context.Context, ch *models.Channel) error {
	err := s.q(ctx).Create(ch).Error
	if isUniqueViolation(err, "channels_live_account_key") {
		return ErrChannelTaken
	}
	return err
}

// Channel loads one of a team's channels.
func (s *Store) Channel(ctx context.Context, teamID, id int64) (*models.Channel, error) {
	return first[models.Channel](s.q(ctx).Where("team_id = ? AND id = ?", teamID, id))
}

// ChannelForUpdate loads one of a team's channels and locks it until the transaction ends.
func (s *Store) ChannelForUpdate(ctx context.Context, teamID, id int64) (*models.Channel, error) {
	return first[models.Channel](s.q(ctx).Clauses(noKeyUpdate).Where("team_id = ? AND id = ?", teamID, id))
}

// ChannelByIDSystem loads a channel by id alone: for LINE webhooks, whose URL names the channel and
// whose signature (made with that channel's secret) is the proof.
func (s *Store) ChannelByIDSystem(ctx context.Context, id int64) (*models.Channel, error) {
	return first[models.Channel](s.q(ctx).Where("id = ?", id))
}

// LiveChannelByAccountSystem finds the live channel for a platform account id; it is for the
// webhook router, which serves no one team until it has found the channel.
func (s *Store) LiveChannelByAccountSystem(ctx context.Context, p models.Platform, externalID string) (*models.Channel, error) {
	return first[models.Channel](s.q(ctx).Where("platform = ? AND external_id = ? AND status <> ?", p, externalID, models.ChannelDisconnected))
}

// TeamChannel finds a team's channel (in any state) for a platform account, so reconnecting reuses it.
func (s *Store) TeamChannel(ctx context.Context, teamID int64, p models.Platform, externalID string) (*models.Channel, error) {
	return first[models.Channel](s.q(ctx).Where("team_id = ? AND platform = ? AND external_id = ?", teamID, p, externalID).Order("id DESC"))
}

// TeamChannels lists a team's connected (not disconnected) channels by platform and name.
func (s *Store) TeamChannels(ctx context.Context, teamID int64) ([]models.Channel, error) {
	var out []models.Channel
	err := s.q(ctx).Where("team_id = ? AND status <> ?", teamID, models.ChannelDisconnected).Order("platform, lower(display_name), id").Find(&out).Error
	return out, err
}

// TeamBrokenChannels lists a team's channels that need repair.
func (s *Store) TeamBrokenChannels(ctx context.Context, teamID int64) ([]models.Channel, error) {
	var out []models.Channel
	err := s.q(ctx).Where("team_id = ? AND status = ?", teamID, models.ChannelInvalid).Order("failing_since, id").Find(&out).Error
	return out, err
}

// SaveChannel writes every column of a channel (it must belong to ch.TeamID).
func (s *Store) SaveChannel(ctx context.Context, ch *models.Channel) error {
	ch.UpdatedAt = time.Now()
	res := s.q(ctx).Model(&models.Channel{}).Where("team_id = ? AND id = ?", ch.TeamID, ch.ID).Select("*").Omit("id", "team_id", "created_at").Updates(ch)
	if isUniqueViolation(res.Error, "channels_live_account_key") {
		return ErrChannelTaken
	}
	return affected(res)
}

// UpsertMetaAuthorization records (or refreshes) the Facebook user who authorised the team.
func (s *Store) UpsertMetaAuthorization(ctx context.Context, a *models.MetaAuthorization) error {
	a.UpdatedAt = time.Now()
	return s.q(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "team_id"}, {Name: "fb_user_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"fb_user_name", "access_token", "expires_at", "granted_scopes", "declined_scopes", "updated_at"}),
	}).Create(a).Error
}

// MetaAuthorization loads one of a team's Facebook authorisations.
func (s *Store) MetaAuthorization(ctx context.Context, teamID, id int64) (*models.MetaAuthorization, error) {
	return first[models.MetaAuthorization](s.q(ctx).Where("team_id = ? AND id = ?", teamID, id))
}

// TeamMetaAuthorizations lists a team's Facebook authorisations by id.
func (s *Store) TeamMetaAuthorizations(ctx context.Context, teamID int64, ids []int64) ([]models.MetaAuthorization, error) {
	var out []models.MetaAuthorization
	err := s.q(ctx).Where("team_id = ? AND id IN ?", teamID, ids).Find(&out).Error
	return out, err
}

// CreateOAuthState stores a new Facebook Login attempt.
func (s *Store) CreateOAuthState(ctx context.Context, st *models.OAuthState) error {
	return s.q(ctx).Create(st).Error
}

// ClaimOAuthState marks a state used, exactly once, only before it expires and only for the
// team, user and session that started it, and returns it. A state another session presents is
// left unused, so its owner can still finish; OAuthStateSystem tells the two failures apart.
func (s *Store) ClaimOAuthState(ctx context.Context, id string, teamID, userID int64, sessionHash string, now time.Time) (*models.OAuthState, error) {
	var out []models.OAuthState
	err := s.q(ctx).Raw(`UPDATE oauth_states SET used_at = ? WHERE id = ? AND team_id = ? AND user_id = ? AND session_hash = ?
		AND used_at IS NULL AND expires_at > ? RETURNING *`, now, id, teamID, userID, sessionHash, now).Scan(&out).Error
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return &out[0], nil
}

// OAuthStateSystem loads a state by id whoever owns it; it only explains why a claim failed.
func (s *Store) OAuthStateSystem(ctx context.Context, id string) (*models.OAuthState, error) {
	return first[models.OAuthState](s.q(ctx).Where("id = ?", id))
}

// OAuthState loads one of a user's Facebook Login attempts.
func (s *Store) OAuthState(ctx context.Context, teamID, userID int64, id string) (*models.OAuthState, error) {
	return first[models.OAuthState](s.q(ctx).Where("team_id = ? AND user_id = ? AND id = ?", teamID, userID, id))
}

// FinishOAuthState records how a Facebook Login attempt ended.
func (s *Store) FinishOAuthState(ctx context.Context, st *models.OAuthState) error {
	return affected(s.q(ctx).Model(&models.OAuthState{}).Where("id = ?", st.ID).Updates(map[string]any{
		"outcome": st.Outcome, "outcome_code": st.OutcomeCode, "outcome_args": st.OutcomeArgs, "authorization_id": st.AuthorizationID,
		"candidates": st.Candidates, "notes": st.Notes,
	}))
}

// LatestOpenOAuthState finds the user's newest Facebook Login in this session (since a time),
// unless it is closed: closing the newest dialog must not bring back an older one.
func (s *Store) LatestOpenOAuthState(ctx context.Context, teamID, userID int64, sessionHash string, since time.Time) (*models.OAuthState, error) {
	st, err := first[models.OAuthState](s.q(ctx).Where("team_id = ? AND user_id = ? AND session_hash = ? AND created_at > ?",
		teamID, userID, sessionHash, since).Order("created_at DESC, id DESC"))
	if err != nil {
		return nil, err
	}
	if st.ClosedAt != nil {
		return nil, ErrNotFound
	}
	return st, nil
}

// CloseOAuthState marks a Facebook Login dialog finished.
func (s *Store) CloseOAuthState(ctx context.Context, teamID, userID int64, id string, now time.Time) error {
	return affected(s.q(ctx).Model(&models.OAuthState{}).Where("team_id = ? AND user_id = ? AND id = ?", teamID, userID, id).Update("closed_at", now))
}

// TeamMetaAuthorizers lists who authorised the team's live channels on platform p (only the
// working ones with activeOnly), for the rule that one Facebook user connects a team's Pages
// and Instagram accounts.
func (s *Store) TeamMetaAuthorizers(ctx context.Context, teamID int64, p models.Platform, activeOnly bool) ([]models.MetaAuthorization, error) {
	statuses := []models.ChannelStatus{models.ChannelActive, models.ChannelInvalid}
	if activeOnly {
		statuses = statuses[:1]
	}
	var out []models.MetaAuthorization
	err := s.q(ctx).Where("team_id = ? AND id IN (SELECT authorized_by FROM channels WHERE team_id = ? AND platform = ? AND status IN ? AND authorized_by IS NOT NULL)",
		teamID, teamID, p, statuses).Order("id").Find(&out).Error
	return out, err
}

// TeamFacebookUsersToUse maps each of a team's live Facebook and Instagram channels to the name of
// the Facebook user who must reauthorise it: the one who authorised the team's working channels
// of the other platform (one user connects both), otherwise the one who authorised the channel.
func (s *Store) TeamFacebookUsersToUse(ctx context.Context, teamID int64) (map[int64]string, error) {
	var chs []models.Channel
	if err := s.q(ctx).Where("team_id = ? AND platform IN ? AND status <> ?", teamID,
		[]models.Platform{models.Facebook, models.Instagram}, models.ChannelDisconnected).Find(&chs).Error; err != nil {
		return nil, err
	}
	var ids []int64
	for _, ch := range chs {
		if ch.AuthorizedBy != nil {
			ids = append(ids, *ch.AuthorizedBy)
		}
	}
	names := map[int64]string{}
	if len(ids) > 0 {
		auths, err := s.TeamMetaAuthorizations(ctx, teamID, ids)
		if err != nil {
			return nil, err
		}
		for _, a := range auths {
			names[a.ID] = a.FBUserName
		}
	}
	working := map[models.Platform][]string{}
	for _, ch := range chs {
		if ch.Status == models.ChannelActive && ch.AuthorizedBy != nil {
			if n := names[*ch.AuthorizedBy]; n != "" && !slices.Contains(working[ch.Platform], n) {
				working[ch.Platform] = append(working[ch.Platform], n)
			}
		}
	}
	out := map[int64]string{}
	for _, ch := range chs {
		other := models.Facebook
		if ch.Platform == models.Facebook {
			other = models.Instagram
		}
		switch {
		case len(working[other]) > 0:
			out[ch.ID] = strings.Join(working[other], "、")
		case ch.AuthorizedBy != nil && names[*ch.AuthorizedBy] != "":
			out[ch.ID] = names[*ch.AuthorizedBy]
		}
	}
	return out, nil
}

// SandboxState loads the provider emulator's persisted world (nil when there is none).
func (s *Store) SandboxState(ctx context.Context) ([]byte, error) {
	var rows [][]byte
	if err := s.q(ctx).Raw("SELECT state FROM sandbox_state WHERE id = 1").Scan(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return rows[0], nil
}

// SaveSandboxState persists the provider emulator's world.
func (s *Store) SaveSandboxState(ctx context.Context, state []byte) error {
	return s.q(ctx).Exec(`INSERT INTO sandbox_state (id, state, updated_at) VALUES (1, ?, now())
		ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`, state).Error
}
