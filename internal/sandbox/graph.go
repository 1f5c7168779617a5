package sandbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// appName is what debug_token and subscribed_apps call the app.
const appName = "omnilink (sandbox)"

// maxBody bounds request bodies; Graph and LINE reject far smaller ones anyway.
const maxBody = 2 << 20

var versionRe = regexp.MustCompile(`^v\d+\.\d+$`)

// graphError is a Graph API error, rendered as {"error":{…}}.
type graphError struct {
	Status    int
	Type      string // OAuthException unless set
	Code      int
	Subcode   int
	Message   string
	UserTitle string
	UserMsg   string
	Transient bool
	Data      map[string]any // error_data, used by the WhatsApp Cloud API
}

func (e *graphError) Error() string {
	return fmt.Sprintf("graph error %d/%d: %s", e.Code, e.Subcode, e.Message)
}

func (e *graphError) object(trace string) map[string]any {
	typ := e.Type
	if typ == "" {
		typ = "OAuthException"
	}
	o := map[string]any{"message": e.Message, "type": typ, "code": e.Code, "is_transient": e.Transient, "fbtrace_id": trace}
	if e.Subcode != 0 {
		o["error_subcode"] = e.Subcode
	}
	if e.UserTitle != "" {
		o["error_user_title"] = e.UserTitle
		o["error_user_msg"] = e.UserMsg
	}
	if e.Data != nil {
		o["error_data"] = e.Data
	}
	return map[string]any{"error": o}
}

func errUnsupported(method, id string) *graphError {
	return &graphError{Status: 400, Type: "GraphMethodException", Code: 100, Subcode: 33,
		Message: fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
			strings.ToLower(method), id)}
}

func errNoField(field, nodeType string) *graphError {
	return &graphError{Status: 400, Code: 100, Message: fmt.Sprintf("(#100) Tried accessing nonexisting field (%s) on node type (%s)", field, nodeType)}
}

func errParam(msg string) *graphError {
	return &graphError{Status: 400, Code: 100, Message: "(#100) " + msg}
}

// errPermission is the error for a call that needs a scope the token lacks: code 10 for
// messaging permissions, 200 for the others, HTTP 403 as Graph answers permission errors.
func errPermission(scope string) *graphError {
	code := 200
	if strings.HasSuffix(scope, "messaging") || strings.HasSuffix(scope, "manage_messages") {
		code = 10
	}
	return &graphError{Status: 403, Code: code, Message: fmt.Sprintf("(#%d) Requires %s permission to manage the object", code, scope)}
}

func transientError(kind FailureKind) *graphError {
	if kind == FailUnknown {
		return &graphError{Status: 500, Code: 1, Message: "An unknown error occurred", Transient: true}
	}
	return &graphError{Status: 500, Code: 2, Message: "An unexpected error has occurred. Please retry your request later.", Transient: true}
}

// caller is who made a Graph call.
type caller struct {
	raw     string
	tok     *token // nil for the app token
	app     bool
	bucType string // X-Business-Use-Case-Usage type for this call
	late    bool   // carry the call out, then answer only after the client gave up
}

// graphRequest carries one parsed Graph call through the handlers.
type graphRequest struct {
	r      *http.Request
	method string
	segs   []string
	params url.Values
	body   []byte
	c      *caller
	now    time.Time
}

// apiResponse is what a handler decided, written after w.mu is released.
type apiResponse struct {
	status int
	header http.Header
	body   []byte
	hang   bool
	late   bool // after hanging, send this answer instead of a 500
}

// serveGraph answers Graph API calls (META_GRAPH_URL = {mount}/graph).
func (w *World) serveGraph(rw http.ResponseWriter, r *http.Request) {
	if !w.pause(r) {
		return
	}
	params, body := readParams(r)
	w.mu.Lock()
	resp := w.graph(r, params, body)
	w.saveAfterRequest()
	w.mu.Unlock()
	if resp.hang {
		if !w.hang(r) {
			return
		}
		if !resp.late {
			resp = w.graphErrorResponse(transientError(FailUnexpected), nil)
		}
	}
	writeResponse(rw, resp)
}

