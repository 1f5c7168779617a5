package line

import (
	"errors"
	"net/http"
	"strings"

	"github.com/omnilink/omnilink/internal/platform"
)

// Class, Cause and Classification are the failure taxonomy shared with package meta; they live
// in package platform.
type (
	Class          = platform.Class
	Cause          = platform.Cause
	Classification = platform.Classification
)

// The taxonomy's values LINE's answers map to.
const (
	ClassNone       = platform.ClassNone
	ClassAuthBroken = platform.ClassAuthBroken
	ClassTransient  = platform.ClassTransient
	ClassOther      = platform.ClassOther

	CauseNone              = platform.CauseNone
	CauseInvalidToken      = platform.CauseInvalidToken      // 401: the channel token is wrong or revoked
	CauseRefused           = platform.CauseRefused           // a verify endpoint refused the token: expired or revoked, LINE does not say which
	CausePermissionRemoved = platform.CausePermissionRemoved // 403: no permission, or the plan does not allow it
	CauseRateLimited       = platform.CauseRateLimited       // 429: too many requests, retry soon
	CauseMonthlyQuota      = platform.CauseMonthlyQuota      // 429: the monthly message quota is used up
	CauseServerError       = platform.CauseServerError       // 5xx
	CauseNetwork           = platform.CauseNetwork           // transport failures and timeouts
	CauseNotFound          = platform.CauseNotFound          // 404
	CauseIDToken           = platform.CauseIDToken           // a rejected LIFF ID token
)

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
	if c, ok := platform.Transport(err); ok {
		return c
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
