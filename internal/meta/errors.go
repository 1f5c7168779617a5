package meta

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/omnilink/omnilink/internal/platform"
)

// GraphError is the error object Graph returns, plus the HTTP status it came with.
type GraphError struct {
	HTTPStatus  int
	Code        int
	Subcode     int
	Type        string
	Message     string
	UserTitle   string
	UserMsg     string
	FBTraceID   string
	IsTransient bool
}

// Error implements error.
func (e *GraphError) Error() string {
	var b strings.Builder
	b.WriteString("meta: graph error")
	if e.Code != 0 {
		fmt.Fprintf(&b, " %d", e.Code)
		if e.Subcode != 0 {
			fmt.Fprintf(&b, "/%d", e.Subcode)
		}
	}
	if e.Type != "" {
		fmt.Fprintf(&b, " (%s)", e.Type)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " [http %d]", e.HTTPStatus)
	}
	if e.FBTraceID != "" {
		fmt.Fprintf(&b, " [fbtrace_id %s]", e.FBTraceID)
	}
	return b.String()
}

type wireError struct {
	Message     string  `json:"message"`
	Type        string  `json:"type"`
	Code        flexInt `json:"code"`
	Subcode     flexInt `json:"error_subcode"`
	AltSubcode  flexInt `json:"subcode"`
	UserTitle   string  `json:"error_user_title"`
	UserMsg     string  `json:"error_user_msg"`
	FBTraceID   string  `json:"fbtrace_id"`
	IsTransient bool    `json:"is_transient"`
}

func (w wireError) toGraphError(status int, secrets []string) *GraphError {
	sub := int(w.Subcode)
	if sub == 0 {
		sub = int(w.AltSubcode)
	}
	return &GraphError{
		HTTPStatus:  status,
		Code:        int(w.Code),
		Subcode:     sub,
		Type:        w.Type,
		Message:     scrub(w.Message, secrets),
		UserTitle:   scrub(w.UserTitle, secrets),
		UserMsg:     scrub(w.UserMsg, secrets),
		FBTraceID:   w.FBTraceID,
		IsTransient: w.IsTransient,
	}
}

// decodeErrorField reads the "error" member of a Graph answer, which is an object in the
// Graph API and occasionally a bare string on OAuth endpoints.
func decodeErrorField(raw []byte) (*wireError, bool) {
	var env struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(raw, &env) != nil || len(env.Error) == 0 || string(env.Error) == "null" {
		return nil, false
	}
	var w wireError
	if json.Unmarshal(env.Error, &w) == nil {
		return &w, true
	}
	var s string
	if json.Unmarshal(env.Error, &s) == nil {
		return &wireError{Message: s}, true
	}
	return nil, false
}

func parseGraphError(resp *http.Response, raw []byte, secrets []string) *GraphError {
	if w, ok := decodeErrorField(raw); ok {
		return w.toGraphError(resp.StatusCode, secrets)
	}
	return &GraphError{
		HTTPStatus:  resp.StatusCode,
		Message:     "unexpected answer: " + http.StatusText(resp.StatusCode),
		IsTransient: resp.StatusCode >= 500,
	}
}

// errorInBody reports an error object delivered with a 2xx status.
func errorInBody(resp *http.Response, raw []byte, secrets []string) *GraphError {
	if w, ok := decodeErrorField(raw); ok {
		return w.toGraphError(resp.StatusCode, secrets)
	}
	return nil
}

// ErrUnexpectedAnswer matches (errors.Is) a successful answer whose body does not have the shape
// the call documents: it proves nothing about the token or account, so callers must not read
// it as either working or broken.
var ErrUnexpectedAnswer = errors.New("meta: unexpected answer")

func unexpected(what string) error {
	return fmt.Errorf("%w: %s", ErrUnexpectedAnswer, what)
}

// tokenLike matches Meta access tokens (they start with "EA") so that one echoed in an
// error message never reaches logs.
var tokenLike = regexp.MustCompile(`EA[A-Za-z0-9]{30,}`)

func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return tokenLike.ReplaceAllString(s, "[redacted]")
}

// Class, Cause and Classification are the failure taxonomy shared with package line; they live
// in package platform and are named here so rules read naturally.
type (
	Class          = platform.Class
	Cause          = platform.Cause
	Classification = platform.Classification
)

// The taxonomy's values used by Graph's rules.
const (
	ClassNone                 = platform.ClassNone
	ClassAuthBroken           = platform.ClassAuthBroken
	ClassTransient            = platform.ClassTransient
	ClassMessagingWindow      = platform.ClassMessagingWindow
	ClassRecipientUnavailable = platform.ClassRecipientUnavailable
	ClassOther                = platform.ClassOther

	CauseNone              = platform.CauseNone
	CausePasswordChanged   = platform.CausePasswordChanged
	CauseCheckpoint        = platform.CauseCheckpoint
	CauseExpired           = platform.CauseExpired
	CauseAppRemoved        = platform.CauseAppRemoved
	CauseLoggedOut         = platform.CauseLoggedOut
	CauseInvalidToken      = platform.CauseInvalidToken
	CausePermissionRemoved = platform.CausePermissionRemoved
	CauseAccountGone       = platform.CauseAccountGone
	CauseRateLimited       = platform.CauseRateLimited
	CauseServerError       = platform.CauseServerError
	CauseNetwork           = platform.CauseNetwork
)

// anySubcode in a rule matches every subcode; subcode 0 means "none given".
const anySubcode = -1

