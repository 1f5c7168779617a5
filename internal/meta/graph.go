package meta

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// User is the Facebook user behind a user token.
type User struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Me returns the user that userToken belongs to.
func (c *Client) Me(ctx context.Context, userToken string) (User, error) {
	var u User
	err := c.do(ctx, call{method: http.MethodGet, path: "me", query: url.Values{"fields": {"id,name"}}, token: userToken}, &u)
	if err == nil && u.ID == "" {
		err = errors.New("meta: /me answered without an id")
	}
	return u, err
}

// Permissions lists the scopes a user granted, declined or let expire.
type Permissions struct {
	Granted  []string
	Declined []string
	Expired  []string
}

// Has reports whether every scope in scopes is granted.
func (p Permissions) Has(scopes ...string) bool {
	for _, s := range scopes {
		if !slices.Contains(p.Granted, s) {
			return false
		}
	}
	return true
}

// Permissions reads GET /me/permissions for userToken.
func (c *Client) Permissions(ctx context.Context, userToken string) (Permissions, error) {
	var a struct {
		Data []struct {
			Permission string `json:"permission"`
			Status     string `json:"status"`
		} `json:"data"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: "me/permissions", token: userToken}, &a); err != nil {
		return Permissions{}, err
	}
	var p Permissions
	for _, d := range a.Data {
		switch d.Status {
		case "granted":
			p.Granted = append(p.Granted, d.Permission)
		case "declined":
			p.Declined = append(p.Declined, d.Permission)
		case "expired":
			p.Expired = append(p.Expired, d.Permission)
		}
	}
	return p, nil
}

// IGAccount is an Instagram professional account.
type IGAccount struct {
	ID                string `json:"id"`
	Username          string `json:"username"`
	Name              string `json:"name"`
	ProfilePictureURL string `json:"profile_picture_url"`
}

// Page is a Facebook Page the user can manage, with its Page token and linked
// Instagram account (nil when none is linked).
type Page struct {
	ID          string
	Name        string
	AccessToken string
	Tasks       []string
	PictureURL  string
	Instagram   *IGAccount
	// ConnectedInstagram is a linked Instagram account that is not a business account (nil otherwise).
	ConnectedInstagram *IGAccount
}

// LogValue hides the Page token from slog.
func (p Page) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", p.ID), slog.String("name", p.Name))
}

// CanMessage reports whether the user's tasks on the Page allow replying to messages.
func (p Page) CanMessage() bool {
	return slices.Contains(p.Tasks, "MESSAGING") || slices.Contains(p.Tasks, "MODERATE") || slices.Contains(p.Tasks, "MANAGE")
}

// connected_instagram_account is asked for as well: it is present while instagram_business_account
// is absent when the linked account is not a business account (a creator), which cannot be connected.
const accountsFields = "id,name,access_token,tasks,picture{url},instagram_business_account{id,username,name,profile_picture_url},connected_instagram_account{id,username}"

// maxPages bounds paging so a misbehaving server cannot keep us looping.
const maxPages = 100

type pagingInfo struct {
	Next    string `json:"next"`
	Cursors struct {
		After string `json:"after"`
	} `json:"cursors"`
}

// Accounts lists the Pages the user manages (GET /me/accounts), following paging.
func (c *Client) Accounts(ctx context.Context, userToken string) ([]Page, error) {
	var out []Page
	first := call{method: http.MethodGet, path: "me/accounts", token: userToken,
		query: url.Values{"fields": {accountsFields}, "limit": {"100"}}}
	cl := first
	seen := map[string]bool{}
	for range maxPages {
		var a struct {
			Data []struct {
				ID          string    `json:"id"`
				Name        string    `json:"name"`
				AccessToken string    `json:"access_token"`
				Tasks       []string  `json:"tasks"`
				Picture     *struct { // picture{url} arrives wrapped in "data"
					Data struct {
						URL string `json:"url"`
					} `json:"data"`
				} `json:"picture"`
				Instagram *IGAccount `json:"instagram_business_account"`
				Connected *IGAccount `json:"connected_instagram_account"`
			} `json:"data"`
			Paging pagingInfo `json:"paging"`
		}
		if err := c.do(ctx, cl, &a); err != nil {
			return nil, err
		}
		for _, d := range a.Data {
			p := Page{ID: d.ID, Name: d.Name, AccessToken: d.AccessToken, Tasks: d.Tasks, Instagram: d.Instagram}
			if d.Instagram == nil {
				p.ConnectedInstagram = d.Connected
			}
			if d.Picture != nil {
				p.PictureURL = d.Picture.Data.URL
			}
			if p.Instagram != nil && p.Instagram.ID == "" {
				p.Instagram = nil
			}
			out = append(out, p)
		}
		next, ok := c.nextCall(first, a.Paging)
		if !ok || len(a.Data) == 0 {
			return out, nil
		}
		key := next.path + "?" + next.query.Encode()
		if next.abs != nil {
			key = next.abs.String() + "?" + next.query.Encode()
		}
		if seen[key] {
			return out, nil
		}
		seen[key] = true
		cl = next
	}
	return out, fmt.Errorf("meta: /me/accounts returned more than %d pages", maxPages)
}

// nextCall follows paging.next only when it points back at the configured Graph base,
// since the call attaches a token; otherwise it applies the after cursor to first.
func (c *Client) nextCall(first call, p pagingInfo) (call, bool) {
	prev := first
	if p.Next != "" {
		if u, err := url.Parse(p.Next); err == nil && c.sameGraph(u) {
			q := u.Query()
			q.Del("access_token") // re-added by authorize
			q.Del("appsecret_proof")
			u.RawQuery = ""
			return call{method: prev.method, abs: u, query: q, token: prev.token, bearer: prev.bearer}, true
		}
	}
	if p.Cursors.After != "" && p.Next != "" {
		q := url.Values{}
		for k, v := range prev.query {
			q[k] = v
		}
		q.Set("after", p.Cursors.After)
		return call{method: prev.method, path: prev.path, query: q, token: prev.token, bearer: prev.bearer}, true
	}
	return call{}, false
}

func (c *Client) sameGraph(u *url.URL) bool {
	base, err := url.Parse(c.graphURL)
	if err != nil {
		return false
	}
	return u.Scheme == base.Scheme && u.Host == base.Host &&
		strings.HasPrefix(u.Path, strings.TrimRight(base.Path, "/")+"/")
}

// GranularScope is a permission limited to specific objects (Pages, IG accounts, WABAs).
type GranularScope struct {
	Scope     string   `json:"scope"`
	TargetIDs []string `json:"target_ids"`
}

// TokenInfo is what /debug_token says about a token.
type TokenInfo struct {
	IsValid             bool
	Type                string // USER, PAGE, APP or SYSTEM_USER
	AppID               string
	Application         string
	UserID              string
	ProfileID           string // the Page for Page tokens
	ExpiresAt           time.Time
	DataAccessExpiresAt time.Time
	IssuedAt            time.Time
	Scopes              []string
	GranularScopes      []GranularScope
	// Error is the reason an invalid token is invalid, when Meta gives one.
	Error *GraphError
}

// MissingScopes returns the scopes in required that the token lacks.
func (t TokenInfo) MissingScopes(required ...string) []string {
	var miss []string
	for _, s := range required {
		if !slices.Contains(t.Scopes, s) {
			miss = append(miss, s)
		}
	}
	return miss
}

// Classify turns the debug result into a health classification at time now.
func (t TokenInfo) Classify(now time.Time) Classification {
	if t.Error != nil {
		if c := Classify(t.Error); c.Class == ClassAuthBroken {
			return c
		}
	}
	if !t.IsValid {
		return Classification{Class: ClassAuthBroken, Cause: CauseInvalidToken}
	}
	if !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return Classification{Class: ClassAuthBroken, Cause: CauseExpired}
	}
	return Classification{Class: ClassNone}
}

type debugData struct {
	AppID               string          `json:"app_id"`
	Type                string          `json:"type"`
	Application         string          `json:"application"`
	IsValid             *bool           `json:"is_valid"`
	ExpiresAt           flexInt         `json:"expires_at"`
	DataAccessExpiresAt flexInt         `json:"data_access_expires_at"`
	IssuedAt            flexInt         `json:"issued_at"`
	Scopes              []string        `json:"scopes"`
	GranularScopes      []GranularScope `json:"granular_scopes"`
	UserID              string          `json:"user_id"`
	ProfileID           string          `json:"profile_id"`
	Error               *wireError      `json:"error"`
}

// DebugToken inspects inputToken with the app token, which is how the hourly health
// check learns whether a stored token still works and what it may do.
func (c *Client) DebugToken(ctx context.Context, inputToken string) (TokenInfo, error) {
	if c.appID == "" || c.appSecret == "" {
		return TokenInfo{}, errors.New("meta: app id and secret are required for debug_token")
	}
	if inputToken == "" {
		return TokenInfo{}, errors.New("meta: empty token to debug")
	}
	var a struct {
		Data *debugData `json:"data"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: "debug_token",
		query: url.Values{"input_token": {inputToken}}, token: c.appID + "|" + c.appSecret}, &a)
	if err != nil {
		return TokenInfo{}, err
	}
	if a.Data == nil || a.Data.IsValid == nil {
		// Without is_valid the answer says nothing about the token; reading it as "invalid"
		// would break a working channel on a malformed answer.
		return TokenInfo{}, unexpected("debug_token answered without data.is_valid")
	}
	d := a.Data
	info := TokenInfo{
		IsValid:             *d.IsValid,
		Type:                d.Type,
		AppID:               d.AppID,
		Application:         d.Application,
		UserID:              d.UserID,
		ProfileID:           d.ProfileID,
		ExpiresAt:           unixOrZero(int64(d.ExpiresAt)),
		DataAccessExpiresAt: unixOrZero(int64(d.DataAccessExpiresAt)),
		IssuedAt:            unixOrZero(int64(d.IssuedAt)),
		Scopes:              d.Scopes,
		GranularScopes:      d.GranularScopes,
		Error:               debugTokenError(d.Error, []string{inputToken, c.appSecret}),
	}
	return info, nil
}

