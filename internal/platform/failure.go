// Package platform holds what the platform clients (internal/meta, internal/line) share: the
// failure taxonomy every caller acts on. Each client sorts its own errors into it; the health
// monitor, the channels service and senders read only this.
package platform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
)

// Class is the broad outcome of a failed call, which decides what a caller does next.
type Class int

// Classes of a failed platform call.
const (
	ClassNone                 Class = iota // no error
	ClassAuthBroken                        // the token, permission or account is gone: a person must act
	ClassTransient                         // retry later with back-off
	ClassMessagingWindow                   // the customer-service window is closed for this recipient
	ClassRecipientUnavailable              // the recipient cannot be messaged now
	ClassOther                             // anything else: a bug, bad input, an unexpected answer
)

var classNames = map[Class]string{
	ClassNone:                 "none",
	ClassAuthBroken:           "auth_broken",
	ClassTransient:            "transient",
	ClassMessagingWindow:      "messaging_window",
	ClassRecipientUnavailable: "recipient_unavailable",
	ClassOther:                "other",
}

// String returns a stable snake_case name suitable for storage and logs.
func (c Class) String() string {
	if n, ok := classNames[c]; ok {
		return n
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// Cause refines a Class, chiefly to explain to a person why a connection broke.
type Cause int

// Causes of a failed platform call.
const (
	CauseNone              Cause = iota // no finer cause known
	CausePasswordChanged                // Graph 190/460
	CauseCheckpoint                     // Graph 190/459, 190/464: the user must act on facebook.com
	CauseExpired                        // the token reached its expiry (Graph 190/463, an "expired" 190)
	CauseAppRemoved                     // Graph 190/458
	CauseLoggedOut                      // Graph 190/467
	CauseInvalidToken                   // the token is wrong or revoked (Graph 190, 102; LINE 401)
	CauseRefused                        // a verify endpoint refused the token and does not say whether it expired or was revoked (LINE)
	CausePermissionRemoved              // a permission, role or plan no longer allows it (Graph 10, 200-299; LINE 403)
	CauseAccountGone                    // the object no longer exists or is out of reach (Graph 100/33)
	CauseRateLimited                    // throttling codes and HTTP 429
	CauseMonthlyQuota                   // LINE's monthly message quota is used up
	CauseServerError                    // Graph 1, 2 and HTTP 5xx
	CauseNetwork                        // transport failures and timeouts
	CauseNotFound                       // HTTP 404 from LINE
	CauseIDToken                        // a rejected LIFF ID token
)

var causeNames = map[Cause]string{
	CauseNone:              "none",
	CausePasswordChanged:   "password_changed",
	CauseCheckpoint:        "checkpoint",
	CauseExpired:           "expired",
	CauseAppRemoved:        "app_removed",
	CauseLoggedOut:         "logged_out",
	CauseInvalidToken:      "invalid_token",
	CauseRefused:           "refused",
	CausePermissionRemoved: "permission_removed",
	CauseAccountGone:       "account_gone",
	CauseRateLimited:       "rate_limited",
	CauseMonthlyQuota:      "monthly_quota",
	CauseServerError:       "server_error",
	CauseNetwork:           "network",
	CauseNotFound:          "not_found",
	CauseIDToken:           "id_token",
}

// String returns a stable snake_case name suitable for storage and logs.
func (c Cause) String() string {
	if n, ok := causeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("cause(%d)", int(c))
}

// Classification is a failed call's class and cause.
type Classification struct {
	Class Class
	Cause Cause
}

// String returns "class" or "class/cause".
func (c Classification) String() string {
	if c.Cause == CauseNone {
		return c.Class.String()
	}
	return c.Class.String() + "/" + c.Cause.String()
}

// Transport classifies errors that never reached the platform's answer (timeouts, resets,
// refused connections) as transient network trouble; ok is false for any other error.
func Transport(err error) (Classification, bool) {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return Classification{Class: ClassTransient, Cause: CauseNetwork}, true
	}
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) {
		return Classification{Class: ClassTransient, Cause: CauseNetwork}, true
	}
	return Classification{}, false
}
