package line

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

const testToken = "channel-token-secret-value"

// fakeLINE is an httptest server standing in for api.line.me under a path prefix.
type fakeLINE struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []*http.Request
	bodies []string
	routes map[string]http.HandlerFunc
}

const prefix = "/sandbox/line"

func newFake(t *testing.T) *fakeLINE {
	f := &fakeLINE{t: t, routes: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		f.mu.Lock()
		f.reqs = append(f.reqs, r)
		f.bodies = append(f.bodies, string(b))
		h, ok := f.routes[r.Method+" "+strings.TrimPrefix(r.URL.EscapedPath(), prefix)]
		f.mu.Unlock()
		if !ok {
			w.WriteHeader(404)
			io.WriteString(w, `{"message":"Not found"}`)
			return
		}
		h(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeLINE) json(route string, status int, body string) {
	f.routes[route] = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Line-Request-Id", "req-1")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func (f *fakeLINE) last() (*http.Request, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		f.t.Fatal("no request reached the fake")
	}
	return f.reqs[len(f.reqs)-1], f.bodies[len(f.bodies)-1]
}

func (f *fakeLINE) client() *Client {
	return New(Config{APIURL: f.srv.URL + prefix + "/", HTTPClient: f.srv.Client()})
}

func noSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, s := range append(secrets, testToken) {
		if err != nil && strings.Contains(err.Error(), s) {
			t.Fatalf("error leaks %q: %v", s, err)
		}
	}
}

func assertJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("body =\n%s\nwant\n%s", got, want)
	}
}

func TestNewDefaults(t *testing.T) {
	c := New(Config{})
	if c.apiURL != DefaultAPIURL || c.hc == nil || c.hc.Timeout == 0 {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestBotInfo(t *testing.T) {
	f := newFake(t)
	f.json("GET /v2/bot/info", 200, `{"userId":"Ub1","basicId":"@216ru","premiumId":"@omni","displayName":"Omni","pictureUrl":"https://p/x","chatMode":"chat","markAsReadMode":"manual"}`)
	c := f.client()
	b, err := c.BotInfo(context.Background(), testToken)
	if err != nil {
		t.Fatal(err)
	}
	want := BotInfo{UserID: "Ub1", BasicID: "@216ru", PremiumID: "@omni", DisplayName: "Omni", PictureURL: "https://p/x", ChatMode: "chat", MarkAsReadMode: "manual"}
	if b != want {
		t.Fatalf("got %+v", b)
	}
	r, _ := f.last()
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		t.Fatalf("auth = %q", r.Header.Get("Authorization"))
	}
	f.json("GET /v2/bot/info", 200, `{"displayName":"x"}`)
	if _, err := c.BotInfo(context.Background(), testToken); err == nil {
		t.Fatal("answer without userId must fail")
	}
	f.json("GET /v2/bot/info", 401, `{"message":"Authentication failed. Confirm that the access token in the authorization header is valid."}`)
	_, err = c.BotInfo(context.Background(), testToken)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 401 || ae.RequestID != "req-1" || !strings.HasPrefix(ae.Message, "Authentication failed") {
		t.Fatalf("err = %#v", err)
	}
	if Classify(err) != (Classification{Class: ClassAuthBroken, Cause: CauseInvalidToken}) {
		t.Fatalf("401 classified %v", Classify(err))
	}
	noSecret(t, err)
}

func TestVerifyChannelToken(t *testing.T) {
	f := newFake(t)
	f.routes["POST /v2/oauth/verify"] = func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.Header.Get("Authorization") != "" {
			t.Errorf("headers = %v", r.Header)
		}
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		switch r.PostForm.Get("access_token") {
		case testToken:
			io.WriteString(w, `{"client_id":"1350031035","expires_in":2591659,"scope":"P CM"}`)
		default:
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_request","error_description":"access token expired"}`)
		}
	}
	c := f.client()
	info, err := c.VerifyChannelToken(context.Background(), testToken)
	if err != nil || info != (TokenInfo{ClientID: "1350031035", ExpiresIn: 2591659 * time.Second, Scope: "P CM"}) {
		t.Fatalf("info = %+v %v", info, err)
	}
	_, err = c.VerifyChannelToken(context.Background(), "old-token-value")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "invalid_request" || ae.Message != "access token expired" {
		t.Fatalf("err = %#v", err)
	}
	if Classify(err) != (Classification{Class: ClassAuthBroken, Cause: CauseRefused}) {
		t.Fatalf("classified %v", Classify(err))
	}
	noSecret(t, err, "old-token-value")
	if _, err := c.VerifyChannelToken(context.Background(), ""); err == nil {
		t.Fatal("empty token must fail")
	}
}

