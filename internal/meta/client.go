// Package meta is a small client for the parts of Meta's Graph API that omnilink uses:
// Facebook Login, Pages, Instagram messaging through a Page, the WhatsApp Cloud API,
// token debugging, the Send APIs and webhooks.
//
// Every base URL is configurable so that the sandbox emulator can stand in for Meta.
package meta

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults used when the matching Config field is empty.
const (
	DefaultGraphURL     = "https://graph.facebook.com" // Graph API host
	DefaultDialogURL    = "https://www.facebook.com"   // Login dialog host
	DefaultGraphVersion = "v25.0"                      // Graph API version in every path
)

const (
	// maxResponseBytes bounds how much of a Graph answer is read, so a broken or hostile
	// upstream cannot exhaust memory.
	maxResponseBytes = 8 << 20
	// defaultTimeout applies only when the caller supplies no http.Client.
	defaultTimeout = 30 * time.Second
)

// Config holds the app credentials and endpoints of a Client.
type Config struct {
	AppID        string
	AppSecret    string
	GraphURL     string // default DefaultGraphURL
	DialogURL    string // default DefaultDialogURL
	GraphVersion string // default DefaultGraphVersion
	HTTPClient   *http.Client
	// OnUsage, when set, is called after every response that carries rate-limit usage
	// headers, so a caller can slow down before Meta throttles it. It must be safe for
	// concurrent use.
	OnUsage func(Usage)
}

// Client talks to the Graph API; it is safe for concurrent use.
type Client struct {
	appID     string
	appSecret string
	graphURL  string
	dialogURL string
	version   string
	hc        *http.Client
	onUsage   func(Usage)
	now       func() time.Time
}

// New builds a Client from cfg, filling in defaults for empty fields.
func New(cfg Config) *Client {
	c := &Client{
		appID:     cfg.AppID,
		appSecret: cfg.AppSecret,
		graphURL:  strings.TrimRight(orDefault(cfg.GraphURL, DefaultGraphURL), "/"),
		dialogURL: strings.TrimRight(orDefault(cfg.DialogURL, DefaultDialogURL), "/"),
		version:   strings.Trim(orDefault(cfg.GraphVersion, DefaultGraphVersion), "/"),
		hc:        cfg.HTTPClient,
		onUsage:   cfg.OnUsage,
		now:       time.Now,
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: defaultTimeout}
	}
	return c
}

func orDefault(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return v
}

// call describes one Graph request.
type call struct {
	method string
	path   string // relative to /{version}/, segments already escaped
	abs    *url.URL
	query  url.Values
	body   any // marshalled as JSON when non-nil
	token  string
	bearer bool // send the token as an Authorization header instead of a query parameter
}

// graphPath joins path segments, escaping each one, because ids come from stored data.
func graphPath(segments ...string) string {
	esc := make([]string, len(segments))
	for i, s := range segments {
		esc[i] = url.PathEscape(s)
	}
	return strings.Join(esc, "/")
}

func (c *Client) endpoint(path string) string {
	return c.graphURL + "/" + c.version + "/" + path
}

// authorize attaches an access token and its appsecret_proof. The Login and Pages docs
// pass access_token as a query parameter, the WhatsApp docs use a bearer header; Graph
// accepts both, so each call picks the documented form.
func (c *Client) authorize(req *http.Request, q url.Values, token string, bearer bool) {
	if token == "" {
		return
	}
	if bearer {
		q.Del("access_token")
		req.Header.Set("Authorization", "Bearer "+token)
	} else {
		q.Set("access_token", token)
	}
	if c.appSecret != "" {
		// The proof lets apps enable "Require App Secret" so a leaked token alone is useless.
		q.Set("appsecret_proof", appSecretProof(c.appSecret, token))
	}
}

func appSecretProof(secret, token string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

// do performs cl and decodes a successful JSON answer into out (when non-nil).
func (c *Client) do(ctx context.Context, cl call, out any) error {
	var u *url.URL
	if cl.abs != nil {
		cp := *cl.abs
		u = &cp
	} else {
		var err error
		u, err = url.Parse(c.endpoint(cl.path))
		if err != nil {
			return fmt.Errorf("meta: bad endpoint %q: %w", cl.path, err)
		}
	}
	q := u.Query()
	for k, vs := range cl.query {
		q[k] = vs
	}

	var body io.Reader
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return fmt.Errorf("meta: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u.String(), body)
	if err != nil {
		return fmt.Errorf("meta: build request: %w", err)
	}
	c.authorize(req, q, cl.token, cl.bearer)
	req.URL.RawQuery = q.Encode()
	req.Header.Set("Accept", "application/json")
	if cl.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		return redactTransportError(err, req)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return redactTransportError(err, req)
	}
	if u, ok := ParseUsage(resp.Header); ok && c.onUsage != nil {
		c.onUsage(u)
	}

	// Graph sometimes echoes the token it rejected; none of these may reach an error string.
	secrets := []string{cl.token, c.appSecret, q.Get("fb_exchange_token"), q.Get("input_token"), q.Get("code")}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return parseGraphError(resp, raw, secrets)
	}
	if ge := errorInBody(resp, raw, secrets); ge != nil {
		return ge
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%w: decode %s %s answer: %v", ErrUnexpectedAnswer, cl.method, redactURL(req.URL), err)
	}
	return nil
}

// redactURL drops the query string, which carries tokens, secrets and codes.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// redactTransportError keeps the error chain (timeouts, net errors) but removes the
// query string that net/http puts into *url.Error messages.
func redactTransportError(err error, req *http.Request) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: redactURL(req.URL), Err: ue.Err}
	}
	return &url.Error{Op: req.Method, URL: redactURL(req.URL), Err: err}
}
