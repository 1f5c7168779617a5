package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

var lineUserIDRe = regexp.MustCompile(`^U[0-9a-f]{32}$`)

const (
	lineAuthFailed    = "Authentication failed. Confirm that the access token in the authorization header is valid."
	lineAuthMissing   = "Authorization header required. Must follow the scheme, 'Authorization: Bearer <ACCESS TOKEN>'"
	lineRateLimited   = "The API rate limit has been exceeded. Try again later."
	lineServerError   = "An error occurred in the server. Try again later."
	lineNotAvailable  = "Access to this API is not available for your account"
	lineIDTokenIssuer = "https://access.line.me"
)

type retryKey struct {
	RequestID    string        `json:"request_id"`
	SentMessages []sentMessage `json:"sent_messages"`
	At           time.Time     `json:"at"`
}

type sentMessage struct {
	ID         string `json:"id"`
	QuoteToken string `json:"quoteToken"`
}

type replyToken struct {
	ChannelID string    `json:"channel_id"`
	UserID    string    `json:"user_id"`
	ExpiresAt time.Time `json:"expires_at"`
	Used      bool      `json:"used"`
}

type lineDetail struct {
	Message  string `json:"message"`
	Property string `json:"property"`
}

// lineRequest carries one LINE call through the handlers.
type lineRequest struct {
	r      *http.Request
	params url.Values
	body   []byte
	now    time.Time
	reqID  string
	tok    *token
	acct   *LINEAccount
	late   bool // carry the call out, then answer only after the client gave up
}

func lineJSON(status int, v any, reqID string) *apiResponse {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Line-Request-Id", reqID)
	b, err := json.Marshal(v)
	if err != nil {
		panic("sandbox: encode: " + err.Error())
	}
	return &apiResponse{status: status, header: h, body: b}
}

func lineMessage(status int, msg, reqID string) *apiResponse {
	return lineJSON(status, map[string]string{"message": msg}, reqID)
}