func TestVerifyAccessToken(t *testing.T) {
	f := newFake(t)
	f.routes["GET /oauth2/v2.1/verify"] = func(w http.ResponseWriter, r *http.Request) {
		// The spec's key is access_token (the SDK's accessToken is a bug).
		switch r.URL.Query().Get("access_token") {
		case "good":
			io.WriteString(w, `{"scope":"profile openid","client_id":"1440057261","expires_in":2591659}`)
		case "zero":
			io.WriteString(w, `{"scope":"profile","client_id":"1440057261","expires_in":0}`)
		default:
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_request","error_description":"access token expired"}`)
		}
	}
	c := f.client()
	info, err := c.VerifyAccessToken(context.Background(), "good")
	if err != nil || info.ClientID != "1440057261" || info.ExpiresIn != 2591659*time.Second {
		t.Fatalf("info = %+v %v", info, err)
	}
	if _, err := c.VerifyAccessToken(context.Background(), "zero"); Classify(err).Class != ClassAuthBroken {
		t.Fatalf("expires_in 0 must be an expired token, got %v", err)
	}
	_, err = c.VerifyAccessToken(context.Background(), "stale-access-token")
	if Classify(err) != (Classification{Class: ClassAuthBroken, Cause: CauseRefused}) {
		t.Fatalf("classified %v", Classify(err))
	}
	noSecret(t, err, "stale-access-token")
}

func TestPush(t *testing.T) {
	f := newFake(t)
	accepted := map[string]bool{}
	f.routes["POST /v2/bot/message/push"] = func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("X-Line-Retry-Key")
		if key != "" && accepted[key] {
			w.WriteHeader(409)
			io.WriteString(w, `{"message":"The retry key is already accepted","sentMessages":[{"id":"461230966842064897","quoteToken":"q1"}]}`)
			return
		}
		accepted[key] = true
		io.WriteString(w, `{"sentMessages":[{"id":"461230966842064897","quoteToken":"q1"}]}`)
	}
	c := f.client()
	ctx := context.Background()
	key := "123e4567-e89b-12d3-a456-426614174000"
	msgs := []any{NewText("hello"), NewFlex("Link your account", map[string]any{"type": "bubble"})}

	res, err := c.Push(ctx, testToken, "U4af4980629", msgs, key)
	if err != nil || res.AlreadyAccepted || len(res.SentMessages) != 1 || res.SentMessages[0] != (SentMessage{ID: "461230966842064897", QuoteToken: "q1"}) {
		t.Fatalf("first push = %+v %v", res, err)
	}
	r, body := f.last()
	if r.Header.Get("X-Line-Retry-Key") != key || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("headers = %v", r.Header)
	}
	assertJSON(t, body, `{"to":"U4af4980629","messages":[{"type":"text","text":"hello"},{"type":"flex","altText":"Link your account","contents":{"type":"bubble"}}]}`)

	res, err = c.Push(ctx, testToken, "U4af4980629", msgs, key)
	if err != nil || !res.AlreadyAccepted || len(res.SentMessages) != 1 {
		t.Fatalf("retried push = %+v %v", res, err)
	}

	// Without a retry key no header is sent.
	if _, err := c.Push(ctx, testToken, "U1", msgs[:1], ""); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.last(); r.Header.Get("X-Line-Retry-Key") != "" {
		t.Fatal("unexpected retry key header")
	}

	bad := map[string]func() error{
		"no recipient":  func() error { _, e := c.Push(ctx, testToken, "", msgs, ""); return e },
		"no messages":   func() error { _, e := c.Push(ctx, testToken, "U1", nil, ""); return e },
		"six messages":  func() error { _, e := c.Push(ctx, testToken, "U1", make([]any, 6), ""); return e },
		"nil message":   func() error { _, e := c.Push(ctx, testToken, "U1", []any{nil}, ""); return e },
		"bad retry key": func() error { _, e := c.Push(ctx, testToken, "U1", msgs, "not-a-uuid"); return e },
		"unencodable":   func() error { _, e := c.Push(ctx, testToken, "U1", []any{func() {}}, ""); return e },
	}
	for name, fn := range bad {
		if fn() == nil {
			t.Errorf("%s: want error", name)
		}
	}
}

