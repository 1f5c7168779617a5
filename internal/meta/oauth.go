package meta

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Token is an access token and when it stops working.
type Token struct {
	AccessToken string
	ExpiresAt   time.Time // zero means it does not expire
}

// String hides the token so that printing a Token never leaks it.
func (t Token) String() string {
	if t.ExpiresAt.IsZero() {
		return "meta.Token{[redacted], never expires}"
	}
	return "meta.Token{[redacted], expires " + t.ExpiresAt.UTC().Format(time.RFC3339) + "}"
}

// LogValue hides the token from slog.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.Time("expires_at", t.ExpiresAt))
}

// AuthOption adjusts the Facebook Login dialog URL.
type AuthOption func(url.Values)

// Rerequest asks Facebook to show permissions the user declined earlier again.
func Rerequest() AuthOption {
	return func(v url.Values) { v.Set("auth_type", "rerequest") }
}

// OverrideDefaultResponseType adds the flag that Facebook Login for Business
// system-user configurations need to return a code. UNCONFIRMED whether user-token
// configurations need it too.
func OverrideDefaultResponseType() AuthOption {
	return func(v url.Values) { v.Set("override_default_response_type", "true") }
}

// AuthCodeURL returns the Facebook Login dialog URL for the server-side code flow.
// With a non-empty configID (Facebook Login for Business) the configuration decides the
// permissions and scopes are not sent, because Facebook rejects both together.
func (c *Client) AuthCodeURL(redirectURI, state string, scopes []string, configID string, opts ...AuthOption) string {
	v := url.Values{}
	v.Set("client_id", c.appID)
	v.Set("redirect_uri", redirectURI)
	v.Set("state", state)
	v.Set("response_type", "code")
	if configID != "" {
		v.Set("config_id", configID)
	} else if len(scopes) > 0 {
		v.Set("scope", strings.Join(scopes, ","))
	}
	for _, o := range opts {
		o(v)
	}
	return c.dialogURL + "/" + c.version + "/dialog/oauth?" + v.Encode()
}

type tokenAnswer struct {
	AccessToken string  `json:"access_token"`
	TokenType   string  `json:"token_type"`
	ExpiresIn   flexInt `json:"expires_in"`
}

// ExchangeCode trades the code from the Login redirect for a short-lived user token.
// redirectURI must be byte-identical to the one used in AuthCodeURL.
func (c *Client) ExchangeCode(ctx context.Context, code, redirectURI string) (Token, error) {
	if code == "" {
		return Token{}, errors.New("meta: empty authorization code")
	}
	return c.tokenCall(ctx, url.Values{
		"client_id":     {c.appID},
		"client_secret": {c.appSecret},
		"redirect_uri":  {redirectURI},
		"code":          {code},
	})
}

// ExchangeLongLived trades a short-lived user token for a long-lived (~60 day) one.
func (c *Client) ExchangeLongLived(ctx context.Context, shortToken string) (Token, error) {
	if shortToken == "" {
		return Token{}, errors.New("meta: empty token to exchange")
	}
	return c.tokenCall(ctx, url.Values{
		"grant_type":        {"fb_exchange_token"},
		"client_id":         {c.appID},
		"client_secret":     {c.appSecret},
		"fb_exchange_token": {shortToken},
	})
}

func (c *Client) tokenCall(ctx context.Context, q url.Values) (Token, error) {
	if c.appID == "" || c.appSecret == "" {
		return Token{}, errors.New("meta: app id and secret are required for token exchange")
	}
	var a tokenAnswer
	if err := c.do(ctx, call{method: http.MethodGet, path: "oauth/access_token", query: q}, &a); err != nil {
		return Token{}, err
	}
	if a.AccessToken == "" {
		return Token{}, errors.New("meta: token endpoint answered without an access_token")
	}
	t := Token{AccessToken: a.AccessToken}
	if a.ExpiresIn > 0 {
		t.ExpiresAt = c.now().Add(time.Duration(min(int64(a.ExpiresIn), maxSeconds)) * time.Second)
	}
	return t, nil
}

// maxSeconds caps second counts converted to time.Duration so garbage cannot overflow.
const maxSeconds = int64(100 * 365 * 24 * 3600)