// readParams merges the query string with a urlencoded body, as Graph accepts either;
// other bodies (JSON) are returned raw.
func readParams(r *http.Request) (url.Values, []byte) {
	r.Body = http.MaxBytesReader(nil, r.Body, maxBody)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/x-www-form-urlencoded" {
		_ = r.ParseForm()
		return r.Form, nil
	}
	body, _ := io.ReadAll(r.Body)
	return r.URL.Query(), body
}

func writeResponse(rw http.ResponseWriter, resp *apiResponse) {
	for k, v := range resp.header {
		rw.Header()[k] = v
	}
	rw.WriteHeader(resp.status)
	_, _ = rw.Write(resp.body)
}

// metaJSON encodes like Meta does: non-ASCII as \uXXXX and "/" as "\/". Webhook receivers
// must therefore hash the raw bytes, never a re-encoding.
func metaJSON(v any) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		panic("sandbox: encode: " + err.Error())
	}
	var b bytes.Buffer
	b.Grow(len(raw) + len(raw)/4)
	for len(raw) > 0 {
		r, size := utf8.DecodeRune(raw)
		switch {
		case r == '/':
			b.WriteString(`\/`)
		case r < utf8.RuneSelf:
			b.WriteByte(byte(r))
		case r > 0xFFFF:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		raw = raw[size:]
	}
	return b.Bytes()
}

func (w *World) graphResponse(status int, v any, c *caller) *apiResponse {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Facebook-Api-Version", "v25.0")
	h.Set("X-Fb-Trace-Id", randomString(11, base62))
	w.setUsageHeaders(h, c, w.now())
	return &apiResponse{status: status, header: h, body: metaJSON(v)}
}

func (w *World) graphErrorResponse(e *graphError, c *caller) *apiResponse {
	resp := w.graphResponse(e.Status, e.object(randomString(11, base62)), c)
	if e.Code == 190 {
		resp.header.Set("WWW-Authenticate", fmt.Sprintf(`OAuth "Facebook Platform" "invalid_token" "%s"`, e.Message))
	}
	return resp
}

// graph routes one call. The caller holds w.mu.
func (w *World) graph(r *http.Request, params url.Values, body []byte) *apiResponse {
	var segs []string
	for _, s := range strings.Split(strings.Trim(r.URL.Path, "/"), "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	if len(segs) > 0 && versionRe.MatchString(segs[0]) {
		segs = segs[1:]
	}
	now := w.now()
	if len(segs) == 0 {
		return w.graphErrorResponse(&graphError{Status: 400, Code: 100, Message: "Unsupported get request."}, nil)
	}

	appTarget := []Target{{Kind: TargetApp}}
	if len(segs) == 2 && segs[0] == "oauth" && segs[1] == "access_token" {
		c := &caller{app: true}
		if resp := w.graphGate(c, appTarget, now); resp != nil {
			return resp
		}
		v, e := w.oauthAccessToken(params)
		if e != nil {
			return w.graphErrorResponse(e, c)
		}
		return w.graphResponse(200, v, c)
	}

	raw := params.Get("access_token")
	if raw == "" {
		if a := r.Header.Get("Authorization"); a != "" {
			if scheme, v, ok := strings.Cut(a, " "); ok && (strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "OAuth")) {
				raw = strings.TrimSpace(v)
			}
		}
	}
	if raw == "" {
		if segs[0] == "me" {
			return w.graphErrorResponse(&graphError{Status: 400, Code: 2500, Message: "An active access token must be used to query information about the current user."}, nil)
		}
		return w.graphErrorResponse(&graphError{Status: 400, Code: 104, Message: "An access token is required to request this resource."}, nil)
	}
	c := &caller{raw: raw}
	switch {
	case raw == w.AppAccessToken():
		c.app = true
	case strings.Contains(raw, "|"):
		return w.graphErrorResponse(&graphError{Status: 400, Code: 190, Message: "Invalid OAuth access token signature."}, nil)
	default:
		c.tok = w.st.Tokens[raw]
		if c.tok == nil || c.tok.Kind == kindLINEChannel || c.tok.Kind == kindLIFF {
			c.tok = nil
			return w.graphErrorResponse(errBadToken(), nil)
		}
	}

	// A proof is optional here (the app does not enforce "Require App Secret"), but a
	// wrong one is refused, as Graph does, so a client computing it wrongly finds out.
	if proof := params.Get("appsecret_proof"); proof != "" {
		mac := hmac.New(sha256.New, []byte(w.appSecret))
		mac.Write([]byte(raw))
		if !hmac.Equal([]byte(strings.ToLower(proof)), []byte(hex.EncodeToString(mac.Sum(nil)))) {
			return w.graphErrorResponse(&graphError{Status: 400, Type: "GraphMethodException", Code: 100,
				Message: "Invalid appsecret_proof provided in the API argument"}, nil)
		}
	}

	targets := appTarget
	if c.tok != nil {
		targets = append(targets, w.st.targetsOfToken(c.tok)...)
	}
	if segs[0] == "debug_token" {
		if in := w.st.Tokens[params.Get("input_token")]; in != nil {
			targets = append(targets, w.st.targetsOfToken(in)...)
		}
	}
	if resp := w.graphGate(c, targets, now); resp != nil {
		return resp
	}

	rq := &graphRequest{r: r, method: r.Method, segs: segs, params: params, body: body, c: c, now: now}
	v, e := w.graphRoute(rq)
	var resp *apiResponse
	if e != nil {
		resp = w.graphErrorResponse(e, c)
	} else {
		resp = w.graphResponse(200, v, c)
	}
	resp.hang, resp.late = c.late, c.late
	return resp
}