func TestPushErrors(t *testing.T) {
	f := newFake(t)
	c := f.client()
	cases := []struct {
		status int
		body   string
		want   Classification
	}{
		{400, `{"message":"The request body has 1 error(s)","details":[{"message":"May not be empty","property":"messages[0].text"}]}`, Classification{Class: ClassOther}},
		{403, `{"message":"Access to this API is not available for your account"}`, Classification{Class: ClassAuthBroken, Cause: CausePermissionRemoved}},
		{429, `{"message":"Too Many Requests"}`, Classification{Class: ClassTransient, Cause: CauseRateLimited}},
		{429, `{"message":"You have reached your monthly limit."}`, Classification{Class: ClassTransient, Cause: CauseMonthlyQuota}},
		{500, `{"message":"Internal server error"}`, Classification{Class: ClassTransient, Cause: CauseServerError}},
		{503, `<html>down</html>`, Classification{Class: ClassTransient, Cause: CauseServerError}},
		{409, `{"message":"The retry key is already accepted"}`, Classification{Class: ClassOther}},
		{410, ``, Classification{Class: ClassOther}},
	}
	for _, tc := range cases {
		f.json("POST /v2/bot/message/push", tc.status, tc.body)
		// 409 without a retry key is a plain error.
		_, err := c.Push(context.Background(), testToken, "U1", []any{NewText("x")}, "")
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != tc.status {
			t.Fatalf("%d: err = %v", tc.status, err)
		}
		if got := Classify(err); got != tc.want {
			t.Errorf("%d %s: classified %v, want %v", tc.status, tc.body, got, tc.want)
		}
	}
	f.json("POST /v2/bot/message/push", 400, `{"message":"bad","details":[{"message":"May not be empty","property":"to"}]}`)
	_, err := c.Push(context.Background(), testToken, "U1", []any{NewText("x")}, "")
	var ae *APIError
	if !errors.As(err, &ae) || !reflect.DeepEqual(ae.Details, []ErrorDetail{{Message: "May not be empty", Property: "to"}}) ||
		err.Error() != "line: http 400: bad; to: May not be empty [request req-1]" {
		t.Fatalf("details: %v", err)
	}
	f.json("POST /v2/bot/message/push", 400, `{"message":"x","details":"oops"}`)
	_, err = c.Push(context.Background(), testToken, "U1", []any{NewText("x")}, "")
	if !errors.As(err, &ae) || ae.Message != "x" {
		t.Fatalf("wrongly typed details must keep the message: %#v", err)
	}
	f.json("POST /v2/bot/message/push", 200, `not json`)
	if _, err := c.Push(context.Background(), testToken, "U1", []any{NewText("x")}, ""); err == nil {
		t.Fatal("undecodable success must fail")
	}
}

func TestReply(t *testing.T) {
	f := newFake(t)
	f.json("POST /v2/bot/message/reply", 200, `{"sentMessages":[{"id":"1","quoteToken":"q"}]}`)
	c := f.client()
	res, err := c.Reply(context.Background(), testToken, "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA", []any{NewText("thanks")})
	if err != nil || len(res.SentMessages) != 1 || res.AlreadyAccepted {
		t.Fatalf("reply = %+v %v", res, err)
	}
	_, body := f.last()
	assertJSON(t, body, `{"replyToken":"nHuyWiB7yP5Zw52FIkcQobQuGDXCTA","messages":[{"type":"text","text":"thanks"}]}`)
	if _, err := c.Reply(context.Background(), testToken, "", []any{NewText("x")}); err == nil {
		t.Fatal("empty reply token must fail")
	}
	f.json("POST /v2/bot/message/reply", 400, `{"message":"Invalid reply token"}`)
	if _, err := c.Reply(context.Background(), testToken, "used", []any{NewText("x")}); Classify(err).Class != ClassOther {
		t.Fatalf("invalid reply token classified %v", Classify(err))
	}
}