// debugTokenError converts the error embedded in an invalid token's data. UNCONFIRMED
// shape: {code, message, subcode}; error_subcode is accepted too.
func debugTokenError(w *wireError, secrets []string) *GraphError {
	if w == nil || (w.Code == 0 && w.Message == "") {
		return nil
	}
	return w.toGraphError(0, secrets)
}

func unixOrZero(sec int64) time.Time {
	if sec <= 0 || sec > maxSeconds*2 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

// SubscribeWABA subscribes the app to a WhatsApp Business Account's webhooks; the fields
// themselves are chosen at app level, so none are sent.
func (c *Client) SubscribeWABA(ctx context.Context, wabaID, token string) error {
	if err := checkID(wabaID); err != nil {
		return err
	}
	var a struct {
		Success bool `json:"success"`
	}
	if err := c.do(ctx, call{method: http.MethodPost, path: graphPath(wabaID, "subscribed_apps"), token: token, bearer: true}, &a); err != nil {
		return err
	}
	if !a.Success {
		return errors.New("meta: subscribed_apps did not report success")
	}
	return nil
}

// SubscribeApp subscribes this app to the Page's webhooks for the given fields. It is
// also how Instagram messaging is enabled, using the linked Page and its token.
func (c *Client) SubscribeApp(ctx context.Context, pageID, pageToken string, fields []string) error {
	if err := checkID(pageID); err != nil {
		return err
	}
	if len(fields) == 0 {
		return errors.New("meta: no webhook fields to subscribe")
	}
	var a struct {
		Success bool `json:"success"`
	}
	err := c.do(ctx, call{method: http.MethodPost, path: graphPath(pageID, "subscribed_apps"),
		query: url.Values{"subscribed_fields": {strings.Join(fields, ",")}}, token: pageToken}, &a)
	if err != nil {
		return err
	}
	if !a.Success {
		return errors.New("meta: subscribed_apps did not report success")
	}
	return nil
}

// SubscribedApp is one app installed on a Page.
type SubscribedApp struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	Link             string   `json:"link"`
	Category         string   `json:"category"`
	SubscribedFields []string `json:"subscribed_fields"`
}