// graphGate applies what happens before any handler runs: injected failures, dead tokens,
// throttling; then it charges the call to the usage counter. nil means go ahead.
func (w *World) graphGate(c *caller, targets []Target, now time.Time) *apiResponse {
	if kind, ok := w.takeTransient(targets); ok {
		switch kind {
		case FailTimeout:
			return &apiResponse{hang: true}
		case FailLateAnswer:
			c.late = true
		default:
			return w.graphErrorResponse(transientError(kind), c)
		}
	}
	if c.tok != nil {
		if e := w.invalidTokenError(c.tok, now); e != nil {
			return w.graphErrorResponse(e, c)
		}
	}
	key := usageKey(c, w.appID)
	switch {
	case w.st.AppRateLimited:
		return w.graphErrorResponse(throttleError(nil), c)
	case (c.tok != nil && c.tok.RateLimited) || w.usage.full(key, now):
		return w.graphErrorResponse(throttleError(c), c)
	}
	w.usage.record(key, now)
	return nil
}

// graphRoute dispatches by path: debug_token, a node, or a node's edge.
func (w *World) graphRoute(rq *graphRequest) (any, *graphError) {
	segs := rq.segs
	if segs[0] == "debug_token" && len(segs) == 1 {
		if rq.method != http.MethodGet {
			return nil, errUnsupported(rq.method, "debug_token")
		}
		return w.debugToken(rq)
	}
	if len(segs) > 2 {
		return nil, &graphError{Status: 400, Code: 2500, Message: "Unknown path components: /" + strings.Join(segs[2:], "/")}
	}
	id := segs[0]
	if id == "me" {
		switch {
		case rq.c.tok == nil:
			return nil, &graphError{Status: 400, Code: 2500, Message: "An active access token must be used to query information about the current user."}
		case rq.c.tok.Kind == kindPage:
			id = rq.c.tok.PageID
		default:
			id = rq.c.tok.UserID
		}
	}
	edge := ""
	if len(segs) == 2 {
		edge = segs[1]
	}
	switch {
	case w.st.user(id) != nil && w.st.user(id).ID == id:
		return w.userNode(rq, id, edge)
	case w.st.page(id) != nil:
		return w.pageNode(rq, w.st.page(id), edge)
	case w.st.instagram(id) != nil:
		return w.instagramNode(rq, w.st.instagram(id), edge)
	case w.st.whatsapp(id) != nil:
		return w.phoneNode(rq, w.st.whatsapp(id), edge)
	case len(w.st.waba(id)) > 0:
		return w.wabaNode(rq, id, edge)
	case rq.c.tok != nil && rq.c.tok.Kind == kindSystemUser && id == rq.c.tok.UserID && edge == "":
		return map[string]any{"id": id, "name": "omnilink system user"}, nil
	}
	if v, e, ok := w.personNode(rq, id, edge); ok {
		return v, e
	}
	return nil, errUnsupported(rq.method, id)
}