func TestProfile(t *testing.T) {
	f := newFake(t)
	f.json("GET /v2/bot/profile/U4af4980629", 200, `{"displayName":"LINE taro","userId":"U4af4980629","language":"en","pictureUrl":"https://obs/x","statusMessage":"Hello"}`)
	c := f.client()
	p, err := c.Profile(context.Background(), testToken, "U4af4980629")
	if err != nil || p != (Profile{UserID: "U4af4980629", DisplayName: "LINE taro", PictureURL: "https://obs/x", StatusMessage: "Hello", Language: "en"}) {
		t.Fatalf("profile = %+v %v", p, err)
	}
	_, err = c.Profile(context.Background(), testToken, "Ublocked")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("404 must match ErrNotFound: %v", err)
	}
	if Classify(err) != (Classification{Class: ClassOther, Cause: CauseNotFound}) {
		t.Fatalf("classified %v", Classify(err))
	}
	f.json("GET /v2/bot/profile/Ux", 500, `{}`)
	if _, err := c.Profile(context.Background(), testToken, "Ux"); errors.Is(err, ErrNotFound) || err == nil {
		t.Fatalf("500 must not match ErrNotFound: %v", err)
	}
	// Ids are escaped: a slash cannot reach another endpoint.
	f.json("GET /v2/bot/info", 200, `{"userId":"leak"}`)
	if _, err := c.Profile(context.Background(), testToken, "../info"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("escaped id reached a route: %v", err)
	}
	for _, id := range []string{"", ".", ".."} {
		if _, err := c.Profile(context.Background(), testToken, id); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("id %q must be rejected locally, got %v", id, err)
		}
	}
}

func TestRichMenus(t *testing.T) {
	f := newFake(t)
	f.json("POST /v2/bot/user/U1/richmenu/richmenu-8dfdfc571eca39c0ffcd1f799519c5b5", 200, `{}`)
	f.json("DELETE /v2/bot/user/U1/richmenu", 200, `{}`)
	c := f.client()
	ctx := context.Background()
	if err := c.LinkRichMenu(ctx, testToken, "U1", "richmenu-8dfdfc571eca39c0ffcd1f799519c5b5"); err != nil {
		t.Fatal(err)
	}
	if r, body := f.last(); r.Method != "POST" || body != "" || r.Header.Get("Authorization") != "Bearer "+testToken {
		t.Fatalf("link request: %s %q", r.Method, body)
	}
	if err := c.UnlinkRichMenu(ctx, testToken, "U1"); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.last(); r.Method != "DELETE" {
		t.Fatal("unlink must DELETE")
	}
	if err := c.LinkRichMenu(ctx, testToken, "U1", "richmenu-missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown rich menu: %v", err)
	}
	if err := c.LinkRichMenu(ctx, testToken, "", "r"); err == nil {
		t.Fatal("empty user must fail")
	}
	if err := c.LinkRichMenu(ctx, testToken, "U1", ""); err == nil {
		t.Fatal("empty menu must fail")
	}
	if err := c.UnlinkRichMenu(ctx, testToken, ".."); err == nil {
		t.Fatal("bad user must fail")
	}
}

