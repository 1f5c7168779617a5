package sandbox

import (
	"fmt"
	"slices"
	"time"
)

type tokenKind string

const (
	kindUser        tokenKind = "user"         // Facebook user token (short- or long-lived)
	kindPage        tokenKind = "page"         // Page token derived from a user token
	kindSystemUser  tokenKind = "system_user"  // WhatsApp system-user token
	kindLINEChannel tokenKind = "line_channel" // LINE channel access token
	kindLIFF        tokenKind = "liff"         // LINE Login / LIFF access token of a LINE user
)

// Token lifetimes as the platforms document them.
const (
	shortTokenTTL   = time.Hour
	longTokenTTL    = 5183944 * time.Second // the expires_in Graph returns for fb_exchange_token
	dataAccessTTL   = 90 * 24 * time.Hour
	codeTTL         = time.Hour
	liffTokenTTL    = 12 * time.Hour
	idTokenTTL      = time.Hour
	replyTokenTTL   = time.Minute
	retryKeyTTL     = 24 * time.Hour
	messagingWindow = 24 * time.Hour
	humanAgentTTL   = 7 * 24 * time.Hour
)

type token struct {
	Value     string    `json:"value"`
	Kind      tokenKind `json:"kind"`
	UserID    string    `json:"user_id,omitempty"`    // Facebook user, system user, or LINE user (liff)
	PageID    string    `json:"page_id,omitempty"`    // page tokens
	AccountID string    `json:"account_id,omitempty"` // WhatsApp phone-number id, LINE channel id, LINE Login channel id
	Scopes    []string  `json:"scopes"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"` // zero = never
	LongLived bool      `json:"long_lived,omitempty"`
	// PageTokens remembers the Page tokens derived from a user token, so repeated
	// me/accounts calls hand out the same token as Graph does for a given session.
	PageTokens map[string]string `json:"page_tokens,omitempty"`

	// Control-panel damage, cleared by Repair.
	Broken        Cause     `json:"broken,omitempty"` // an invalidating cause, or ""
	BrokenAt      time.Time `json:"broken_at"`
	RemovedScopes []string  `json:"removed_scopes,omitempty"`
	RateLimited   bool      `json:"rate_limited,omitempty"`
}

// scopes returns the scopes the token still carries.
func (t *token) scopes() []string {
	out := make([]string, 0, len(t.Scopes))
	for _, s := range t.Scopes {
		if !slices.Contains(t.RemovedScopes, s) {
			out = append(out, s)
		}
	}
	return out
}

func (t *token) has(scope string) bool { return slices.Contains(t.scopes(), scope) }

// expired reports natural expiry; a token broken with CauseExpired is handled as broken.
func (t *token) expired(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}

// valid reports whether the token authenticates at all (rate limits and scopes aside).
func (t *token) valid(now time.Time) bool { return t.Broken == "" && !t.expired(now) }

// expiresAt is what debug_token shows: the break time for a token broken as expired.
func (t *token) expiresAt() time.Time {
	if t.Broken == CauseExpired {
		return t.BrokenAt
	}
	return t.ExpiresAt
}

// metaTime formats a time the way Graph's expiry messages do.
func metaTime(t time.Time) string {
	return t.UTC().Format("Monday, 02-Jan-06 15:04:05 MST")
}

// invalidTokenError is the Graph error for a token that no longer authenticates, or nil.
func (w *World) invalidTokenError(t *token, now time.Time) *graphError {
	if t == nil {
		return errBadToken()
	}
	switch t.Broken {
	case CausePasswordChanged:
		return &graphError{Status: 400, Code: 190, Subcode: 460,
			Message: "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons."}
	case CauseCheckpoint:
		return &graphError{Status: 400, Code: 190, Subcode: 459,
			Message:   "Error validating access token: You cannot access the app till you log in to www.facebook.com and follow the instructions given.",
			UserTitle: "Log in to Facebook", UserMsg: "Log in to www.facebook.com and follow the instructions given."}
	case CauseAppRemoved:
		return &graphError{Status: 400, Code: 190, Subcode: 458,
			Message: fmt.Sprintf("Error validating access token: The user has not authorized application %s.", w.appID)}
	case CauseExpired:
		return expiredError(t.BrokenAt, now)
	case CauseTokenInvalid, CauseTokenRevoked, CauseChannelDeleted:
		return errBadToken()
	}
	if t.expired(now) {
		return expiredError(t.ExpiresAt, now)
	}
	return nil
}

func expiredError(at, now time.Time) *graphError {
	return &graphError{Status: 400, Code: 190, Subcode: 463,
		Message: fmt.Sprintf("Error validating access token: Session has expired on %s. The current time is %s.", metaTime(at), metaTime(now))}
}

func errBadToken() *graphError {
	return &graphError{Status: 400, Code: 190, Message: "Invalid OAuth access token - Cannot parse access token"}
}

// newToken stores a fresh token with a random value in Graph's or LINE's style.
func (s *state) newToken(t *token) *token {
	switch t.Kind {
	case kindLINEChannel, kindLIFF:
		t.Value = randomString(40, base62) + "." + randomString(120, base62)
	default:
		t.Value = "EAAM" + randomString(176, base62)
	}
	s.Tokens[t.Value] = t
	return t
}

// issueUserToken creates a Facebook user token.
func (s *state) issueUserToken(userID string, scopes []string, now time.Time, long bool) *token {
	ttl := shortTokenTTL
	if long {
		ttl = longTokenTTL
	}
	return s.newToken(&token{Kind: kindUser, UserID: userID, Scopes: slices.Clone(scopes),
		IssuedAt: now, ExpiresAt: now.Add(ttl), LongLived: long})
}

// pageToken returns the Page token derived from a user token. As Graph documents, a Page
// token obtained with a long-lived user token does not expire; one from a short-lived
// token expires with it.
func (s *state) pageToken(user *token, pageID string, now time.Time) *token {
	if v, ok := user.PageTokens[pageID]; ok {
		if t := s.Tokens[v]; t != nil {
			return t
		}
	}
	t := s.newToken(&token{Kind: kindPage, UserID: user.UserID, PageID: pageID,
		Scopes: user.scopes(), IssuedAt: now, LongLived: user.LongLived})
	if !user.LongLived {
		t.ExpiresAt = user.ExpiresAt
	}
	if user.PageTokens == nil {
		user.PageTokens = map[string]string{}
	}
	user.PageTokens[pageID] = t.Value
	return t
}