// personNode serves the Messenger and Instagram User Profile APIs: GET /{PSID|IGSID} with the
// token of the Page the person wrote to (or of the Page behind the Instagram account). Like
// Graph, it answers only for someone who has messaged the account (their consent); ok is
// false when the id is no person this token can see.
func (w *World) personNode(rq *graphRequest, id, edge string) (any, *graphError, bool) {
	t := rq.c.tok
	if t == nil || t.Kind != kindPage || edge != "" || rq.method != http.MethodGet {
		return nil, nil, false
	}
	p, account := PlatformFacebook, t.PageID
	known := w.st.customerOn(PlatformFacebook, t.PageID, id)
	if known == nil {
		if pg := w.st.page(t.PageID); pg != nil && pg.InstagramID != "" {
			if c := w.st.customerOn(PlatformInstagram, pg.InstagramID, id); c != nil || !w.st.LastInbound[convKey(PlatformInstagram, pg.InstagramID, id)].IsZero() {
				p, account, known = PlatformInstagram, pg.InstagramID, c
			}
		}
	}
	rq.c.bucType = "messenger"
	need := "pages_messaging"
	if p == PlatformInstagram {
		rq.c.bucType, need = "instagram", "instagram_manage_messages"
	}
	if !t.has(need) {
		return nil, errPermission(need), true
	}
	consent := !w.st.LastInbound[convKey(p, account, id)].IsZero()
	switch {
	case known == nil && !consent:
		return nil, nil, false
	case !consent:
		return nil, &graphError{Status: 400, Type: "OAuthException", Code: 230, Message: "User consent is required to access user profile"}, true
	}
	name := ""
	if known != nil {
		name = known.Name
	}
	var def string
	if p == PlatformInstagram {
		def = "name,username,profile_pic"
	} else {
		def = "first_name,last_name,profile_pic"
	}
	fields, e := requestedFields(rq.params, def)
	if e != nil {
		return nil, e, true
	}
	out := map[string]any{"id": id}
	for _, f := range fields {
		switch {
		case f.name == "id":
		case f.name == "name":
			out["name"] = nullable(name)
		case f.name == "profile_pic":
			out["profile_pic"] = pictureURL(rq.r, id, name)
		case f.name == "username" && p == PlatformInstagram:
			out["username"] = "ig_" + id[max(0, len(id)-6):]
			if known != nil {
				out["username"] = known.Key
			}
		case f.name == "first_name" && p == PlatformFacebook:
			out["first_name"] = nullable(name)
		case f.name == "last_name" && p == PlatformFacebook:
			out["last_name"] = nullable("")
		default:
			if p == PlatformInstagram {
				return nil, errNoField(f.name, "InstagramUser"), true
			}
			return nil, errNoField(f.name, "User"), true
		}
	}
	return out, nil, true
}

// nullable is Graph's null for an unset string field.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// userNode serves /{user-id} (or /me with a user token) and its edges.
func (w *World) userNode(rq *graphRequest, id, edge string) (any, *graphError) {
	t := rq.c.tok
	if t == nil || t.Kind != kindUser || t.UserID != id {
		return nil, errUnsupported(rq.method, id)
	}
	u := w.st.user(id)
	switch edge {
	case "":
		if rq.method != http.MethodGet {
			return nil, errUnsupported(rq.method, id)
		}
		fields, e := requestedFields(rq.params, "id,name")
		if e != nil {
			return nil, e
		}
		out := map[string]any{"id": u.ID} // Graph always includes the id
		for _, f := range fields {
			switch f.name {
			case "id":
				out["id"] = u.ID
			case "name":
				out["name"] = u.Name
			case "short_name":
				out["short_name"] = u.Key
			case "picture":
				out["picture"] = pictureObject(rq.r, u.ID, u.Name)
			default:
				return nil, errNoField(f.name, "User")
			}
		}
		return out, nil
	case "permissions":
		if rq.method != http.MethodGet {
			return nil, errUnsupported(rq.method, id)
		}
		var data []map[string]string
		for _, s := range t.scopes() {
			data = append(data, map[string]string{"permission": s, "status": "granted"})
		}
		declined := slices.Clone(t.RemovedScopes)
		if g := w.st.Grants[id]; g != nil {
			for _, s := range g.Declined {
				if !slices.Contains(declined, s) && !t.has(s) {
					declined = append(declined, s)
				}
			}
		}
		for _, s := range declined {
			data = append(data, map[string]string{"permission": s, "status": "declined"})
		}
		return map[string]any{"data": data}, nil
	case "accounts":
		if rq.method != http.MethodGet {
			return nil, errUnsupported(rq.method, id)
		}
		return w.accounts(rq, u)
	}
	return nil, errNoField(edge, "User")
}

