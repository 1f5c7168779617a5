package channels

import (
	"context"
	"errors"
	"slices"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Dialog returns the user's newest Facebook Login result in this session that is not closed yet.
func (s *Service) Dialog(ctx context.Context, actor *models.User, sessionHash string) (*models.OAuthState, error) {
	return s.st.LatestOpenOAuthState(ctx, actor.TeamID, actor.ID, sessionHash, s.now().Add(-dialogTTL))
}

// State returns one of the user's Facebook Login attempts.
func (s *Service) State(ctx context.Context, actor *models.User, stateID string) (*models.OAuthState, error) {
	return s.st.OAuthState(ctx, actor.TeamID, actor.ID, stateID)
}

// Dismiss closes a Facebook Login result without connecting anything.
func (s *Service) Dismiss(ctx context.Context, actor *models.User, stateID string) error {
	return s.st.CloseOAuthState(ctx, actor.TeamID, actor.ID, stateID, s.now())
}

// ConnectResult tells, per chosen account, whether it was connected.
type ConnectResult struct {
	Connected []models.Candidate
	Failed    []models.Candidate // Problem holds the reason
}

// Connect turns the chosen accounts of a finished Facebook Login into channels, each with its
// Page's token and a confirmed webhook subscription. A disconnected channel of the same account
// comes back with its id, contacts and history.
func (s *Service) Connect(ctx context.Context, actor *models.User, stateID string, accountIDs []string) (ConnectResult, error) {
	var res ConnectResult
	if len(accountIDs) == 0 {
		return res, ErrNothingChosen
	}
	st, err := s.st.OAuthState(ctx, actor.TeamID, actor.ID, stateID)
	if err != nil {
		return res, err
	}
	if st.Outcome != "authorized" || st.AuthorizationID == nil || st.ClosedAt != nil || s.now().Sub(st.CreatedAt) > dialogTTL {
		return res, ErrStateInvalid
	}
	auth, err := s.st.MetaAuthorization(ctx, actor.TeamID, *st.AuthorizationID)
	if err != nil {
		return res, err
	}
	token, err := s.UserToken(auth)
	if err != nil {
		return res, err
	}
	// Page tokens are never stored with the dialog: read them again with the user token.
	pages, err := s.meta.Accounts(ctx, token)
	if err != nil {
		return res, s.platformFailure(ctx, StepAccounts, err, "team_id", actor.TeamID)
	}
	for _, c := range st.Candidates {
		if c.ID == "" || !slices.Contains(accountIDs, c.ID) {
			continue
		}
		if c.Problem != "" {
			res.Failed = append(res.Failed, c)
			continue
		}
		if err := s.connectOne(ctx, actor, auth, c, pageOf(pages, c.PageID)); err != nil {
			ae, ok := apperr.From(err)
			if !ok {
				return res, err
			}
			c.Problem, c.ProblemArgs = ae.Key, failureArgs(ae)
			res.Failed = append(res.Failed, c)
			continue
		}
		res.Connected = append(res.Connected, c)
	}
	if len(res.Connected) > 0 {
		if err := s.st.CloseOAuthState(ctx, actor.TeamID, actor.ID, stateID, s.now()); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (s *Service) connectOne(ctx context.Context, actor *models.User, auth *models.MetaAuthorization, c models.Candidate, page meta.Page) error {
	ch, err := s.st.TeamChannel(ctx, actor.TeamID, c.Platform, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		ch = &models.Channel{TeamID: actor.TeamID, Platform: c.Platform, ExternalID: c.ID}
	} else if err != nil {
		return err
	}
	ch.DisplayName, ch.Username, ch.PictureURL = c.Name, c.Username, c.PictureURL
	return s.attach(ctx, ch, auth, page)
}

// Disconnect stops using a channel (中斷連接). Its row, contacts and history stay, so connecting the
// same account again brings them back; its secrets are dropped.
func (s *Service) Disconnect(ctx context.Context, actor *models.User, id int64) error {
	ch, err := s.st.Channel(ctx, actor.TeamID, id)
	if err != nil {
		return err
	}
	if ch.Status == models.ChannelDisconnected {
		return nil
	}
	ch.Status, ch.StatusCause, ch.StatusMessage = models.ChannelDisconnected, "", ""
	ch.FailingSince, ch.Credentials = nil, ""
	return s.st.SaveChannel(ctx, ch)
}
