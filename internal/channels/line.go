package channels

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// LineInput is the LINE connection form.
type LineInput struct {
	ChannelID      string // Messaging API channel id
	ChannelSecret  string // blank when replacing credentials: keep the stored one
	AccessToken    string // long-lived channel access token; blank when replacing: keep the stored one
	LoginChannelID string // LINE Login channel (LIFF lives there)
	LiffID         string
}

var (
	hex32     = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
	liffIDFmt = regexp.MustCompile(`^[0-9]{6,20}-[A-Za-z0-9]{4,32}$`)
)

// Validate checks every field's shape before anything is asked of LINE and reports all
// problems at once. When replacing a channel's credentials (keeping is true) a blank secret
// or token keeps the stored one, so changing only the token does not demand the secret.
func (in *LineInput) Validate(keeping bool) error {
	in.ChannelID, in.ChannelSecret = strings.TrimSpace(in.ChannelID), strings.TrimSpace(in.ChannelSecret)
	in.AccessToken, in.LoginChannelID, in.LiffID = strings.TrimSpace(in.AccessToken), strings.TrimSpace(in.LoginChannelID), strings.TrimSpace(in.LiffID)
	var fe fieldErrors
	fe.numericID("channel_id", in.ChannelID, true)
	switch {
	case in.ChannelSecret == "" && !keeping:
		fe.add("channel_secret", "channels.error_required")
	case in.ChannelSecret != "" && !hex32.MatchString(in.ChannelSecret):
		fe.add("channel_secret", "channels.line_error_secret", "Got", utf8.RuneCountInString(in.ChannelSecret))
	}
	if in.AccessToken != "" || !keeping {
		fe.token("access_token", in.AccessToken, "channels.line_error_token")
	}
	fe.numericID("login_channel_id", in.LoginChannelID, false)
	switch {
	case in.LiffID == "":
	case !liffIDFmt.MatchString(in.LiffID):
		fe.add("liff_id", "channels.line_error_liff_id")
	case in.LoginChannelID != "" && !strings.HasPrefix(in.LiffID, in.LoginChannelID+"-"):
		// A LIFF id starts with the id of the LINE Login channel it belongs to.
		fe.add("liff_id", "channels.line_error_liff_channel")
	}
	return fe.err()
}

// ConnectLine verifies the credentials with LINE (token check and bot info) and connects the
// official account; on any error nothing is saved and the message names the field at fault.
// With existingID set it replaces the credentials of that channel in place; a blank secret or
// token there keeps the stored one.
func (s *Service) ConnectLine(ctx context.Context, actor *models.User, in LineInput, existingID *int64) (*models.Channel, error) {
	if err := in.Validate(existingID != nil); err != nil {
		return nil, err
	}
	if existingID != nil && (in.ChannelSecret == "" || in.AccessToken == "") {
		old, err := s.st.Channel(ctx, actor.TeamID, *existingID)
		if err != nil {
			return nil, err
		}
		creds, err := s.Credentials(old)
		if err != nil {
			return nil, err
		}
		if in.ChannelSecret == "" {
			in.ChannelSecret = creds.ChannelSecret
		}
		if in.AccessToken == "" {
			in.AccessToken = creds.AccessToken
		}
		// A disconnected channel has dropped its secrets: there is nothing to keep.
		var fe fieldErrors
		if in.ChannelSecret == "" {
			fe.add("channel_secret", "channels.error_required")
		}
		if in.AccessToken == "" {
			fe.add("access_token", "channels.error_required")
		}
		if err := fe.err(); err != nil {
			return nil, err
		}
	}
	info, err := s.line.VerifyChannelToken(ctx, in.AccessToken)
	if err != nil {
		return nil, lineFieldError(err)
	}
	if info.ClientID != in.ChannelID {
		return nil, apperr.Invalid("channel_id", "channels.line_error_token_channel")
	}
	bot, err := s.line.BotInfo(ctx, in.AccessToken)
	if err != nil {
		return nil, lineFieldError(err)
	}
	ch, err := s.existingOrNew(ctx, actor, models.LINE, bot.UserID, existingID)
	if err != nil {
		return nil, err
	}
	ch.DisplayName, ch.Username, ch.PictureURL = bot.DisplayName, bot.BasicID, bot.PictureURL
	// The expiry LINE reports is what later tells an expired token from a revoked one.
	ch.TokenExpiresAt = nil
	if info.ExpiresIn > 0 {
		exp := s.now().Add(info.ExpiresIn).UTC()
		ch.TokenExpiresAt = &exp
	}
	ch.Settings = models.ChannelSettings{LineChannelID: in.ChannelID, LoginChannelID: in.LoginChannelID, LiffID: in.LiffID, BasicID: bot.BasicID}
	if err := s.sealCredentials(ch, models.Credentials{AccessToken: in.AccessToken, ChannelSecret: in.ChannelSecret}); err != nil {
		return nil, err
	}
	return ch, s.activate(ctx, ch)
}

func lineFieldError(err error) error {
	var ae *line.APIError
	if errors.As(err, &ae) && (ae.Status == 400 || ae.Status == 401 || ae.Status == 403) {
		return apperr.Invalid("access_token", "channels.line_error_token_rejected")
	}
	return ErrPlatformFailed.Wrap(err)
}

// existingOrNew loads the channel being re-credentialed (which must be the same account) or
// finds or creates the team's channel for the account.
func (s *Service) existingOrNew(ctx context.Context, actor *models.User, p models.Platform, externalID string, existingID *int64) (*models.Channel, error) {
	if existingID != nil {
		ch, err := s.st.Channel(ctx, actor.TeamID, *existingID)
		if err != nil {
			return nil, err
		}
		if ch.Platform != p || ch.ExternalID != externalID {
			return nil, apperr.Invalid("access_token", "channels.error_other_account")
		}
		return ch, nil
	}
	ch, err := s.st.TeamChannel(ctx, actor.TeamID, p, externalID)
	if errors.Is(err, store.ErrNotFound) {
		return &models.Channel{TeamID: actor.TeamID, Platform: p, ExternalID: externalID}, nil
	}
	return ch, err
}

// activate stores a channel whose credentials were just verified as working, and tells the
// health monitor when it was broken or disconnected before, so any open episode closes.
func (s *Service) activate(ctx context.Context, ch *models.Channel) error {
	isNew := ch.ID == 0
	wasBroken := !isNew && ch.Status != models.ChannelActive
	ch.Status, ch.StatusCause, ch.StatusMessage, ch.FailingSince = models.ChannelActive, "", "", nil
	var err error
	if isNew {
		err = s.st.CreateChannel(ctx, ch)
	} else {
		err = s.st.SaveChannel(ctx, ch)
	}
	if err != nil {
		return err
	}
	// Events that arrived while no team had the account live were kept; now they can be applied.
	if _, err := s.st.RequeueUnroutedEventsSystem(ctx, ch.Platform, ch.ExternalID); err != nil {
		return err
	}
	if wasBroken && s.events != nil {
		s.events.ChannelRepaired(ctx, ch)
	}
	return nil
}