// accounts serves me/accounts: the Pages the user has a role on, with Page tokens, paged.
func (w *World) accounts(rq *graphRequest, u *FacebookUser) (any, *graphError) {
	if !rq.c.tok.has("pages_show_list") {
		return nil, errPermission("pages_show_list")
	}
	fields, e := requestedFields(rq.params, "access_token,category,name,id,tasks")
	if e != nil {
		return nil, e
	}
	limit := 25
	if v, err := strconv.Atoi(rq.params.Get("limit")); err == nil && v > 0 {
		limit = min(v, 100)
	}
	start := 0
	if after := rq.params.Get("after"); after != "" {
		b, err := base64.StdEncoding.DecodeString(after)
		if err != nil {
			return nil, errParam("Invalid after cursor")
		}
		for i, r := range u.Roles {
			if r.PageID == string(b) {
				start = i + 1
			}
		}
	}
	end := min(start+limit, len(u.Roles))
	data := []map[string]any{}
	for _, role := range u.Roles[start:end] {
		p := w.st.page(role.PageID)
		obj, e := w.pageObject(rq, p, fields)
		if e != nil {
			return nil, e
		}
		data = append(data, obj)
	}
	out := map[string]any{"data": data}
	if end > start {
		cursor := func(i int) string { return base64.StdEncoding.EncodeToString([]byte(u.Roles[i].PageID)) }
		paging := map[string]any{"cursors": map[string]string{"before": cursor(start), "after": cursor(end - 1)}}
		if end < len(u.Roles) {
			q := url.Values{}
			for k, v := range rq.params {
				q[k] = v
			}
			q.Set("limit", strconv.Itoa(limit))
			q.Set("after", cursor(end-1))
			paging["next"] = absoluteURL(rq.r, q)
		}
		out["paging"] = paging
	}
	return out, nil
}

// pageNode serves /{page-id} and its edges.
func (w *World) pageNode(rq *graphRequest, p *Page, edge string) (any, *graphError) {
	t := rq.c.tok
	switch {
	case t == nil:
		return nil, errUnsupported(rq.method, p.ID)
	case t.Kind == kindPage && t.PageID == p.ID:
	case t.Kind == kindUser && w.st.role(t.UserID, p.ID) != nil:
	default:
		return nil, errUnsupported(rq.method, p.ID)
	}
	switch edge {
	case "":
		if rq.method != http.MethodGet {
			return nil, errUnsupported(rq.method, p.ID)
		}
		fields, e := requestedFields(rq.params, "name,id")
		if e != nil {
			return nil, e
		}
		return w.pageObject(rq, p, fields)
	case "subscribed_apps":
		return w.subscribedApps(rq, p.ID, true)
	case "messages":
		if rq.method != http.MethodPost {
			return nil, errUnsupported(rq.method, p.ID+"/messages")
		}
		return w.sendMessenger(rq, p, "")
	}
	return nil, errNoField(edge, "Page")
}