type rule struct {
	code, codeMax int    // inclusive range; codeMax 0 means just code
	subcode       int    // anySubcode, 0 (no subcode) or a specific subcode
	msg           string // when set, the lower-cased message must contain it
	class         Class
	cause         Cause
}

// rules maps Graph (and WhatsApp Cloud) error codes to classifications. The first
// matching rule wins, so specific subcodes come before the broad codes they refine.
var rules = []rule{
	// Send-API outcomes that share codes with permission errors.
	{code: 10, subcode: 2018278, class: ClassMessagingWindow},
	{code: 10, subcode: 2534022, class: ClassMessagingWindow},
	{code: 10, subcode: 2018065, class: ClassMessagingWindow},
	{code: 131047, subcode: anySubcode, class: ClassMessagingWindow}, // WhatsApp re-engagement
	{code: 10, subcode: 2018108, class: ClassRecipientUnavailable},
	{code: 200, subcode: 1545041, class: ClassRecipientUnavailable},
	{code: 551, subcode: anySubcode, class: ClassRecipientUnavailable},
	{code: 131026, subcode: anySubcode, class: ClassRecipientUnavailable}, // WhatsApp undeliverable
	// "User consent is required to access user profile": an Instagram user who never wrote to
	// the account. In the permission range, but about the person, not the token (230 also says
	// "Requires pages_messaging permission", which is the token's).
	{code: 230, subcode: anySubcode, msg: "consent", class: ClassRecipientUnavailable},

	// Broken tokens.
	{code: 190, subcode: 458, class: ClassAuthBroken, cause: CauseAppRemoved},
	{code: 190, subcode: 459, class: ClassAuthBroken, cause: CauseCheckpoint},
	{code: 190, subcode: 464, class: ClassAuthBroken, cause: CauseCheckpoint},
	{code: 190, subcode: 460, class: ClassAuthBroken, cause: CausePasswordChanged},
	{code: 190, subcode: 463, class: ClassAuthBroken, cause: CauseExpired},
	{code: 190, subcode: 467, class: ClassAuthBroken, cause: CauseLoggedOut},
	// UNCONFIRMED: 190/492 "invalid session", seen when the user lost their Page role.
	{code: 190, subcode: 492, class: ClassAuthBroken, cause: CausePermissionRemoved},
	{code: 190, subcode: 0, msg: "expired", class: ClassAuthBroken, cause: CauseExpired},
	{code: 190, subcode: anySubcode, class: ClassAuthBroken, cause: CauseInvalidToken},
	{code: 102, subcode: anySubcode, class: ClassAuthBroken, cause: CauseInvalidToken},
	{code: 10, subcode: anySubcode, class: ClassAuthBroken, cause: CausePermissionRemoved},
	{code: 200, codeMax: 299, subcode: anySubcode, class: ClassAuthBroken, cause: CausePermissionRemoved},
	{code: 100, subcode: 33, class: ClassAuthBroken, cause: CauseAccountGone},
	{code: 803, subcode: anySubcode, class: ClassAuthBroken, cause: CauseAccountGone}, // alias does not exist

	// Throttling and server trouble.
	{code: 4, subcode: anySubcode, class: ClassTransient, cause: CauseRateLimited},
	{code: 17, subcode: anySubcode, class: ClassTransient, cause: CauseRateLimited},
	{code: 32, subcode: anySubcode, class: ClassTransient, cause: CauseRateLimited},
	{code: 613, subcode: anySubcode, class: ClassTransient, cause: CauseRateLimited},
	// UNCONFIRMED: the exact 800xx business-use-case codes per product.
	{code: 80001, codeMax: 80009, subcode: anySubcode, class: ClassTransient, cause: CauseRateLimited},
	{code: 130429, subcode: anySubcode, class: ClassTransient, cause: CauseRateLimited}, // WhatsApp throughput
	{code: 1, subcode: anySubcode, class: ClassTransient, cause: CauseServerError},
	{code: 2, subcode: anySubcode, class: ClassTransient, cause: CauseServerError},
}

func (r rule) matches(e *GraphError) bool {
	hi := r.codeMax
	if hi == 0 {
		hi = r.code
	}
	if e.Code < r.code || e.Code > hi {
		return false
	}
	if r.subcode != anySubcode && r.subcode != e.Subcode {
		return false
	}
	return r.msg == "" || strings.Contains(strings.ToLower(e.Message), r.msg)
}

// Classify sorts err into what a caller should do about it: nothing, re-authorise,
// retry, wait for the customer, or give up. It understands *GraphError anywhere in the
// chain as well as transport errors and timeouts.
func Classify(err error) Classification {
	if err == nil {
		return Classification{Class: ClassNone}
	}
	var ge *GraphError
	if errors.As(err, &ge) {
		return classifyGraph(ge)
	}
	if c, ok := platform.Transport(err); ok {
		return c
	}
	return Classification{Class: ClassOther}
}

func classifyGraph(e *GraphError) Classification {
	for _, r := range rules {
		if r.matches(e) {
			return Classification{Class: r.class, Cause: r.cause}
		}
	}
	switch {
	case e.HTTPStatus == http.StatusTooManyRequests:
		return Classification{Class: ClassTransient, Cause: CauseRateLimited}
	case e.IsTransient, e.HTTPStatus >= 500:
		return Classification{Class: ClassTransient, Cause: CauseServerError}
	}
	return Classification{Class: ClassOther}
}