func TestVerifyIDToken(t *testing.T) {
	f := newFake(t)
	f.routes["POST /oauth2/v2.1/verify"] = func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.PostForm.Get("client_id") != "1234567890" {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_request","error_description":"Invalid IdToken Audience."}`)
			return
		}
		switch tok := r.PostForm.Get("id_token"); tok {
		case "good":
			io.WriteString(w, `{"iss":"https://access.line.me","sub":"U1234567890abcdef1234567890abcdef","aud":"1234567890","exp":1504169092,
				"iat":1504263657,"auth_time":1504263600,"nonce":"0987654asdf","amr":["pwd"],"name":"Taro Line","picture":"https://sample_line.me/aBcdefg123456","email":"taro.line@example.com"}`)
		case "other-aud":
			io.WriteString(w, `{"iss":"https://access.line.me","sub":"U1","aud":"999","exp":1504169092}`)
		case "list-aud":
			io.WriteString(w, `{"sub":"U1","aud":["x","1234567890"],"exp":"bad"}`)
		case "no-sub":
			io.WriteString(w, `{"aud":"1234567890"}`)
		case "garbage":
			io.WriteString(w, `<html>`)
		case "server":
			w.WriteHeader(502)
		default:
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"error":"invalid_request","error_description":%q}`, strings.TrimPrefix(tok, "desc:"))
		}
	}
	c := f.client()
	ctx := context.Background()
	tok, err := c.VerifyIDToken(ctx, "good", "1234567890")
	if err != nil {
		t.Fatal(err)
	}
	want := IDToken{Iss: "https://access.line.me", Sub: "U1234567890abcdef1234567890abcdef", Aud: "1234567890",
		Exp: time.Unix(1504169092, 0), Iat: time.Unix(1504263657, 0), AuthTime: time.Unix(1504263600, 0), Nonce: "0987654asdf",
		AMR: []string{"pwd"}, Name: "Taro Line", Picture: "https://sample_line.me/aBcdefg123456", Email: "taro.line@example.com"}
	if !reflect.DeepEqual(tok, want) {
		t.Fatalf("token =\n%+v\nwant\n%+v", tok, want)
	}
	if tok, err := c.VerifyIDToken(ctx, "list-aud", "1234567890"); err != nil || tok.Aud != "1234567890" || !tok.Exp.IsZero() {
		t.Fatalf("list aud: %+v %v", tok, err)
	}

	errCases := map[string]*IDTokenError{
		"desc:Invalid IdToken.":                    ErrIDTokenInvalid,
		"desc:Invalid IdToken Issuer.":             ErrIDTokenIssuer,
		"desc:IdToken expired.":                    ErrIDTokenExpired,
		"desc:Invalid IdToken Audience.":           ErrIDTokenAudience,
		"desc:Invalid IdToken Nonce.":              ErrIDTokenNonce,
		"desc:Invalid IdToken Subject Identifier.": ErrIDTokenSubject,
		"desc:something new":                       ErrIDTokenInvalid,
		"other-aud":                                ErrIDTokenAudience,
		"no-sub":                                   ErrIDTokenSubject,
	}
	for in, want := range errCases {
		_, err := c.VerifyIDToken(ctx, in, "1234567890")
		if !errors.Is(err, want) {
			t.Errorf("%s: got %v, want reason %s", in, err, want.Reason)
		}
		for _, other := range []*IDTokenError{ErrIDTokenInvalid, ErrIDTokenExpired, ErrIDTokenAudience} {
			if other != want && errors.Is(err, other) {
				t.Errorf("%s: also matches %s", in, other.Reason)
			}
		}
		if Classify(err) != (Classification{Class: ClassOther, Cause: CauseIDToken}) {
			t.Errorf("%s: classified %v", in, Classify(err))
		}
		noSecret(t, err, in)
	}
	if _, err := c.VerifyIDToken(ctx, "good", "wrong-channel"); !errors.Is(err, ErrIDTokenAudience) {
		t.Fatalf("wrong channel: %v", err)
	}
	if _, err := c.VerifyIDToken(ctx, "", "1234567890"); !errors.Is(err, ErrIDTokenInvalid) {
		t.Fatalf("empty token: %v", err)
	}
	if _, err := c.VerifyIDToken(ctx, "x", ""); err == nil {
		t.Fatal("empty channel must fail")
	}
	if _, err := c.VerifyIDToken(ctx, "garbage", "1234567890"); err == nil {
		t.Fatal("garbage answer must fail")
	}
	_, err = c.VerifyIDToken(ctx, "server", "1234567890")
	if Classify(err) != (Classification{Class: ClassTransient, Cause: CauseServerError}) {
		t.Fatalf("502 classified %v", Classify(err))
	}
}

func TestTransportErrors(t *testing.T) {
	f := newFake(t)
	c := f.client()
	f.srv.Close()
	_, err := c.VerifyAccessToken(context.Background(), "query-token-value")
	if err == nil || strings.Contains(err.Error(), "query-token-value") || strings.Contains(err.Error(), "?") {
		t.Fatalf("transport error leaks the query: %v", err)
	}
	if Classify(err) != (Classification{Class: ClassTransient, Cause: CauseNetwork}) {
		t.Fatalf("refused classified %v", Classify(err))
	}

	slow := newFake(t)
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	slow.routes["GET /v2/bot/info"] = func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-done:
		case <-r.Context().Done():
		}
	}
	sc := New(Config{APIURL: slow.srv.URL + prefix, HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
	_, err = sc.BotInfo(context.Background(), testToken)
	if Classify(err) != (Classification{Class: ClassTransient, Cause: CauseNetwork}) {
		t.Fatalf("timeout classified %v (%v)", Classify(err), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err = slow.client().BotInfo(ctx, testToken)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}
}

func TestClassifyMisc(t *testing.T) {
	if Classify(nil).Class != ClassNone || Classify(errors.New("x")).Class != ClassOther {
		t.Fatal("nil / plain")
	}
	if Classify(fmt.Errorf("wrapped: %w", &APIError{Status: 401})).Class != ClassAuthBroken {
		t.Fatal("wrapped APIError")
	}
	if Classify(&url.Error{Op: "Get", URL: "x", Err: errors.New("boom")}).Class != ClassTransient {
		t.Fatal("url.Error")
	}
	if Classify(&APIError{Status: 400, Code: "invalid_request", Message: "invalid access token"}) != (Classification{Class: ClassAuthBroken, Cause: CauseRefused}) {
		t.Fatal("invalid token on verify")
	}
	if Classify(&APIError{Status: 400, Message: "The access token expired"}).Class != ClassOther {
		t.Fatal("a 400 without an OAuth code is a bad request, not a broken token")
	}
	if s := (Classification{Class: ClassTransient, Cause: CauseMonthlyQuota}).String(); s != "transient/monthly_quota" {
		t.Fatalf("String = %q", s)
	}
	if Class(42).String() != "class(42)" || Cause(42).String() != "cause(42)" || ClassNone.String() != "none" {
		t.Fatal("enum String")
	}
	if (&APIError{Status: 404}).Error() != "line: http 404" {
		t.Fatalf("Error() = %q", (&APIError{Status: 404}).Error())
	}
}

func TestRichMenuListAndUserMenu(t *testing.T) {
	f := newFake(t)
	f.json("GET /v2/bot/richmenu/list", 200, `{"richmenus":[{"richMenuId":"richmenu-a","name":"會員選單","chatBarText":"會員專區","selected":false,
		"size":{"width":2500,"height":1686},"areas":[{"bounds":{"x":0,"y":0,"width":2500,"height":1686},"action":{"type":"message","text":"hi"}}]}]}`)
	f.json("GET /v2/bot/user/U1/richmenu", 200, `{"richMenuId":"richmenu-a"}`)
	f.json("GET /v2/bot/user/U2/richmenu", 404, `{"message":"the user has no richmenu"}`)
	f.json("POST /v2/bot/user/U1/richmenu/richmenu-gone", 404, `{"message":"richmenu not found","details":[]}`)
	c := f.client()
	ctx := context.Background()
	menus, err := c.RichMenuList(ctx, testToken)
	if err != nil || len(menus) != 1 || menus[0].RichMenuID != "richmenu-a" || menus[0].Name != "會員選單" || menus[0].Size.Width != 2500 || len(menus[0].Areas) != 1 {
		t.Fatalf("list: %+v %v", menus, err)
	}
	if id, err := c.UserRichMenu(ctx, testToken, "U1"); err != nil || id != "richmenu-a" {
		t.Fatalf("user menu: %q %v", id, err)
	}
	if id, err := c.UserRichMenu(ctx, testToken, "U2"); err != nil || id != "" {
		t.Fatalf("no menu linked: %q %v", id, err)
	}
	err = c.LinkRichMenu(ctx, testToken, "U1", "richmenu-gone")
	if !IsRichMenuMissing(err) {
		t.Fatalf("missing menu not recognised: %v", err)
	}
	if IsRichMenuMissing(errors.New("line: http 404: Not found")) {
		t.Fatal("any 404 is not a missing menu")
	}
}

// A push with a retry key on a keep-alive connection the server drops without answering is
// sent again on a new connection, with the same key, instead of failing.
func TestPushRetriesADroppedKeepAliveConnection(t *testing.T) {
	f := newFake(t)
	var mu sync.Mutex
	pushes := 0
	f.routes["POST /v2/bot/message/push"] = func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		pushes++
		n := pushes
		mu.Unlock()
		if n == 2 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			conn.Close()
			return
		}
		io.WriteString(w, `{"sentMessages":[{"id":"1","quoteToken":"q"}]}`)
	}
	c := f.client()
	key := "123e4567-e89b-12d3-a456-426614174000"
	// The first push leaves a keep-alive connection for the second to reuse.
	if _, err := c.Push(context.Background(), testToken, "U1", []any{NewText("a")}, key); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Push(context.Background(), testToken, "U1", []any{NewText("b")}, key); err != nil {
		t.Fatalf("a push dropped on a reused connection failed: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) != 3 || f.reqs[2].Header.Get("X-Line-Retry-Key") != key || f.reqs[2].Header.Get("Idempotency-Key") != "" {
		t.Fatalf("the server saw %d pushes; the resent one carried %v", len(f.reqs), f.reqs[len(f.reqs)-1].Header)
	}
}