// SubscribedApps lists the apps subscribed to the Page's webhooks; Meta unsubscribes an
// app after an hour of failed deliveries, so the health check looks for ours here.
func (c *Client) SubscribedApps(ctx context.Context, pageID, pageToken string) ([]SubscribedApp, error) {
	if err := checkID(pageID); err != nil {
		return nil, err
	}
	var a struct {
		Data []SubscribedApp `json:"data"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: graphPath(pageID, "subscribed_apps"), token: pageToken}, &a); err != nil {
		return nil, err
	}
	return a.Data, nil
}

// PageInfo is the minimal Page read used as a liveness check.
type PageInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// PageInfo reads a Page's id and name, proving the token still reaches it.
func (c *Client) PageInfo(ctx context.Context, pageID, token string) (PageInfo, error) {
	var p PageInfo
	err := c.getObject(ctx, pageID, token, false, "id,name", &p)
	if err == nil && p.ID != pageID {
		err = unexpected("the Page read answered for id " + strconv.Quote(p.ID))
	}
	return p, err
}

// InstagramInfo reads an Instagram professional account, proving the token reaches it.
func (c *Client) InstagramInfo(ctx context.Context, igID, token string) (IGAccount, error) {
	var a IGAccount
	err := c.getObject(ctx, igID, token, false, "id,username,name,profile_picture_url", &a)
	if err == nil && a.ID != igID {
		err = unexpected("the Instagram account read answered for id " + strconv.Quote(a.ID))
	}
	return a, err
}

// PhoneNumber is a WhatsApp Business phone number's status.
type PhoneNumber struct {
	ID                     string
	DisplayPhoneNumber     string
	VerifiedName           string
	QualityRating          string // GREEN, YELLOW, RED, UNKNOWN
	CodeVerificationStatus string
	NameStatus             string
	Status                 string
	PlatformType           string
	ThroughputLevel        string
}

// NumberState is what a WhatsApp phone number's status means for serving messages.
type NumberState int

// States of a WhatsApp number, from PhoneNumber.State.
const (
	NumberUnknown      NumberState = iota // no status, or one not listed here: nothing can be concluded
	NumberServing                         // CONNECTED, or a quality flag that still lets it send
	NumberLimited                         // RATE_LIMITED: serving, but throttled for now
	NumberNotConnected                    // DISCONNECTED, PENDING, UNVERIFIED: not registered with the Cloud API
	NumberGone                            // DELETED, BANNED, MIGRATED: this number id will not serve again
)

// numberStates maps the phone number's status values (Graph's WhatsAppBusinessPhoneNumber
// reference) to what they mean. UNCONFIRMED: the value list is known from the reference and
// third-party code only; an unlisted value reads as NumberUnknown, never as serving.
var numberStates = map[string]NumberState{
	"CONNECTED":    NumberServing,
	"FLAGGED":      NumberServing, // quality warning; still sends
	"RESTRICTED":   NumberServing, // messaging limit reached for the day; replies still go out
	"RATE_LIMITED": NumberLimited,
	"DISCONNECTED": NumberNotConnected,
	"PENDING":      NumberNotConnected,
	"UNVERIFIED":   NumberNotConnected,
	"DELETED":      NumberGone,
	"BANNED":       NumberGone,
	"MIGRATED":     NumberGone,
	"UNKNOWN":      NumberUnknown,
}

// State says whether the number serves messages, judged by its status.
func (p PhoneNumber) State() NumberState {
	return numberStates[strings.ToUpper(strings.TrimSpace(p.Status))]
}

// phoneNumberFields are the fields read for a WhatsApp number. UNCONFIRMED: known only
// from third-party code.
const phoneNumberFields = "id,display_phone_number,verified_name,quality_rating,code_verification_status,name_status,status,platform_type,throughput"

// PhoneNumber reads a WhatsApp Business phone number's status and quality.
func (c *Client) PhoneNumber(ctx context.Context, phoneNumberID, token string) (PhoneNumber, error) {
	var a struct {
		ID                     string `json:"id"`
		DisplayPhoneNumber     string `json:"display_phone_number"`
		VerifiedName           string `json:"verified_name"`
		QualityRating          string `json:"quality_rating"`
		CodeVerificationStatus string `json:"code_verification_status"`
		NameStatus             string `json:"name_status"`
		Status                 string `json:"status"`
		PlatformType           string `json:"platform_type"`
		Throughput             struct {
			Level string `json:"level"`
		} `json:"throughput"`
	}
	if err := c.getObject(ctx, phoneNumberID, token, true, phoneNumberFields, &a); err != nil {
		return PhoneNumber{}, err
	}
	return PhoneNumber{
		ID: a.ID, DisplayPhoneNumber: a.DisplayPhoneNumber, VerifiedName: a.VerifiedName,
		QualityRating: a.QualityRating, CodeVerificationStatus: a.CodeVerificationStatus,
		NameStatus: a.NameStatus, Status: a.Status, PlatformType: a.PlatformType,
		ThroughputLevel: a.Throughput.Level,
	}, nil
}

func (c *Client) getObject(ctx context.Context, id, token string, bearer bool, fields string, out any) error {
	if err := checkID(id); err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodGet, path: graphPath(id), query: url.Values{"fields": {fields}},
		token: token, bearer: bearer}, out)
}

// checkID rejects ids that would not name one Graph object, such as "" or "..", which
// path escaping alone leaves meaningful.
func checkID(id string) error {
	if id == "" || id == "." || id == ".." {
		return fmt.Errorf("meta: invalid object id %q", id)
	}
	return nil
}

// UserProfile is a customer's name and picture as a Page or an Instagram account sees them.
type UserProfile struct {
	Name       string
	PictureURL string // expires after a few days
}

// InstagramUserProfile reads an Instagram user's profile by IGSID with the Page token. Meta
// answers only once the user has messaged the account (their consent) and not after they
// blocked it; name may be unset, the username then stands in.
func (c *Client) InstagramUserProfile(ctx context.Context, token, igsid string) (UserProfile, error) {
	var w struct {
		Name       string `json:"name"`
		Username   string `json:"username"`
		ProfilePic string `json:"profile_pic"`
	}
	err := c.getObject(ctx, igsid, token, false, "name,username,profile_pic", &w)
	return UserProfile{Name: strings.TrimSpace(cmp.Or(w.Name, w.Username)), PictureURL: w.ProfilePic}, err
}

// MessengerUserProfile reads a Messenger user's profile by PSID with the Page token, under
// the same consent rule.
func (c *Client) MessengerUserProfile(ctx context.Context, token, psid string) (UserProfile, error) {
	var w struct {
		FirstName  string `json:"first_name"`
		LastName   string `json:"last_name"`
		ProfilePic string `json:"profile_pic"`
	}
	err := c.getObject(ctx, psid, token, false, "first_name,last_name,profile_pic", &w)
	return UserProfile{Name: strings.TrimSpace(w.FirstName + " " + w.LastName), PictureURL: w.ProfilePic}, err
}
