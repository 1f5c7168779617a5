// Package channels connects, reauthorises and disconnects a team's channels (Facebook Pages,
// Instagram accounts, LINE official accounts, WhatsApp numbers) and keeps their secrets sealed.
package channels

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/omnilink/omnilink/internal/crypto"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Service is the channels service.
type Service struct {
	st     *store.Store
	box    *crypto.Box
	meta   *meta.Client
	line   *line.Client
	now    func() time.Time
	oauth  OAuthConfig
	events EventSink
	log    *slog.Logger
}

// OAuthConfig is how Facebook Login is asked for.
type OAuthConfig struct {
	RedirectURI string // {base}/oauth/meta/callback, byte-identical in the code exchange
	ConfigID    string // Facebook Login for Business configuration, replaces scopes when set
}

// EventSink hears about connection changes (the health monitor closes an episode on repair).
type EventSink interface {
	ChannelRepaired(ctx context.Context, ch *models.Channel)
}

// Deps are the Service's collaborators.
type Deps struct {
	Store  *store.Store
	Box    *crypto.Box
	Meta   *meta.Client
	Line   *line.Client
	Now    func() time.Time
	OAuth  OAuthConfig
	Events EventSink
	Log    *slog.Logger // platform refusals, one JSON line each; nil = slog.Default()
}

// New builds the service.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Service{st: d.Store, box: d.Box, meta: d.Meta, line: d.Line, now: d.Now, oauth: d.OAuth, events: d.Events, log: d.Log}
}

// SetEvents attaches the listener for repairs after construction (the health monitor is built later).
func (s *Service) SetEvents(e EventSink) { s.events = e }

// credentialsAAD binds sealed credentials to their account, so a ciphertext copied onto another
// row does not open.
func credentialsAAD(teamID int64, p models.Platform, externalID string) []byte {
	return fmt.Appendf(nil, "channel:%d:%s:%s:credentials", teamID, p, externalID)
}

func tokenAAD(teamID int64, fbUserID string) []byte {
	return fmt.Appendf(nil, "meta_authorization:%d:%s:token", teamID, fbUserID)
}

// Credentials opens a channel's sealed secrets.
func (s *Service) Credentials(ch *models.Channel) (models.Credentials, error) {
	var c models.Credentials
	if ch.Credentials == "" {
		return c, nil
	}
	raw, err := s.box.Open(ch.Credentials, credentialsAAD(ch.TeamID, ch.Platform, ch.ExternalID))
	if err != nil {
		return c, fmt.Errorf("open credentials of channel %d: %w", ch.ID, err)
	}
	err = json.Unmarshal(raw, &c)
	return c, err
}

// LINEProfile reads a LINE user's profile with the LINE channel's own access token; an error
// matching line.ErrNotFound means the user is not a friend of the account or blocked it.
func (s *Service) LINEProfile(ctx context.Context, ch *models.Channel, userID string) (line.Profile, error) {
	c, err := s.Credentials(ch)
	if err != nil {
		return line.Profile{}, err
	}
	return s.line.Profile(ctx, c.AccessToken, userID)
}

// sealCredentials seals secrets for a channel row.
func (s *Service) sealCredentials(ch *models.Channel, c models.Credentials) error {
	return SealCredentials(s.box, ch, c)
}

// SealCredentials seals secrets into a channel row (whose team, platform and external id must be
// set), exactly as connecting does; tools that create channels in bulk use it too.
func SealCredentials(box *crypto.Box, ch *models.Channel, c models.Credentials) error {
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	ch.Credentials = box.Seal(raw, credentialsAAD(ch.TeamID, ch.Platform, ch.ExternalID))
	return nil
}

// UserToken opens a Facebook authorisation's long-lived user token.
func (s *Service) UserToken(a *models.MetaAuthorization) (string, error) {
	raw, err := s.box.Open(a.AccessToken, tokenAAD(a.TeamID, a.FBUserID))
	return string(raw), err
}

// List returns a team's connected channels.
func (s *Service) List(ctx context.Context, teamID int64) ([]models.Channel, error) {
	return s.st.TeamChannels(ctx, teamID)
}

// Channel returns one of a team's channels.
func (s *Service) Channel(ctx context.Context, teamID, id int64) (*models.Channel, error) {
	return s.st.Channel(ctx, teamID, id)
}

// Authorizers maps Facebook authorisation ids to the names of the Facebook users behind them.
func (s *Service) Authorizers(ctx context.Context, teamID int64, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	list, err := s.st.TeamMetaAuthorizations(ctx, teamID, ids)
	if err != nil {
		return nil, err
	}
	for _, a := range list {
		out[a.ID] = a.FBUserName
	}
	return out, nil
}
