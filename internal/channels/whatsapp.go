package channels

import (
	"context"
	"errors"
	"strings"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/models"
)

// WhatsAppInput is the WhatsApp connection form.
type WhatsAppInput struct {
	PhoneNumberID string
	WABAID        string
	AccessToken   string
}

// Validate checks the form's shapes.
func (in *WhatsAppInput) Validate() error {
	in.PhoneNumberID, in.WABAID, in.AccessToken = strings.TrimSpace(in.PhoneNumberID), strings.TrimSpace(in.WABAID), strings.TrimSpace(in.AccessToken)
	switch {
	case !digits.MatchString(in.PhoneNumberID):
		return apperr.Invalid("phone_number_id", "channels.wa_error_phone_id")
	case !digits.MatchString(in.WABAID):
		return apperr.Invalid("waba_id", "channels.wa_error_waba_id")
	case len(in.AccessToken) < 20 || strings.ContainsAny(in.AccessToken, " \t\r\n"):
		return apperr.Invalid("access_token", "channels.wa_error_token")
	}
	return nil
}

// ConnectWhatsApp verifies the number with the Cloud API and connects it; on any error nothing
// is saved and the message names the field at fault.
func (s *Service) ConnectWhatsApp(ctx context.Context, actor *models.User, in WhatsAppInput, existingID *int64) (*models.Channel, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	num, err := s.meta.PhoneNumber(ctx, in.PhoneNumberID, in.AccessToken)
	if err != nil {
		var ge *meta.GraphError
		if errors.As(err, &ge) {
			if ge.Code == 190 || ge.Code == 10 || (ge.Code >= 200 && ge.Code < 300) {
				return nil, apperr.Invalid("access_token", "channels.wa_error_token_rejected")
			}
			if ge.Code == 100 || ge.Code == 803 {
				return nil, apperr.Invalid("phone_number_id", "channels.wa_error_phone_unknown")
			}
		}
		return nil, s.platformFailure(ctx, StepPhoneNumber, err, "team_id", actor.TeamID)
	}
	// Without the app subscribed to the business account, Meta sends none of its webhooks.
	if err := s.meta.SubscribeWABA(ctx, in.WABAID, in.AccessToken); err != nil {
		var ge *meta.GraphError
		if errors.As(err, &ge) && ge.Code == 100 {
			return nil, apperr.Invalid("waba_id", "channels.wa_error_waba_unknown")
		}
		return nil, s.platformFailure(ctx, StepSubscribeWABA, err, "team_id", actor.TeamID)
	}
	ch, err := s.existingOrNew(ctx, actor, models.WhatsApp, in.PhoneNumberID, existingID)
	if err != nil {
		return nil, err
	}
	ch.DisplayName = firstNonEmpty(num.VerifiedName, num.DisplayPhoneNumber)
	ch.Username = num.DisplayPhoneNumber
	ch.Settings = models.ChannelSettings{WABAID: in.WABAID, DisplayNumber: num.DisplayPhoneNumber, VerifiedName: num.VerifiedName}
	if err := s.sealCredentials(ch, models.Credentials{AccessToken: in.AccessToken}); err != nil {
		return nil, err
	}
	return ch, s.activate(ctx, ch)
}
