package line

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Class is the broad outcome of a failed call, which decides what a caller does next.
type Class int

// Classes returned by Classify; their String values match package meta's.
const (
	ClassNone       Class = iota // no error
	ClassAuthBroken              // the channel token or permission no longer works
	ClassTransient               // retry later with back-off
	ClassOther                   // a bug, bad input, or a missing resource
)

var classNames = map[Class]string{
	ClassNone:       "none",
	ClassAuthBroken: "auth_broken",
	ClassTransient:  "transient",
	ClassOther:      "other",
}

// String returns a stable snake_case name suitable for storage.
func (c Class) String() string {
	if n, ok := classNames[c]; ok {
		return n
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// Cause refines a Class.
type Cause int

// Causes returned by Classify.
const (
	CauseNone              Cause = iota // no finer cause known
	CauseInvalidToken                   // 401: the channel token is wrong or revoked
	CauseRefused                        // a verify endpoint refused the token: expired or revoked, LINE does not say which
	CausePermissionRemoved              // 403: no permission, or the plan does not allow it
	CauseRateLimited                    // 429: too many requests, retry soon
	CauseMonthlyQuota                   // 429: the monthly message quota is used up
	CauseServerError                    // 5xx
	CauseNetwork                        // transport failures and timeouts
	CauseNotFound                       // 404
	CauseIDToken                        // a rejected LIFF ID token
)

var causeNames = map[Cause]string{
	CauseNone:              "none",
	CauseInvalidToken:      "invalid_token",
	CauseRefused:           "refused",
	CausePermissionRemoved: "permission_removed",
	CauseRateLimited:       "rate_limited",
	CauseMonthlyQuota:      "monthly_quota",
	CauseServerError:       "server_error",
	CauseNetwork:           "network",
	CauseNotFound:          "not_found",
	CauseIDToken:           "id_token",
}

// String returns a stable snake_case name suitable for storage.
func (c Cause) String() string {
	if n, ok := causeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("cause(%d)", int(c))
}

// Classification is the result of Classify.
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

// isMonthlyQuota tells the monthly-quota 429 from the rate-limit 429. UNCONFIRMED: known
// only from third-party reports of LINE's message text ("You have reached your monthly
// limit.").
func isMonthlyQuota(message string) bool {
	return strings.Contains(strings.ToLower(message), "monthly limit")
}

// Classify sorts err into what a caller should do about it: nothing, re-authorise,
// retry, or give up.
func Classify(err error) Classification {
	if err == nil {
		return Classification{Class: ClassNone}
	}
	var ie *IDTokenError
	if errors.As(err, &ie) {
		return Classification{Class: ClassOther, Cause: CauseIDToken}
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return classifyAPI(ae)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return Classification{Class: ClassTransient, Cause: CauseNetwork}
	}
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) {
		return Classification{Class: ClassTransient, Cause: CauseNetwork}
	}
	return Classification{Class: ClassOther}
}

func classifyAPI(e *APIError) Classification {
	msg := strings.ToLower(e.Message)
	switch {
	case e.Status == http.StatusUnauthorized:
		return Classification{Class: ClassAuthBroken, Cause: CauseInvalidToken}
	case e.Status == http.StatusForbidden:
		return Classification{Class: ClassAuthBroken, Cause: CausePermissionRemoved}
	case e.Status == http.StatusTooManyRequests && isMonthlyQuota(e.Message):
		return Classification{Class: ClassTransient, Cause: CauseMonthlyQuota}
	case e.Status == http.StatusTooManyRequests:
		return Classification{Class: ClassTransient, Cause: CauseRateLimited}
	case e.Status >= 500:
		return Classification{Class: ClassTransient, Cause: CauseServerError}
	case e.Status == http.StatusNotFound:
		return Classification{Class: ClassOther, Cause: CauseNotFound}
	// The token-verify endpoints answer 400 with an OAuth error for bad tokens, and "access token
	// expired" for any token they no longer accept, revoked ones included, so the message cannot
	// tell expired from revoked: callers decide from what they know of the token.
	case e.Status == http.StatusBadRequest && e.Code != "" && (strings.Contains(msg, "expired") ||
		(strings.Contains(msg, "invalid") && strings.Contains(msg, "token"))):
		return Classification{Class: ClassAuthBroken, Cause: CauseRefused}
	}
	return Classification{Class: ClassOther}
}
