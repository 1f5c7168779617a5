// Package line wraps the parts of the LINE Messaging API and LINE Login that omnilink
// uses: bot info and token checks for health, push/reply, profiles, per-user rich menus,
// LIFF ID-token verification and webhook verification and parsing.
//
// It speaks plain HTTP so that the configured base URL can point at the sandbox emulator.
package line

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultAPIURL is used when Config.APIURL is empty.
const DefaultAPIURL = "https://api.line.me"

const (
	// maxResponseBytes bounds how much of an answer is read.
	maxResponseBytes = 4 << 20
	// defaultTimeout applies only when the caller supplies no http.Client.
	defaultTimeout = 30 * time.Second
)

// Config holds the endpoint and transport of a Client.
type Config struct {
	APIURL     string // default DefaultAPIURL
	HTTPClient *http.Client
}

// Client talks to the LINE APIs; it is safe for concurrent use. Channel tokens are
// passed per call because every LINE channel has its own.
type Client struct {
	apiURL string
	hc     *http.Client
}

// New builds a Client from cfg, filling in defaults for empty fields.
func New(cfg Config) *Client {
	c := &Client{apiURL: strings.TrimRight(cfg.APIURL, "/"), hc: cfg.HTTPClient}
	if strings.TrimSpace(c.apiURL) == "" {
		c.apiURL = DefaultAPIURL
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: defaultTimeout}
	}
	return c
}

// ErrNotFound matches (with errors.Is) an *APIError with status 404, e.g. a profile of a
// user who is not a friend or has blocked the account.
var ErrNotFound = errors.New("line: not found")

// APIError is a non-2xx answer from LINE.
type APIError struct {
	Status    int
	Message   string        // "message", or error_description on OAuth endpoints
	Details   []ErrorDetail // per-property problems
	Code      string        // OAuth "error" field, e.g. invalid_request
	RequestID string        // X-Line-Request-Id, for LINE support
}

// ErrorDetail is one entry of an APIError's details.
type ErrorDetail struct {
	Message  string `json:"message"`
	Property string `json:"property"`
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line: http %d", e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	for _, d := range e.Details {
		fmt.Fprintf(&b, "; %s: %s", d.Property, d.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", e.RequestID)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) work for 404 answers.
func (e *APIError) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

type request struct {
	method string
	path   string // absolute path, segments already escaped
	query  url.Values
	form   url.Values // sent as application/x-www-form-urlencoded
	body   any        // sent as JSON
	token  string     // channel access token, sent as a bearer header
	header http.Header
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// send performs r and returns the raw answer whatever its status; transport failures are
// errors with the query string (which may carry a token) removed.
func (c *Client) send(ctx context.Context, r request) (*response, error) {
	u := c.apiURL + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	var ctype string
	switch {
	case r.form != nil:
		body = strings.NewReader(r.form.Encode())
		ctype = "application/x-www-form-urlencoded"
	case r.body != nil:
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("line: encode request: %w", err)
		}
		body = bytes.NewReader(b)
		ctype = "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("line: build request for %s: %w", r.path, err)
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, redactTransportError(err, req)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, redactTransportError(err, req)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: raw}, nil
}

// do performs r, turns non-2xx answers into *APIError and decodes JSON into out.
func (c *Client) do(ctx context.Context, r request, out any) error {
	resp, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	if resp.status < 200 || resp.status > 299 {
		return parseAPIError(resp, r.token)
	}
	if out == nil || len(bytes.TrimSpace(resp.body)) == 0 {
		if out != nil {
			return fmt.Errorf("line: empty answer from %s", r.path)
		}
		return nil
	}
	if err := json.Unmarshal(resp.body, out); err != nil {
		return fmt.Errorf("line: decode answer from %s: %w", r.path, err)
	}
	return nil
}

func parseAPIError(resp *response, token string) *APIError {
	e := &APIError{Status: resp.status, RequestID: resp.header.Get("X-Line-Request-Id")}
	var w struct {
		Message          any           `json:"message"`
		Details          []ErrorDetail `json:"details"`
		Error            any           `json:"error"`
		ErrorDescription any           `json:"error_description"`
	}
	if json.Unmarshal(resp.body, &w) == nil {
		e.Message, _ = w.Message.(string)
		e.Code, _ = w.Error.(string)
		if d, ok := w.ErrorDescription.(string); ok && d != "" {
			e.Message = d
		}
		e.Details = w.Details
	} else {
		// Details may have the wrong shape; keep whatever else is readable.
		var m map[string]any
		if json.Unmarshal(resp.body, &m) == nil {
			e.Message, _ = m["message"].(string)
		}
	}
	if e.Message == "" && e.Code == "" {
		e.Message = http.StatusText(resp.status)
	}
	if token != "" && len(token) >= 4 {
		e.Message = strings.ReplaceAll(e.Message, token, "[redacted]")
	}
	return e
}

func redactURL(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.Path
}

// redactTransportError keeps the error chain but drops the query string from the URL
// that net/http puts into its errors.
func redactTransportError(err error, req *http.Request) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: redactURL(req.URL), Err: ue.Err}
	}
	return &url.Error{Op: req.Method, URL: redactURL(req.URL), Err: err}
}

// pathSegment escapes a path segment and rejects values that would not name one
// resource, since ids come from stored and outside data.
func pathSegment(name, v string) (string, error) {
	if v == "" || v == "." || v == ".." {
		return "", fmt.Errorf("line: invalid %s %q", name, v)
	}
	return url.PathEscape(v), nil
}

// decodeLenient decodes body into out, treating an empty body as an empty object.
func decodeLenient(body []byte, out any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	return json.Unmarshal(body, out)
}
