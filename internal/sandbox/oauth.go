package sandbox

import (
	"crypto/subtle"
	"fmt"
	"net/url"
	"slices"
	"time"
)

// grant is what a Facebook user last allowed the app on the dialog.
type grant struct {
	Scopes    []string  `json:"scopes"`
	Declined  []string  `json:"declined,omitempty"`
	GrantedAt time.Time `json:"granted_at"`
}

// authCode is a one-time OAuth code, bound to the redirect_uri of the dialog request.
type authCode struct {
	UserID      string    `json:"user_id"`
	RedirectURI string    `json:"redirect_uri"`
	Scopes      []string  `json:"scopes"`
	ExpiresAt   time.Time `json:"expires_at"`
	Used        bool      `json:"used"`
}

// AppScopes returns the permissions omnilink requests on the Facebook Login dialog.
func AppScopes() []string { return slices.Clone(appScopes) }

// CheckDialog validates the client_id and redirect_uri of a dialog request, so the dialog
// page can refuse what Facebook would refuse.
func (w *World) CheckDialog(clientID, redirectURI string) error {
	if clientID != w.appID {
		return fmt.Errorf("sandbox: invalid app id %q", clientID)
	}
	return checkRedirectURI(redirectURI)
}

func checkRedirectURI(redirectURI string) error {
	u, err := url.Parse(redirectURI)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("sandbox: redirect_uri %q is not an absolute http(s) URL", redirectURI)
	}
	return nil
}

// DefaultGrant returns the scopes a user leaves ticked on the dialog: everything requested
// except the ones that user declines (ann declines instagram_manage_messages).
func (w *World) DefaultGrant(fbUserID string, requested []string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	u := w.st.user(fbUserID)
	var out []string
	for _, s := range requested {
		if u != nil && slices.Contains(u.Declines, s) {
			continue
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Authorize records the user's grant and issues a one-time code, returning the redirect
// Facebook would send the browser to: {redirect_uri}?code=…&state=….
func (w *World) Authorize(fbUserID string, grantedScopes []string, redirectURI, state string) (string, error) {
	if err := checkRedirectURI(redirectURI); err != nil {
		return "", err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	u := w.st.user(fbUserID)
	if u == nil {
		return "", fmt.Errorf("%w: facebook user %s", ErrNotFound, fbUserID)
	}
	now := w.now()
	var scopes, declined []string
	for _, s := range grantedScopes {
		if s != "" && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	for _, s := range u.Declines {
		if !slices.Contains(scopes, s) {
			declined = append(declined, s)
		}
	}
	w.st.Grants[u.ID] = &grant{Scopes: scopes, Declined: declined, GrantedAt: now}
	for k, c := range w.st.Codes {
		// Keep spent codes a day so a replay still gets "has been used", then forget them.
		if now.Sub(c.ExpiresAt) > 24*time.Hour {
			delete(w.st.Codes, k)
		}
	}
	code := "AQ" + randomString(190, base62+"-_")
	w.st.Codes[code] = &authCode{UserID: u.ID, RedirectURI: redirectURI, Scopes: scopes, ExpiresAt: now.Add(codeTTL)}
	w.changed()
	if err := w.saveLocked(); err != nil {
		return "", err
	}
	return withQuery(redirectURI, url.Values{"code": {code}, "state": {state}}) + "#_=_", nil
}

// Deny returns the redirect Facebook sends when the user cancels the dialog.
func (w *World) Deny(redirectURI, state string) (string, error) {
	if err := checkRedirectURI(redirectURI); err != nil {
		return "", err
	}
	return withQuery(redirectURI, url.Values{
		"error":             {"access_denied"},
		"error_code":        {"200"},
		"error_description": {"Permissions error"},
		"error_reason":      {"user_denied"},
		"state":             {state},
	}) + "#_=_", nil
}

// withQuery adds parameters to a URL, keeping the query it already has.
func withQuery(raw string, add url.Values) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	for k, vs := range add {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// oauthAccessToken serves GET /{v}/oauth/access_token: code exchange, fb_exchange_token
// and client_credentials. The caller holds w.mu.
func (w *World) oauthAccessToken(q url.Values) (any, *graphError) {
	if q.Get("client_id") != w.appID {
		return nil, &graphError{Status: 400, Code: 101, Message: "Error validating application. Invalid application ID."}
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("client_secret")), []byte(w.appSecret)) != 1 {
		return nil, &graphError{Status: 400, Code: 1, Message: "Error validating client secret."}
	}
	now := w.now()
	switch q.Get("grant_type") {
	case "client_credentials":
		return map[string]any{"access_token": w.AppAccessToken(), "token_type": "bearer"}, nil
	case "fb_exchange_token":
		old := w.st.Tokens[q.Get("fb_exchange_token")]
		if old == nil || old.Kind != kindUser {
			return nil, errBadToken()
		}
		if e := w.invalidTokenError(old, now); e != nil {
			return nil, e
		}
		t := w.st.issueUserToken(old.UserID, old.scopes(), now, true)
		w.changed()
		return map[string]any{"access_token": t.Value, "token_type": "bearer", "expires_in": int(longTokenTTL / time.Second)}, nil
	case "", "authorization_code":
	default:
		return nil, &graphError{Status: 400, Code: 100, Message: "Unsupported grant_type: " + q.Get("grant_type")}
	}
	raw := q.Get("code")
	if raw == "" {
		return nil, &graphError{Status: 400, Code: 100, Message: "Missing authorization code"}
	}
	c := w.st.Codes[raw]
	switch {
	case c == nil:
		return nil, &graphError{Status: 400, Code: 100, Message: "Invalid verification code format."}
	case c.Used:
		return nil, &graphError{Status: 400, Code: 100, Subcode: 36009, Message: "This authorization code has been used."}
	case !now.Before(c.ExpiresAt):
		return nil, &graphError{Status: 400, Code: 100, Subcode: 36007, Message: "This authorization code has expired."}
	case q.Get("redirect_uri") != c.RedirectURI:
		// Byte-identical, as Facebook requires: no normalisation of slashes or escapes.
		return nil, &graphError{Status: 400, Code: 100, Subcode: 36008,
			Message: "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request"}
	}
	c.Used = true
	t := w.st.issueUserToken(c.UserID, c.Scopes, now, false)
	w.changed()
	return map[string]any{"access_token": t.Value, "token_type": "bearer", "expires_in": int(shortTokenTTL / time.Second)}, nil
}
