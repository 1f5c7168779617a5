package channels

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/platform"
	"github.com/omnilink/omnilink/models"
)

// Steps of connecting through Facebook Login, named (as i18n keys) in a failure's message so the
// person knows what failed.
const (
	StepExchange      = "channels.step_exchange"       // trading the login code for a token
	StepProfile       = "channels.step_profile"        // reading the Facebook user and their permissions
	StepAccounts      = "channels.step_accounts"       // listing the user's Pages and Instagram accounts
	StepPageToken     = "channels.step_page_token"     // reading the Page's access token
	StepSubscribe     = "channels.step_subscribe"      // subscribing the Page's webhooks
	StepConfirm       = "channels.step_confirm"        // confirming the subscription
	StepTokenCheck    = "channels.step_token_check"    // checking what the new token may do (debug_token)
	StepPhoneNumber   = "channels.step_phone_number"   // reading the WhatsApp number
	StepSubscribeWABA = "channels.step_subscribe_waba" // subscribing the WhatsApp business account's webhooks
)

// Failure message keys, one per kind of platform refusal; each says what to do.
const (
	FailedTransient   = "channels.failed_transient"     // the platform is struggling: try again later
	FailedToken       = "channels.failed_token"         // the Facebook authorisation itself is not valid: log in again
	FailedPermission  = "channels.failed_permission"    // a permission or Page role is missing
	FailedAccount     = "channels.failed_account"       // the Page or account is gone or out of reach
	FailedRefused     = "channels.failed_refused"       // any other refusal: fix what the platform says
	FailedNoPageToken = "channels.failed_no_page_token" // the Page came without a token: the user no longer manages it
)

// platformFailure turns a failed platform call at step into an error whose message says what
// failed, the platform's own reason, and what to do; only transient trouble says "try again
// later". It logs one structured line with the Graph code, subcode and fbtrace_id (never a
// token: the client scrubs them from messages).
func (s *Service) platformFailure(ctx context.Context, step string, err error, attrs ...any) *apperr.Error {
	c := meta.Classify(err)
	key := FailedRefused
	switch {
	case c.Class == platform.ClassTransient:
		key = FailedTransient
	case c.Class == platform.ClassAuthBroken && c.Cause == platform.CausePermissionRemoved:
		key = FailedPermission
	case c.Class == platform.ClassAuthBroken && c.Cause == platform.CauseAccountGone:
		key = FailedAccount
	case c.Class == platform.ClassAuthBroken:
		key = FailedToken
	case errors.Is(err, meta.ErrUnexpectedAnswer):
		key = FailedTransient // a garbled answer is the platform's trouble, not the user's
	}
	args := models.Args{"Step": step, "Reason": "", "Code": ""}
	logAttrs := append([]any{"step", strings.TrimPrefix(step, "channels.step_"), "class", c.String()}, attrs...)
	var ge *meta.GraphError
	if errors.As(err, &ge) {
		reason := ge.UserMsg
		if reason == "" {
			reason = ge.Message
		}
		args["Reason"] = reason
		args["Code"] = fmt.Sprint(ge.Code)
		if ge.Subcode != 0 {
			args["Code"] += fmt.Sprintf("/%d", ge.Subcode)
		}
		logAttrs = append(logAttrs, "graph_code", ge.Code, "graph_subcode", ge.Subcode, "graph_type", ge.Type,
			"http_status", ge.HTTPStatus, "fbtrace_id", ge.FBTraceID, "graph_message", ge.Message)
	} else {
		logAttrs = append(logAttrs, "error", err.Error())
	}
	level := slog.LevelWarn
	if key == FailedTransient {
		level = slog.LevelInfo
	}
	s.log.Log(ctx, level, "facebook call failed", logAttrs...)
	status := http.StatusUnprocessableEntity
	if key == FailedTransient {
		status = http.StatusBadGateway
	}
	return &apperr.Error{Status: status, Key: key, Args: args.Map(), Err: err}
}

// failureArgs keeps an error's message arguments as strings, for storing with a result.
func failureArgs(ae *apperr.Error) models.Args {
	out := models.Args{}
	for k, v := range ae.Args {
		out[k] = fmt.Sprint(v)
	}
	return out
}