// loginError is LINE Login's error shape (verify endpoints).
func loginError(desc, reqID string) *apiResponse {
	return lineJSON(http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": desc}, reqID)
}

// serveLINE answers LINE Messaging API and LINE Login calls (LINE_API_URL = {mount}/line).
func (w *World) serveLINE(rw http.ResponseWriter, r *http.Request) {
	if !w.pause(r) {
		return
	}
	params, body := readParams(r)
	w.mu.Lock()
	resp := w.line(r, params, body)
	w.saveAfterRequest()
	w.mu.Unlock()
	if resp.hang {
		if !w.hang(r) {
			return
		}
		if !resp.late {
			resp = lineMessage(http.StatusInternalServerError, lineServerError, uuid.NewString())
		}
	}
	writeResponse(rw, resp)
}

func (w *World) line(r *http.Request, params url.Values, body []byte) *apiResponse {
	lr := &lineRequest{r: r, params: params, body: body, now: w.now(), reqID: uuid.NewString()}
	path := r.URL.Path
	switch {
	case r.Method == http.MethodPost && path == "/v2/oauth/verify":
		return w.verifyAccessToken(lr, params.Get("access_token"), false)
	case r.Method == http.MethodGet && path == "/oauth2/v2.1/verify":
		return w.verifyAccessToken(lr, params.Get("access_token"), true)
	case r.Method == http.MethodPost && path == "/oauth2/v2.1/verify":
		return w.verifyIDToken(lr)
	case r.Method == http.MethodGet && (path == "/v2/profile" || path == "/friendship/v1/status"):
		return w.liffCall(lr, path)
	case strings.HasPrefix(path, "/v2/bot/"):
		resp := w.botCall(lr, strings.TrimPrefix(path, "/v2/bot/"))
		resp.hang, resp.late = resp.hang || lr.late, resp.late || lr.late
		return resp
	}
	return lineMessage(http.StatusNotFound, "Not found", lr.reqID)
}

// lineGate applies injected failures, dead tokens and rate limits; nil means go ahead.
func (w *World) lineGate(lr *lineRequest, targets []Target) *apiResponse {
	if kind, ok := w.takeTransient(targets); ok {
		switch kind {
		case FailTimeout:
			return &apiResponse{hang: true}
		case FailLateAnswer:
			lr.late = true
		default:
			return lineMessage(http.StatusInternalServerError, lineServerError, lr.reqID)
		}
	}
	if lr.tok != nil {
		if !lr.tok.valid(lr.now) {
			return lineMessage(http.StatusUnauthorized, lineAuthFailed, lr.reqID)
		}
		if lr.tok.RateLimited {
			return lineMessage(http.StatusTooManyRequests, lineRateLimited, lr.reqID)
		}
	}
	return nil
}

// verifyAccessToken serves the channel/LIFF access-token verify endpoints (v2 form POST and
// v2.1 GET), which answer with LINE Login's error shape.
func (w *World) verifyAccessToken(lr *lineRequest, raw string, v21 bool) *apiResponse {
	if raw == "" {
		return loginError("access_token is required", lr.reqID)
	}
	t := w.st.Tokens[raw]
	if t == nil || (t.Kind != kindLINEChannel && !(v21 && t.Kind == kindLIFF)) {
		return loginError("invalid access token", lr.reqID)
	}
	if kind, ok := w.takeTransient(w.st.targetsOfToken(t)); ok {
		if kind == FailTimeout {
			return &apiResponse{hang: true}
		}
		return lineMessage(http.StatusInternalServerError, lineServerError, lr.reqID)
	}
	if t.Broken == CauseExpired || t.expired(lr.now) {
		return loginError("access token expired", lr.reqID)
	}
	if t.Broken != "" {
		return loginError("invalid access token", lr.reqID)
	}
	scope := "P"
	if t.Kind == kindLIFF {
		scope = "openid profile"
	}
	return lineJSON(http.StatusOK, map[string]any{
		"scope": scope, "client_id": t.AccountID, "expires_in": int64(t.ExpiresAt.Sub(lr.now) / time.Second),
	}, lr.reqID)
}

// idTokenClaims is the payload of a LINE ID token.
type idTokenClaims struct {
	Iss     string   `json:"iss"`
	Sub     string   `json:"sub"`
	Aud     string   `json:"aud"`
	Exp     int64    `json:"exp"`
	Iat     int64    `json:"iat"`
	Nonce   string   `json:"nonce,omitempty"`
	Amr     []string `json:"amr"`
	Name    string   `json:"name,omitempty"`
	Picture string   `json:"picture,omitempty"`
}

// IssueIDToken mints the ID token LIFF's getIDToken() would return for a LINE user logged in
// to a LINE Login channel. It is an HS256 JWT signed with the channel secret, valid for one
// hour by the World's clock; POST /oauth2/v2.1/verify accepts it until then. A token for an
// unknown channel is signed with a throw-away key, so verification rejects it.
func (w *World) IssueIDToken(lineUserID, loginChannelID string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	c := idTokenClaims{Iss: lineIDTokenIssuer, Sub: lineUserID, Aud: loginChannelID,
		Iat: now.Unix(), Exp: now.Add(idTokenTTL).Unix(), Amr: []string{"linesso"}}
	if u := w.st.lineUser(lineUserID); u != nil {
		c.Name = u.DisplayName
	}
	key := randomHex(32)
	if a := w.st.lineAccountByLogin(loginChannelID); a != nil {
		key = a.LoginChannelSecret
	}
	return signJWT(c, key)
}

func signJWT(c idTokenClaims, key string) string {
	enc := base64.RawURLEncoding
	payload, _ := json.Marshal(c)
	signing := enc.EncodeToString([]byte(`{"typ":"JWT","alg":"HS256"}`)) + "." + enc.EncodeToString(payload)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

// verifyIDToken serves POST /oauth2/v2.1/verify (form id_token, client_id, nonce?, user_id?).
func (w *World) verifyIDToken(lr *lineRequest) *apiResponse {
	raw, clientID := lr.params.Get("id_token"), lr.params.Get("client_id")
	if raw == "" || clientID == "" {
		return loginError("id_token and client_id are required", lr.reqID)
	}
	if a := w.st.lineAccountByLogin(clientID); a != nil {
		if resp := w.lineGate(lr, []Target{{TargetLINE, a.ChannelID}}); resp != nil {
			return resp
		}
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return loginError("Invalid IdToken.", lr.reqID)
	}
	enc := base64.RawURLEncoding
	var header struct {
		Alg string `json:"alg"`
	}
	hb, err1 := enc.DecodeString(parts[0])
	pb, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	var c idTokenClaims
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &header) != nil || header.Alg != "HS256" || json.Unmarshal(pb, &c) != nil {
		return loginError("Invalid IdToken.", lr.reqID)
	}
	a := w.st.lineAccountByLogin(c.Aud)
	if a == nil {
		return loginError("Invalid IdToken.", lr.reqID)
	}
	mac := hmac.New(sha256.New, []byte(a.LoginChannelSecret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(mac.Sum(nil), sig) {
		return loginError("Invalid IdToken.", lr.reqID)
	}
	switch {
	case c.Iss != lineIDTokenIssuer:
		return loginError("Invalid IdToken Issuer.", lr.reqID)
	case lr.now.Unix() >= c.Exp:
		return loginError("IdToken expired.", lr.reqID)
	case c.Aud != clientID:
		return loginError("Invalid IdToken Audience.", lr.reqID)
	case lr.params.Get("nonce") != "" && lr.params.Get("nonce") != c.Nonce:
		return loginError("Invalid IdToken Nonce.", lr.reqID)
	case lr.params.Get("user_id") != "" && lr.params.Get("user_id") != c.Sub:
		return loginError("Invalid IdToken Subject Identifier.", lr.reqID)
	}
	return lineJSON(http.StatusOK, c, lr.reqID)
}

// IssueLIFFAccessToken mints the access token LIFF's getAccessToken() would return (12 hours),
// usable with GET /oauth2/v2.1/verify, /v2/profile and /friendship/v1/status.
func (w *World) IssueLIFFAccessToken(lineUserID, loginChannelID string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	t := w.st.newToken(&token{Kind: kindLIFF, UserID: lineUserID, AccountID: loginChannelID,
		Scopes: []string{"openid", "profile"}, IssuedAt: now, ExpiresAt: now.Add(liffTokenTTL)})
	w.changed()
	return t.Value, w.saveLocked()
}

// liffCall serves the LINE Login user endpoints used with a LIFF access token.
func (w *World) liffCall(lr *lineRequest, path string) *apiResponse {
	raw, ok := bearer(lr.r)
	if !ok {
		return lineMessage(http.StatusUnauthorized, lineAuthMissing, lr.reqID)
	}
	lr.tok = w.st.Tokens[raw]
	if lr.tok == nil || lr.tok.Kind != kindLIFF {
		return lineMessage(http.StatusUnauthorized, "invalid token", lr.reqID)
	}
	if resp := w.lineGate(lr, w.st.targetsOfToken(lr.tok)); resp != nil {
		return resp
	}
	u := w.st.lineUser(lr.tok.UserID)
	if path == "/friendship/v1/status" {
		friend := false
		if a := w.st.lineAccountByLogin(lr.tok.AccountID); a != nil && u != nil {
			friend = u.Friendship[a.BotUserID] == FriendshipFriend
		}
		return lineJSON(http.StatusOK, map[string]bool{"friendFlag": friend}, lr.reqID)
	}
	p := map[string]string{"userId": lr.tok.UserID}
	if u != nil {
		p["displayName"] = u.DisplayName
		p["pictureUrl"] = pictureURL(lr.r, u.UserID, u.DisplayName)
		if u.StatusMessage != "" {
			p["statusMessage"] = u.StatusMessage
		}
	}
	return lineJSON(http.StatusOK, p, lr.reqID)
}

func bearer(r *http.Request) (string, bool) {
	scheme, v, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(v) == "" {
		return "", false
	}
	return strings.TrimSpace(v), true
}

// botCall serves /v2/bot/… with a channel access token.
func (w *World) botCall(lr *lineRequest, path string) *apiResponse {
	raw, ok := bearer(lr.r)
	if !ok {
		return lineMessage(http.StatusUnauthorized, lineAuthMissing, lr.reqID)
	}
	lr.tok = w.st.Tokens[raw]
	if lr.tok == nil || lr.tok.Kind != kindLINEChannel {
		return lineMessage(http.StatusUnauthorized, lineAuthFailed, lr.reqID)
	}
	lr.acct = w.st.lineAccount(lr.tok.AccountID)
	if resp := w.lineGate(lr, w.st.targetsOfToken(lr.tok)); resp != nil {
		return resp
	}
	method := lr.r.Method
	segs := strings.Split(path, "/")
	if path == "info" && method == http.MethodGet {
		a := lr.acct
		return lineJSON(http.StatusOK, map[string]string{
			"userId": a.BotUserID, "basicId": a.BasicID, "displayName": a.DisplayName,
			"pictureUrl": pictureURL(lr.r, a.BotUserID, a.DisplayName), "chatMode": a.ChatMode, "markAsReadMode": a.MarkAsReadMode,
		}, lr.reqID)
	}
	if !lr.tok.has("P") {
		return lineMessage(http.StatusForbidden, lineNotAvailable, lr.reqID)
	}
	switch {
	case method == http.MethodPost && path == "message/push":
		return w.push(lr)
	case method == http.MethodPost && path == "message/reply":
		return w.reply(lr)
	case method == http.MethodGet && len(segs) == 2 && segs[0] == "profile":
		return w.botProfile(lr, segs[1])
	case method == http.MethodGet && path == "richmenu/list":
		menus := []map[string]any{}
		for _, m := range w.st.RichMenus {
			if m.ChannelID == lr.acct.ChannelID {
				menus = append(menus, richMenuJSON(m))
			}
		}
		return lineJSON(http.StatusOK, map[string]any{"richmenus": menus}, lr.reqID)
	case len(segs) == 2 && segs[0] == "richmenu" && (method == http.MethodGet || method == http.MethodDelete):
		return w.richMenu(lr, method, segs[1])
	case len(segs) >= 3 && segs[0] == "user" && segs[2] == "richmenu":
		return w.userRichMenu(lr, method, segs[1], segs[3:])
	}
	return lineMessage(http.StatusNotFound, "Not found", lr.reqID)
}

func (w *World) botProfile(lr *lineRequest, userID string) *apiResponse {
	u := w.st.lineUser(userID)
	if u == nil || u.Friendship[lr.acct.BotUserID] != FriendshipFriend {
		return lineMessage(http.StatusNotFound, "Not found", lr.reqID)
	}
	p := map[string]string{"userId": u.UserID, "displayName": u.DisplayName, "pictureUrl": pictureURL(lr.r, u.UserID, u.DisplayName)}
	if u.StatusMessage != "" {
		p["statusMessage"] = u.StatusMessage
	}
	if u.Language != "" {
		p["language"] = u.Language
	}
	return lineJSON(http.StatusOK, p, lr.reqID)
}

// richMenuJSON is a rich menu in LINE's list and get shape.
func richMenuJSON(m *RichMenu) map[string]any {
	return map[string]any{"richMenuId": m.ID, "name": m.Name, "chatBarText": m.ChatBarText, "selected": false,
		"size": map[string]int{"width": 2500, "height": 1686},
		"areas": []any{map[string]any{"bounds": map[string]int{"x": 0, "y": 0, "width": 2500, "height": 1686},
			"action": map[string]string{"type": "message", "text": m.ChatBarText}}}}
}

// richMenuNotFound is LINE's answer for a rich menu id the channel does not have.
func richMenuNotFound(reqID string) *apiResponse {
	return lineJSON(http.StatusNotFound, map[string]any{"message": "richmenu not found", "details": []any{}}, reqID)
}

// richMenu gets or deletes one of the channel's rich menus; deleting it returns every user
// linked to it to the default menu, as LINE does.
func (w *World) richMenu(lr *lineRequest, method, id string) *apiResponse {
	for i, m := range w.st.RichMenus {
		if m.ID != id || m.ChannelID != lr.acct.ChannelID {
			continue
		}
		if method == http.MethodGet {
			return lineJSON(http.StatusOK, richMenuJSON(m), lr.reqID)
		}
		w.st.RichMenus = append(w.st.RichMenus[:i:i], w.st.RichMenus[i+1:]...)
		for k, v := range w.st.UserRichMenus {
			if v == id && strings.HasPrefix(k, lr.acct.ChannelID+"|") {
				delete(w.st.UserRichMenus, k)
			}
		}
		w.changed()
		return lineJSON(http.StatusOK, map[string]any{}, lr.reqID)
	}
	return richMenuNotFound(lr.reqID)
}

func (w *World) userRichMenu(lr *lineRequest, method, userID string, rest []string) *apiResponse {
	if !lineUserIDRe.MatchString(userID) {
		return lineMessage(http.StatusBadRequest, "The value of the userId is invalid", lr.reqID)
	}
	key := lr.acct.ChannelID + "|" + userID
	switch {
	case method == http.MethodPost && len(rest) == 1:
		found := false
		for _, m := range w.st.RichMenus {
			found = found || (m.ID == rest[0] && m.ChannelID == lr.acct.ChannelID)
		}
		if !found {
			return richMenuNotFound(lr.reqID)
		}
		w.st.UserRichMenus[key] = rest[0]
		w.changed()
		return lineJSON(http.StatusOK, map[string]any{}, lr.reqID)
	case method == http.MethodDelete && len(rest) == 0:
		delete(w.st.UserRichMenus, key)
		w.changed()
		return lineJSON(http.StatusOK, map[string]any{}, lr.reqID)
	case method == http.MethodGet && len(rest) == 0:
		id, ok := w.st.UserRichMenus[key]
		if !ok {
			return lineMessage(http.StatusNotFound, "the user has no richmenu", lr.reqID)
		}
		return lineJSON(http.StatusOK, map[string]string{"richMenuId": id}, lr.reqID)
	}
	return lineMessage(http.StatusNotFound, "Not found", lr.reqID)
}

// checkLINEMessages validates 1–5 message objects and returns a summary of each, or the
// details of a 400 answer.
func checkLINEMessages(msgs []map[string]any) ([]string, []lineDetail) {
	if len(msgs) == 0 {
		return nil, []lineDetail{{"must be specified", "messages"}}
	}
	if len(msgs) > 5 {
		return nil, []lineDetail{{"size must be between 1 and 5", "messages"}}
	}
	var details []lineDetail
	var summaries []string
	for i, m := range msgs {
		prop := func(f string) string { return fmt.Sprintf("messages[%d].%s", i, f) }
		str := func(k string) string { s, _ := m[k].(string); return s }
		switch typ := str("type"); typ {
		case "text":
			switch t := str("text"); {
			case t == "":
				details = append(details, lineDetail{"must be specified", prop("text")})
			case utf8.RuneCountInString(t) > 5000:
				details = append(details, lineDetail{"Length must be between 0 and 5000", prop("text")})
			}
			summaries = append(summaries, str("text"))
		case "flex", "template", "imagemap":
			if str("altText") == "" {
				details = append(details, lineDetail{"must be specified", prop("altText")})
			}
			body := "contents"
			if typ == "template" {
				body = "template"
			}
			if typ != "imagemap" {
				if _, ok := m[body].(map[string]any); !ok {
					details = append(details, lineDetail{"must be specified", prop(body)})
				}
			}
			summaries = append(summaries, str("altText"))
		case "image", "video":
			for _, f := range []string{"originalContentUrl", "previewImageUrl"} {
				if !strings.HasPrefix(str(f), "https://") {
					details = append(details, lineDetail{"must be a valid HTTPS URL", prop(f)})
				}
			}
			summaries = append(summaries, "["+typ+"]")
		case "sticker", "audio", "location":
			summaries = append(summaries, "["+typ+"]")
		case "":
			details = append(details, lineDetail{"must be specified", prop("type")})
		default:
			details = append(details, lineDetail{"invalid message type", prop("type")})
		}
	}
	return summaries, details
}

func lineBadBody(details []lineDetail, reqID string) *apiResponse {
	return lineJSON(http.StatusBadRequest, map[string]any{
		"message": fmt.Sprintf("The request body has %d error(s)", len(details)), "details": details,
	}, reqID)
}

// deliver records outbound LINE messages and returns their sentMessages entries.
func (w *World) deliverLINE(lr *lineRequest, userID string, msgs []map[string]any, summaries []string, delivered bool) []sentMessage {
	key := convKey(PlatformLINE, lr.acct.BotUserID, userID)
	out := make([]sentMessage, 0, len(msgs))
	for i, m := range msgs {
		sm := sentMessage{ID: randomDigits(18), QuoteToken: randomString(40, base62+"-_")}
		raw, _ := json.Marshal(m)
		kind, _ := m["type"].(string)
		w.st.appendMessage(key, Message{ID: sm.ID, Direction: Outbound, Kind: kind, Text: summaries[i], Payload: raw, Delivered: delivered, At: lr.now})
		out = append(out, sm)
	}
	w.changed()
	return out
}

// push serves POST /v2/bot/message/push with X-Line-Retry-Key semantics. A push to a user
// who blocked (or never added) the account answers 200 but is logged as not delivered, since
// LINE does not say whether it delivered.
func (w *World) push(lr *lineRequest) *apiResponse {
	retry := lr.r.Header.Get("X-Line-Retry-Key")
	rkKey := ""
	if retry != "" {
		if _, err := uuid.Parse(retry); err != nil {
			return lineMessage(http.StatusBadRequest, "The value of the X-Line-Retry-Key header is invalid", lr.reqID)
		}
		for k, v := range w.st.RetryKeys {
			if lr.now.Sub(v.At) >= retryKeyTTL {
				delete(w.st.RetryKeys, k)
			}
		}
		rkKey = lr.acct.ChannelID + "|" + strings.ToLower(retry)
		if prev := w.st.RetryKeys[rkKey]; prev != nil {
			resp := lineJSON(http.StatusConflict, map[string]any{
				"message": "The retry key is already accepted", "sentMessages": prev.SentMessages,
			}, lr.reqID)
			resp.header.Set("X-Line-Accepted-Request-Id", prev.RequestID)
			return resp
		}
	}
	var body struct {
		To       string           `json:"to"`
		Messages []map[string]any `json:"messages"`
	}
	if err := json.Unmarshal(lr.body, &body); err != nil {
		return lineMessage(http.StatusBadRequest, "The request body could not be parsed as JSON", lr.reqID)
	}
	if !lineUserIDRe.MatchString(body.To) {
		return lineBadBody([]lineDetail{{"invalid user id", "to"}}, lr.reqID)
	}
	summaries, details := checkLINEMessages(body.Messages)
	if len(details) > 0 {
		return lineBadBody(details, lr.reqID)
	}
	u := w.st.lineUser(body.To)
	if u == nil {
		return lineMessage(http.StatusBadRequest, "Failed to send messages", lr.reqID)
	}
	sent := w.deliverLINE(lr, u.UserID, body.Messages, summaries, u.Friendship[lr.acct.BotUserID] == FriendshipFriend)
	if rkKey != "" {
		w.st.RetryKeys[rkKey] = &retryKey{RequestID: lr.reqID, SentMessages: sent, At: lr.now}
	}
	return lineJSON(http.StatusOK, map[string]any{"sentMessages": sent}, lr.reqID)
}

// reply serves POST /v2/bot/message/reply; reply tokens are single-use and short-lived.
func (w *World) reply(lr *lineRequest) *apiResponse {
	var body struct {
		ReplyToken string           `json:"replyToken"`
		Messages   []map[string]any `json:"messages"`
	}
	if err := json.Unmarshal(lr.body, &body); err != nil {
		return lineMessage(http.StatusBadRequest, "The request body could not be parsed as JSON", lr.reqID)
	}
	if body.ReplyToken == "" {
		return lineBadBody([]lineDetail{{"must be specified", "replyToken"}}, lr.reqID)
	}
	summaries, details := checkLINEMessages(body.Messages)
	if len(details) > 0 {
		return lineBadBody(details, lr.reqID)
	}
	rt := w.st.ReplyTokens[body.ReplyToken]
	if rt == nil || rt.Used || rt.ChannelID != lr.acct.ChannelID || !lr.now.Before(rt.ExpiresAt) {
		return lineMessage(http.StatusBadRequest, "Invalid reply token", lr.reqID)
	}
	rt.Used = true
	sent := w.deliverLINE(lr, rt.UserID, body.Messages, summaries, true)
	return lineJSON(http.StatusOK, map[string]any{"sentMessages": sent}, lr.reqID)
}
