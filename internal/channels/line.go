package channels

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// LineInput is the LINE connection form.
type LineInput struct {
	ChannelID      string // Messaging API channel id
	ChannelSecret  string
	AccessToken    string // long-lived channel access token
	LoginChannelID string // LINE Login channel (LIFF lives there)
	LiffID         string
}

var (
	digits    = regexp.MustCompile(`^[0-9]{6,20}$`)
	hex32     = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
	liffIDFmt = regexp.MustCompile(`^[0-9]{6,20}-[A-Za-z0-9]{4,32}$`)
)

// Validate checks the form's shapes before anything is asked of LINE.
func (in *LineInput) Validate() error {
	in.ChannelID, in.ChannelSecret = strings.TrimSpace(in.ChannelID), strings.TrimSpace(in.ChannelSecret)
	in.AccessToken, in.LoginChannelID, in.LiffID = strings.TrimSpace(in.AccessToken), strings.TrimSpace(in.LoginChannelID), strings.TrimSpace(in.LiffID)
	switch {
	case !digits.MatchString(in.ChannelID):
		return apperr.Invalid("channel_id", "channels.line_error_channel_id")
	case !hex32.MatchString(in.ChannelSecret):
		return apperr.Invalid("channel_secret", "channels.line_error_secret")
	case len(in.AccessToken) < 20 || strings.ContainsAny(in.AccessToken, " \t\r\n"):
		return apperr.Invalid("access_token", "channels.line_error_token")
	case in.LoginChannelID != "" && !digits.MatchString(in.LoginChannelID):
		return apperr.Invalid("login_channel_id", "channels.line_error_login_channel")
	case in.LiffID != "" && !liffIDFmt.MatchString(in.LiffID):
		return apperr.Invalid("liff_id", "channels.line_error_liff_id")
	case in.LiffID != "" && in.LoginChannelID != "" && !strings.HasPrefix(in.LiffID, in.LoginChannelID+"-"):
		// A LIFF id starts with the id of the LINE Login channel it belongs to.
		return apperr.Invalid("liff_id", "channels.line_error_liff_channel")
	}
	return nil
}

// ConnectLine verifies the credentials with LINE (token check and bot info) and connects the
// official account; on any error nothing is saved and the message names the field at fault.
// With existingID set it replaces the credentials of that channel in place.
func (s *Service) ConnectLine(ctx context.Context, actor *models.User, in LineInput, existingID *int64) (*models.Channel, error) {
	if err := in.Validate(); err != nil {
		return nil, err
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
