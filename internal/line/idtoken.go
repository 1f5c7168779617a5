package line

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/omnilink/omnilink/internal/jsontree"
)

// IDToken is the verified payload of a LINE Login (LIFF) ID token.
type IDToken struct {
	Iss      string
	Sub      string // the LINE userId; equals webhook source.userId within one provider
	Aud      string // the LINE Login channel id
	Exp      time.Time
	Iat      time.Time
	AuthTime time.Time
	Nonce    string
	AMR      []string
	Name     string
	Picture  string
	Email    string
}

// IDTokenReason says why LINE rejected an ID token.
type IDTokenReason string

// Reasons for rejecting an ID token.
const (
	IDTokenInvalid  IDTokenReason = "invalid"  // malformed, bad signature, or unknown
	IDTokenIssuer   IDTokenReason = "issuer"   // not issued by LINE
	IDTokenExpired  IDTokenReason = "expired"  // past exp; the LIFF page should log in again
	IDTokenAudience IDTokenReason = "audience" // issued for another channel
	IDTokenNonce    IDTokenReason = "nonce"    // nonce mismatch
	IDTokenSubject  IDTokenReason = "subject"  // subject mismatch or missing
)

// IDTokenError is a rejected ID token. errors.Is matches it against the ErrIDToken*
// values by reason.
type IDTokenError struct {
	Reason      IDTokenReason
	Description string // LINE's error_description
}

// Error implements error.
func (e *IDTokenError) Error() string {
	if e.Description == "" {
		return "line: id token rejected: " + string(e.Reason)
	}
	return "line: id token rejected (" + string(e.Reason) + "): " + e.Description
}

// Is matches another *IDTokenError with the same reason.
func (e *IDTokenError) Is(target error) bool {
	t, ok := target.(*IDTokenError)
	return ok && t.Reason == e.Reason
}

// Sentinels for errors.Is on VerifyIDToken errors.
var (
	ErrIDTokenInvalid  = &IDTokenError{Reason: IDTokenInvalid}  // matches IDTokenInvalid
	ErrIDTokenIssuer   = &IDTokenError{Reason: IDTokenIssuer}   // matches IDTokenIssuer
	ErrIDTokenExpired  = &IDTokenError{Reason: IDTokenExpired}  // matches IDTokenExpired
	ErrIDTokenAudience = &IDTokenError{Reason: IDTokenAudience} // matches IDTokenAudience
	ErrIDTokenNonce    = &IDTokenError{Reason: IDTokenNonce}    // matches IDTokenNonce
	ErrIDTokenSubject  = &IDTokenError{Reason: IDTokenSubject}  // matches IDTokenSubject
)

// idTokenReason maps LINE's error_description for /oauth2/v2.1/verify to a reason.
func idTokenReason(description string) IDTokenReason {
	switch strings.TrimSuffix(strings.TrimSpace(description), ".") {
	case "IdToken expired":
		return IDTokenExpired
	case "Invalid IdToken Issuer":
		return IDTokenIssuer
	case "Invalid IdToken Audience":
		return IDTokenAudience
	case "Invalid IdToken Nonce":
		return IDTokenNonce
	case "Invalid IdToken Subject Identifier":
		return IDTokenSubject
	}
	return IDTokenInvalid
}

// stringOrList accepts aud as a string or, as JWTs allow, a list of strings.
type stringOrList []string

// UnmarshalJSON implements json.Unmarshaler.
func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if json.Unmarshal(b, &many) == nil {
		*s = many
		return nil
	}
	*s = nil
	return nil
}

// VerifyIDToken asks LINE to verify a raw ID token from liff.getIDToken() for the given
// LINE Login channel. The server must never trust decoded token data sent by a browser;
// only this verified answer counts.
func (c *Client) VerifyIDToken(ctx context.Context, idToken, loginChannelID string) (IDToken, error) {
	if idToken == "" {
		return IDToken{}, &IDTokenError{Reason: IDTokenInvalid, Description: "empty id token"}
	}
	if loginChannelID == "" {
		return IDToken{}, errors.New("line: empty LINE Login channel id")
	}
	resp, err := c.send(ctx, request{method: http.MethodPost, path: "/oauth2/v2.1/verify",
		form: url.Values{"id_token": {idToken}, "client_id": {loginChannelID}}})
	if err != nil {
		return IDToken{}, err
	}
	if resp.status == http.StatusBadRequest {
		apiErr := parseAPIError(resp, idToken)
		return IDToken{}, &IDTokenError{Reason: idTokenReason(apiErr.Message), Description: apiErr.Message}
	}
	if resp.status < 200 || resp.status > 299 {
		return IDToken{}, parseAPIError(resp, idToken)
	}
	var a struct {
		Iss      string       `json:"iss"`
		Sub      string       `json:"sub"`
		Aud      stringOrList `json:"aud"`
		Exp      lenientInt   `json:"exp"`
		Iat      lenientInt   `json:"iat"`
		AuthTime lenientInt   `json:"auth_time"`
		Nonce    string       `json:"nonce"`
		AMR      []string     `json:"amr"`
		Name     string       `json:"name"`
		Picture  string       `json:"picture"`
		Email    string       `json:"email"`
	}
	if err := json.Unmarshal(resp.body, &a); err != nil {
		return IDToken{}, errors.New("line: undecodable id token verification answer")
	}
	t := IDToken{Iss: a.Iss, Sub: a.Sub, Exp: unixSeconds(a.Exp), Iat: unixSeconds(a.Iat), AuthTime: unixSeconds(a.AuthTime),
		Nonce: a.Nonce, AMR: a.AMR, Name: a.Name, Picture: a.Picture, Email: a.Email}
	// Defence in depth: the answer must be about this channel and name a user.
	for _, aud := range a.Aud {
		if aud == loginChannelID {
			t.Aud = aud
		}
	}
	if t.Aud == "" {
		return IDToken{}, &IDTokenError{Reason: IDTokenAudience, Description: "audience does not match the channel"}
	}
	if t.Sub == "" {
		return IDToken{}, &IDTokenError{Reason: IDTokenSubject, Description: "no subject"}
	}
	return t, nil
}

// lenientInt reads a number or numeric string; anything else reads as zero, so an odd
// optional claim does not void a verified token.
type lenientInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *lenientInt) UnmarshalJSON(b []byte) error {
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if d.Decode(&v) == nil {
		*n = lenientInt(jsontree.Int(v))
	}
	return nil
}

func unixSeconds(v lenientInt) time.Time {
	if v <= 0 || v > 1<<40 {
		return time.Time{}
	}
	return time.Unix(int64(v), 0)
}
