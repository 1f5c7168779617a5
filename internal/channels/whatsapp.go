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

// Validate checks every field's shape and reports all problems at once.
func (in *WhatsAppInput) Validate() error {
	in.PhoneNumberID, in.WABAID, in.AccessToken = strings.TrimSpace(in.PhoneNumberID), strings.TrimSpace(in.WABAID), strings.TrimSpace(in.AccessToken)
	var fe fieldErrors
	fe.numericID("phone_number_id", in.PhoneNumberID, true)
	fe.numericID("waba_id", in.WABAID, true)
	fe.token("access_token", in.AccessToken, "channels.wa_error_token")
	return fe.err()
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