// pageObject renders a Page with the requested fields for the caller's token.
func (w *World) pageObject(rq *graphRequest, p *Page, fields []fieldSel) (map[string]any, *graphError) {
	t := rq.c.tok
	out := map[string]any{"id": p.ID}
	for _, f := range fields {
		switch f.name {
		case "id":
		case "name":
			out["name"] = p.Name
		case "category":
			out["category"] = p.Category
		case "link":
			out["link"] = "https://www.facebook.com/" + p.ID
		case "picture":
			out["picture"] = pictureObject(rq.r, p.ID, p.Name)
		case "access_token":
			if t.Kind == kindPage {
				out["access_token"] = t.Value
			} else {
				out["access_token"] = w.st.pageToken(t, p.ID, rq.now).Value
				w.changed()
			}
		case "tasks":
			if tasks := w.st.role(t.UserID, p.ID); tasks != nil {
				out["tasks"] = tasks
			}
		case "instagram_business_account", "connected_instagram_account":
			igID := p.InstagramID
			if f.name == "connected_instagram_account" && igID == "" {
				igID = p.ConnectedInstagramID
			}
			// Graph leaves the field out when nothing is linked, and hides IG data from
			// tokens without instagram_basic.
			if igID == "" || !t.has("instagram_basic") {
				continue
			}
			sub := f.sub
			if len(sub) == 0 {
				sub = []fieldSel{{name: "id"}}
			}
			obj, e := w.instagramObject(rq, w.st.instagram(igID), sub)
			if e != nil {
				return nil, e
			}
			out[f.name] = obj
		default:
			return nil, errNoField(f.name, "Page")
		}
	}
	return out, nil
}

// instagramNode serves /{ig-user-id} and /{ig-user-id}/messages.
func (w *World) instagramNode(rq *graphRequest, a *InstagramAccount, edge string) (any, *graphError) {
	t := rq.c.tok
	switch {
	case t == nil:
		return nil, errUnsupported(rq.method, a.ID)
	case t.Kind == kindPage && t.PageID == a.PageID:
	case t.Kind == kindUser && w.st.role(t.UserID, a.PageID) != nil:
	default:
		return nil, errUnsupported(rq.method, a.ID)
	}
	switch edge {
	case "":
		if rq.method != http.MethodGet {
			return nil, errUnsupported(rq.method, a.ID)
		}
		if !t.has("instagram_basic") {
			return nil, errPermission("instagram_basic")
		}
		fields, e := requestedFields(rq.params, "id")
		if e != nil {
			return nil, e
		}
		return w.instagramObject(rq, a, fields)
	case "messages":
		if rq.method != http.MethodPost {
			return nil, errUnsupported(rq.method, a.ID+"/messages")
		}
		return w.sendMessenger(rq, w.st.page(a.PageID), a.ID)
	}
	return nil, errNoField(edge, "IGUser")
}

func (w *World) instagramObject(rq *graphRequest, a *InstagramAccount, fields []fieldSel) (map[string]any, *graphError) {
	out := map[string]any{"id": a.ID}
	for _, f := range fields {
		switch f.name {
		case "id":
		case "username":
			out["username"] = a.Username
		case "name":
			out["name"] = a.Name
		case "profile_picture_url":
			out["profile_picture_url"] = pictureURL(rq.r, a.ID, a.Name)
		case "account_type":
			// Sandbox-only: Graph's IG User node (Facebook Login flavour) has no such field.
			out["account_type"] = a.AccountType
		default:
			return nil, errNoField(f.name, "IGUser")
		}
	}
	return out, nil
}

// debugToken serves GET /debug_token, the health check's source of truth.
func (w *World) debugToken(rq *graphRequest) (any, *graphError) {
	if !rq.c.app {
		return nil, &graphError{Status: 400, Code: 100, Message: "(#100) You must provide an app access token, or a user access token that is an owner or developer of the app"}
	}
	raw := rq.params.Get("input_token")
	if raw == "" {
		return nil, errParam("The parameter input_token is required")
	}
	if raw == w.AppAccessToken() {
		return map[string]any{"data": map[string]any{"app_id": w.appID, "type": "APP", "application": appName, "is_valid": true, "scopes": []string{}}}, nil
	}
	t := w.st.Tokens[raw]
	if t == nil || t.Kind == kindLINEChannel || t.Kind == kindLIFF {
		return map[string]any{"data": map[string]any{
			"error":    map[string]any{"code": 190, "message": "Invalid OAuth access token."},
			"is_valid": false, "scopes": []string{},
		}}, nil
	}
	typ := map[tokenKind]string{kindUser: "USER", kindPage: "PAGE", kindSystemUser: "SYSTEM_USER"}[t.Kind]
	var exp int64
	if e := t.expiresAt(); !e.IsZero() {
		exp = e.Unix()
	}
	scopes := t.scopes()
	d := map[string]any{
		"app_id": w.appID, "type": typ, "application": appName,
		"expires_at": exp, "is_valid": true, "issued_at": t.IssuedAt.Unix(),
		"scopes": scopes, "granular_scopes": w.granularScopes(t, scopes), "user_id": t.UserID,
	}
	if t.Kind != kindSystemUser {
		if g := w.st.Grants[t.UserID]; g != nil {
			d["data_access_expires_at"] = g.GrantedAt.Add(dataAccessTTL).Unix()
		}
	}
	if t.Kind == kindPage {
		d["profile_id"] = t.PageID
	}
	if e := w.invalidTokenError(t, rq.now); e != nil {
		d["is_valid"] = false
		d["error"] = map[string]any{"code": e.Code, "message": e.Message, "subcode": e.Subcode}
	}
	return map[string]any{"data": d}, nil
}

// granularScopes lists the objects each scope applies to, as debug_token does for Page,
// Instagram and WhatsApp permissions.
func (w *World) granularScopes(t *token, scopes []string) []map[string]any {
	var pages, igs, wabas []string
	switch t.Kind {
	case kindSystemUser:
		if n := w.st.whatsapp(t.AccountID); n != nil {
			wabas = []string{n.WABAID}
		}
	default:
		if u := w.st.user(t.UserID); u != nil {
			for _, r := range u.Roles {
				pages = append(pages, r.PageID)
				if p := w.st.page(r.PageID); p != nil && p.InstagramID != "" {
					igs = append(igs, p.InstagramID)
				}
			}
		}
	}
	out := []map[string]any{}
	for _, s := range scopes {
		g := map[string]any{"scope": s}
		switch {
		case strings.HasPrefix(s, "pages_") && len(pages) > 0:
			g["target_ids"] = pages
		case strings.HasPrefix(s, "instagram_") && len(igs) > 0:
			g["target_ids"] = igs
		case strings.HasPrefix(s, "whatsapp_") && len(wabas) > 0:
			g["target_ids"] = wabas
		}
		out = append(out, g)
	}
	return out
}

// fieldSel is one entry of a Graph fields= parameter, with nested selections.
type fieldSel struct {
	name string
	sub  []fieldSel
}

func requestedFields(params url.Values, def string) ([]fieldSel, *graphError) {
	raw := params.Get("fields")
	if raw == "" {
		raw = def
	}
	fields, rest, err := parseFields(raw)
	if err != nil || rest != "" {
		return nil, errParam("Syntax error \"Expected end of string instead of \"" + rest + "\".\" at character " + strconv.Itoa(len(raw)-len(rest)) + ": " + raw)
	}
	return fields, nil
}

// parseFields reads "a,b{c,d},e.limit(5)"; modifiers in parentheses are ignored.
func parseFields(s string) ([]fieldSel, string, error) {
	var out []fieldSel
	for {
		s = strings.TrimLeft(s, " ")
		i := strings.IndexAny(s, ",{}.(")
		if i < 0 {
			i = len(s)
		}
		name := strings.TrimSpace(s[:i])
		if name == "" {
			return nil, s, fmt.Errorf("empty field")
		}
		f := fieldSel{name: name}
		s = s[i:]
		for strings.HasPrefix(s, ".") {
			j := strings.Index(s, ")")
			if j < 0 {
				return nil, s, fmt.Errorf("unclosed modifier")
			}
			s = s[j+1:]
		}
		if strings.HasPrefix(s, "{") {
			sub, rest, err := parseFields(s[1:])
			if err != nil {
				return nil, rest, err
			}
			if !strings.HasPrefix(rest, "}") {
				return nil, rest, fmt.Errorf("unclosed brace")
			}
			f.sub, s = sub, rest[1:]
		}
		out = append(out, f)
		if !strings.HasPrefix(s, ",") {
			return out, s, nil
		}
		s = s[1:]
	}
}

// absoluteURL rebuilds the URL the client called (including any mount prefix, which
// http.StripPrefix removed from r.URL.Path but not from RequestURI) with a new query.
func absoluteURL(r *http.Request, q url.Values) string {
	path := r.URL.EscapedPath()
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil && u.Path != "" {
		path = u.EscapedPath()
	}
	return requestOrigin(r) + path + "?" + q.Encode()
}

func requestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host
}
