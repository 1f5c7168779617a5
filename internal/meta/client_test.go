package meta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testAppID     = "1111"
	testAppSecret = "app-secret-for-tests"
	testToken     = "EAAtesttokenEAAtesttokenEAAtesttoken1234"
)

var fixedNow = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

// fakeGraph is an httptest server standing in for Graph under a path prefix, so tests
// also prove that base URLs with a path work.
type fakeGraph struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	bodies   []string
	routes   map[string]http.HandlerFunc
}

const prefix = "/sandbox/graph/v25.0/"

func newFakeGraph(t *testing.T) *fakeGraph {
	f := &fakeGraph{t: t, routes: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, r)
		f.bodies = append(f.bodies, string(b))
		h, ok := f.routes[r.Method+" "+strings.TrimPrefix(r.URL.Path, prefix)]
		f.mu.Unlock()
		if !ok || !strings.HasPrefix(r.URL.Path, prefix) {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"error":{"message":"Unknown path components: %s","type":"OAuthException","code":2500}}`, r.URL.Path)
			return
		}
		h(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGraph) handle(route string, h http.HandlerFunc) { f.routes[route] = h }

func (f *fakeGraph) json(route string, status int, body string) {
	f.handle(route, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	})
}

func (f *fakeGraph) last() (*http.Request, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		f.t.Fatal("no request reached the fake")
	}
	return f.requests[len(f.requests)-1], f.bodies[len(f.bodies)-1]
}

func (f *fakeGraph) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func (f *fakeGraph) client(mod ...func(*Config)) *Client {
	cfg := Config{AppID: testAppID, AppSecret: testAppSecret, GraphURL: f.srv.URL + "/sandbox/graph/", HTTPClient: f.srv.Client()}
	for _, m := range mod {
		m(&cfg)
	}
	c := New(cfg)
	c.now = func() time.Time { return fixedNow }
	return c
}

func assertNoSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range append(secrets, testToken, testAppSecret) {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error leaks a secret %q: %v", s, err)
		}
	}
}

func TestNewDefaults(t *testing.T) {
	c := New(Config{})
	if c.graphURL != DefaultGraphURL || c.dialogURL != DefaultDialogURL || c.version != DefaultGraphVersion {
		t.Fatalf("defaults not applied: %+v", c)
	}
	if c.hc == nil || c.hc.Timeout == 0 {
		t.Fatal("default HTTP client must have a timeout")
	}
	c = New(Config{GraphURL: "http://x/base/", GraphVersion: "/v99.0/"})
	if got := c.endpoint("me"); got != "http://x/base/v99.0/me" {
		t.Fatalf("endpoint = %q", got)
	}
}

func TestAuthCodeURL(t *testing.T) {
	c := New(Config{AppID: "42", DialogURL: "http://localhost:8080/sandbox/facebook/"})
	tests := []struct {
		name     string
		scopes   []string
		configID string
		opts     []AuthOption
		want     url.Values
		absent   []string
	}{
		{name: "scopes", scopes: []string{"pages_show_list", "pages_messaging"},
			want:   url.Values{"scope": {"pages_show_list,pages_messaging"}},
			absent: []string{"config_id", "auth_type"}},
		{name: "config id wins over scopes", scopes: []string{"pages_show_list"}, configID: "cfg-9",
			want: url.Values{"config_id": {"cfg-9"}}, absent: []string{"scope"}},
		{name: "rerequest", scopes: []string{"pages_messaging"}, opts: []AuthOption{Rerequest()},
			want: url.Values{"auth_type": {"rerequest"}, "scope": {"pages_messaging"}}},
		{name: "override", configID: "c", opts: []AuthOption{OverrideDefaultResponseType()},
			want: url.Values{"override_default_response_type": {"true"}}},
		{name: "no scopes", absent: []string{"scope", "config_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := c.AuthCodeURL("https://omni.example/oauth/meta/callback", "st&ate", tt.scopes, tt.configID, tt.opts...)
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if u.Host != "localhost:8080" || u.Path != "/sandbox/facebook/v25.0/dialog/oauth" {
				t.Fatalf("dialog URL = %s", raw)
			}
			q := u.Query()
			base := url.Values{"client_id": {"42"}, "redirect_uri": {"https://omni.example/oauth/meta/callback"},
				"state": {"st&ate"}, "response_type": {"code"}}
			for k, v := range base {
				if !reflect.DeepEqual(q[k], v) {
					t.Errorf("%s = %v, want %v", k, q[k], v)
				}
			}
			for k, v := range tt.want {
				if !reflect.DeepEqual(q[k], v) {
					t.Errorf("%s = %v, want %v", k, q[k], v)
				}
			}
			for _, k := range tt.absent {
				if q.Has(k) {
					t.Errorf("%s must be absent, got %q", k, q.Get(k))
				}
			}
		})
	}
}

func TestExchangeCode(t *testing.T) {
	f := newFakeGraph(t)
	f.json("GET oauth/access_token", 200, `{"access_token":"EAAshort","token_type":"bearer","expires_in":5183944}`)
	c := f.client()
	tok, err := c.ExchangeCode(context.Background(), "the-code", "https://omni.example/cb")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "EAAshort" || !tok.ExpiresAt.Equal(fixedNow.Add(5183944*time.Second)) {
		t.Fatalf("token = %+v", tok)
	}
	r, _ := f.last()
	q := r.URL.Query()
	for k, v := range map[string]string{"client_id": testAppID, "client_secret": testAppSecret, "code": "the-code", "redirect_uri": "https://omni.example/cb"} {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if strings.Contains(tok.String(), "EAAshort") || !strings.Contains(tok.String(), "redacted") {
		t.Fatalf("Token.String leaks: %s", tok)
	}
}

func TestExchangeCodeErrors(t *testing.T) {
	f := newFakeGraph(t)
	c := f.client()
	if _, err := c.ExchangeCode(context.Background(), "", "x"); err == nil {
		t.Fatal("empty code must fail")
	}
	f.json("GET oauth/access_token", 400, `{"error":{"message":"This authorization code has been used. code=the-code","type":"OAuthException","code":100,"error_subcode":36009,"fbtrace_id":"AbC"}}`)
	_, err := c.ExchangeCode(context.Background(), "the-code", "https://omni.example/cb")
	var ge *GraphError
	if !errors.As(err, &ge) || ge.Code != 100 || ge.Subcode != 36009 || ge.HTTPStatus != 400 || ge.FBTraceID != "AbC" {
		t.Fatalf("err = %#v", err)
	}
	assertNoSecrets(t, err, "the-code")

	f.json("GET oauth/access_token", 200, `{"token_type":"bearer"}`)
	if _, err := c.ExchangeCode(context.Background(), "c", "x"); err == nil || !strings.Contains(err.Error(), "access_token") {
		t.Fatalf("missing access_token must fail, got %v", err)
	}
	noApp := New(Config{GraphURL: f.srv.URL})
	if _, err := noApp.ExchangeCode(context.Background(), "c", "x"); err == nil {
		t.Fatal("exchange without app credentials must fail")
	}
}

func TestExchangeLongLived(t *testing.T) {
	f := newFakeGraph(t)
	f.json("GET oauth/access_token", 200, `{"access_token":"EAAlong","token_type":"bearer"}`)
	c := f.client()
	tok, err := c.ExchangeLongLived(context.Background(), "EAAshort")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "EAAlong" || !tok.ExpiresAt.IsZero() {
		t.Fatalf("token without expires_in must never expire: %+v", tok)
	}
	r, _ := f.last()
	if q := r.URL.Query(); q.Get("grant_type") != "fb_exchange_token" || q.Get("fb_exchange_token") != "EAAshort" || q.Get("client_secret") != testAppSecret {
		t.Fatalf("query = %v", q)
	}
	if _, err := c.ExchangeLongLived(context.Background(), ""); err == nil {
		t.Fatal("empty token must fail")
	}
	// An absurd expires_in must not overflow into the past.
	f.json("GET oauth/access_token", 200, `{"access_token":"EAAlong","expires_in":9223372036854775807}`)
	tok, err = c.ExchangeLongLived(context.Background(), "EAAshort")
	if err != nil || !tok.ExpiresAt.After(fixedNow) {
		t.Fatalf("huge expires_in: %+v %v", tok, err)
	}
}

func TestMeAndAppSecretProof(t *testing.T) {
	f := newFakeGraph(t)
	f.json("GET me", 200, `{"id":"10001","name":"Ada"}`)
	c := f.client()
	u, err := c.Me(context.Background(), testToken)
	if err != nil || u != (User{ID: "10001", Name: "Ada"}) {
		t.Fatalf("Me = %+v, %v", u, err)
	}
	r, _ := f.last()
	q := r.URL.Query()
	if q.Get("access_token") != testToken || q.Get("fields") != "id,name" {
		t.Fatalf("query = %v", q)
	}
	if q.Get("appsecret_proof") != appSecretProof(testAppSecret, testToken) || len(q.Get("appsecret_proof")) != 64 {
		t.Fatalf("appsecret_proof = %q", q.Get("appsecret_proof"))
	}
	f.json("GET me", 200, `{"name":"no id"}`)
	if _, err := c.Me(context.Background(), testToken); err == nil {
		t.Fatal("answer without id must fail")
	}
	f.json("GET me", 200, `not json`)
	if _, err := c.Me(context.Background(), testToken); err == nil {
		t.Fatal("non-JSON answer must fail")
	}
}

func TestPermissions(t *testing.T) {
	f := newFakeGraph(t)
	f.json("GET me/permissions", 200, `{"data":[
		{"permission":"pages_show_list","status":"granted"},
		{"permission":"pages_messaging","status":"declined"},
		{"permission":"instagram_basic","status":"expired"},
		{"permission":"pages_manage_metadata","status":"granted"},
		{"permission":"weird","status":"unknown"}]}`)
	p, err := f.client().Permissions(context.Background(), testToken)
	if err != nil {
		t.Fatal(err)
	}
	want := Permissions{Granted: []string{"pages_show_list", "pages_manage_metadata"}, Declined: []string{"pages_messaging"}, Expired: []string{"instagram_basic"}}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("got %+v", p)
	}
	if !p.Has("pages_show_list", "pages_manage_metadata") || p.Has("pages_messaging") {
		t.Fatal("Has is wrong")
	}
}

func TestAccountsPaging(t *testing.T) {
	f := newFakeGraph(t)
	f.handle("GET me/accounts", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("access_token") != testToken || q.Get("fields") != accountsFields || q.Get("limit") != "100" {
			t.Errorf("page request query = %v", q)
		}
		next := func(after string) string {
			v := url.Values{"access_token": {testToken}, "fields": {accountsFields}, "limit": {"100"}, "after": {after}}
			return f.srv.URL + prefix + "me/accounts?" + v.Encode()
		}
		switch q.Get("after") {
		case "":
			fmt.Fprintf(w, `{"data":[{"id":"p1","name":"Page One","access_token":"PT1","tasks":["MANAGE","MESSAGING"],
				"picture":{"data":{"url":"https://cdn/p1.jpg","is_silhouette":false}},
				"instagram_business_account":{"id":"ig1","username":"one","name":"One IG","profile_picture_url":"https://cdn/ig1.jpg"}}],
				"paging":{"cursors":{"before":"b","after":"c1"},"next":%q}}`, next("c1"))
		case "c1":
			// A foreign next URL must not be followed: the call would carry the token there.
			fmt.Fprint(w, `{"data":[{"id":"p2","name":"Page Two","access_token":"PT2","tasks":["ANALYZE"]}],
				"paging":{"cursors":{"after":"c2"},"next":"https://evil.example/v25.0/me/accounts?after=c2"}}`)
		case "c2":
			fmt.Fprintf(w, `{"data":[{"id":"p3","name":"Page Three","access_token":"PT3","instagram_business_account":{}}],"paging":{"next":%q}}`, next("c3"))
		case "c3":
			fmt.Fprint(w, `{"data":[],"paging":{}}`)
		default:
			t.Errorf("unexpected cursor %q", q.Get("after"))
		}
	})
	pages, err := f.client().Accounts(context.Background(), testToken)
	if err != nil {
		t.Fatal(err)
	}
	want := []Page{
		{ID: "p1", Name: "Page One", AccessToken: "PT1", Tasks: []string{"MANAGE", "MESSAGING"}, PictureURL: "https://cdn/p1.jpg",
			Instagram: &IGAccount{ID: "ig1", Username: "one", Name: "One IG", ProfilePictureURL: "https://cdn/ig1.jpg"}},
		{ID: "p2", Name: "Page Two", AccessToken: "PT2", Tasks: []string{"ANALYZE"}},
		{ID: "p3", Name: "Page Three", AccessToken: "PT3"},
	}
	if !reflect.DeepEqual(pages, want) {
		t.Fatalf("pages =\n%+v\nwant\n%+v", pages, want)
	}
	if f.count() != 4 {
		t.Fatalf("requests = %d, want 4", f.count())
	}
	if !pages[0].CanMessage() || pages[1].CanMessage() {
		t.Fatal("CanMessage is wrong")
	}
}

func TestAccountsStopsOnRepeatedNext(t *testing.T) {
	f := newFakeGraph(t)
	f.handle("GET me/accounts", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"data":[{"id":"p1","name":"x","access_token":"t"}],"paging":{"next":%q}}`, f.srv.URL+prefix+"me/accounts?after=same")
	})
	pages, err := f.client().Accounts(context.Background(), testToken)
	if err != nil {
		t.Fatal(err)
	}
	if f.count() != 2 || len(pages) != 2 {
		t.Fatalf("loop guard: requests=%d pages=%d", f.count(), len(pages))
	}
}

func TestAccountsError(t *testing.T) {
	f := newFakeGraph(t)
	f.json("GET me/accounts", 400, `{"error":{"message":"Error validating access token: The user has not authorized application 1111.","type":"OAuthException","code":190,"error_subcode":458,"fbtrace_id":"X"}}`)
	_, err := f.client().Accounts(context.Background(), testToken)
	if c := Classify(err); c != (Classification{Class: ClassAuthBroken, Cause: CauseAppRemoved}) {
		t.Fatalf("classification = %v (%v)", c, err)
	}
}

func TestDebugToken(t *testing.T) {
	f := newFakeGraph(t)
	f.handle("GET debug_token", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("access_token") != testAppID+"|"+testAppSecret {
			t.Errorf("debug_token must use the app token, got %q", q.Get("access_token"))
		}
		switch q.Get("input_token") {
		case "good":
			io.WriteString(w, `{"data":{"app_id":"1111","type":"PAGE","application":"omnilink","data_access_expires_at":1790000000,
				"expires_at":0,"is_valid":true,"issued_at":1780000000,"profile_id":"p1",
				"scopes":["pages_messaging","pages_show_list"],
				"granular_scopes":[{"scope":"pages_messaging","target_ids":["p1","p2"]}],"user_id":"10001"}}`)
		case "bad":
			io.WriteString(w, `{"data":{"app_id":"1111","type":"USER","is_valid":false,"expires_at":1780000000,"scopes":[],
				"error":{"code":190,"message":"Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.","subcode":460},
				"user_id":"10001"}}`)
		case "expiring":
			io.WriteString(w, `{"data":{"type":"USER","is_valid":true,"expires_at":"1782000000","scopes":["pages_show_list"]}}`)
		case "nodata":
			io.WriteString(w, `{}`)
		}
	})
	c := f.client()
	ctx := context.Background()

	good, err := c.DebugToken(ctx, "good")
	if err != nil {
		t.Fatal(err)
	}
	if !good.IsValid || good.Type != "PAGE" || good.AppID != "1111" || good.ProfileID != "p1" || good.UserID != "10001" ||
		!good.ExpiresAt.IsZero() || !good.DataAccessExpiresAt.Equal(time.Unix(1790000000, 0)) ||
		!reflect.DeepEqual(good.Scopes, []string{"pages_messaging", "pages_show_list"}) ||
		!reflect.DeepEqual(good.GranularScopes, []GranularScope{{Scope: "pages_messaging", TargetIDs: []string{"p1", "p2"}}}) ||
		good.Error != nil {
		t.Fatalf("good = %+v", good)
	}
	if c := good.Classify(fixedNow); c.Class != ClassNone {
		t.Fatalf("valid token classified %v", c)
	}
	if m := good.MissingScopes("pages_messaging", "pages_manage_metadata"); !reflect.DeepEqual(m, []string{"pages_manage_metadata"}) {
		t.Fatalf("missing = %v", m)
	}

	bad, err := c.DebugToken(ctx, "bad")
	if err != nil {
		t.Fatal(err)
	}
	if bad.IsValid || bad.Error == nil || bad.Error.Code != 190 || bad.Error.Subcode != 460 {
		t.Fatalf("bad = %+v", bad)
	}
	if c := bad.Classify(fixedNow); c != (Classification{Class: ClassAuthBroken, Cause: CausePasswordChanged}) {
		t.Fatalf("bad classified %v", c)
	}

	exp, err := c.DebugToken(ctx, "expiring")
	if err != nil {
		t.Fatal(err)
	}
	if !exp.ExpiresAt.Equal(time.Unix(1782000000, 0)) {
		t.Fatalf("string expires_at not read: %v", exp.ExpiresAt)
	}
	if c := exp.Classify(time.Unix(1782000000, 0)); c != (Classification{Class: ClassAuthBroken, Cause: CauseExpired}) {
		t.Fatalf("expired classified %v", c)
	}
	if c := (TokenInfo{}).Classify(fixedNow); c != (Classification{Class: ClassAuthBroken, Cause: CauseInvalidToken}) {
		t.Fatalf("invalid without error classified %v", c)
	}

	if _, err := c.DebugToken(ctx, "nodata"); err == nil {
		t.Fatal("answer without data must fail")
	}
	if _, err := c.DebugToken(ctx, ""); err == nil {
		t.Fatal("empty input token must fail")
	}
	if _, err := New(Config{GraphURL: f.srv.URL}).DebugToken(ctx, "x"); err == nil {
		t.Fatal("debug_token without app credentials must fail")
	}
}

func TestSubscribeApp(t *testing.T) {
	f := newFakeGraph(t)
	f.json("POST p1/subscribed_apps", 200, `{"success":true}`)
	c := f.client()
	ctx := context.Background()
	fields := []string{"messages", "messaging_postbacks", "message_echoes"}
	if err := c.SubscribeApp(ctx, "p1", "PT1", fields); err != nil {
		t.Fatal(err)
	}
	r, _ := f.last()
	if q := r.URL.Query(); q.Get("subscribed_fields") != "messages,messaging_postbacks,message_echoes" || q.Get("access_token") != "PT1" {
		t.Fatalf("query = %v", q)
	}
	f.json("POST p1/subscribed_apps", 200, `{"success":false}`)
	if err := c.SubscribeApp(ctx, "p1", "PT1", fields); err == nil {
		t.Fatal("success:false must fail")
	}
	f.json("POST p1/subscribed_apps", 403, `{"error":{"message":"(#200) The user must be an administrator","type":"OAuthException","code":200}}`)
	if c := Classify(c.SubscribeApp(ctx, "p1", "PT1", fields)); c != (Classification{Class: ClassAuthBroken, Cause: CausePermissionRemoved}) {
		t.Fatalf("classified %v", c)
	}
	if err := c.SubscribeApp(ctx, "p1", "PT1", nil); err == nil {
		t.Fatal("no fields must fail")
	}
	for _, id := range []string{"", ".", ".."} {
		if err := c.SubscribeApp(ctx, id, "PT1", fields); err == nil {
			t.Fatalf("id %q must fail", id)
		}
	}
}

func TestSubscribedApps(t *testing.T) {
	f := newFakeGraph(t)
	f.json("GET p1/subscribed_apps", 200, `{"data":[{"id":"1111","name":"omnilink","link":"https://omni","category":"Business","subscribed_fields":["messages","messaging_postbacks"]}]}`)
	f.json("GET p2/subscribed_apps", 200, `{"data":[]}`)
	c := f.client()
	apps, err := c.SubscribedApps(context.Background(), "p1", "PT1")
	if err != nil {
		t.Fatal(err)
	}
	want := []SubscribedApp{{ID: "1111", Name: "omnilink", Link: "https://omni", Category: "Business", SubscribedFields: []string{"messages", "messaging_postbacks"}}}
	if !reflect.DeepEqual(apps, want) {
		t.Fatalf("apps = %+v", apps)
	}
	apps, err = c.SubscribedApps(context.Background(), "p2", "PT2")
	if err != nil || len(apps) != 0 {
		t.Fatalf("empty = %+v %v", apps, err)
	}
	// Ids are path-escaped so one cannot reach another endpoint.
	_, err = c.SubscribedApps(context.Background(), "p1/subscribed_apps?x=", "PT1")
	var ge *GraphError
	if !errors.As(err, &ge) || ge.HTTPStatus != 404 {
		t.Fatalf("escaped id reached a route: %v", err)
	}
}

func TestLivenessReads(t *testing.T) {
	f := newFakeGraph(t)
	f.json("GET p1", 200, `{"id":"p1","name":"Page One"}`)
	f.json("GET ig1", 200, `{"id":"ig1","username":"one","name":"One","profile_picture_url":"https://cdn/x"}`)
	f.json("GET 106540352242922", 200, `{"id":"106540352242922","display_phone_number":"+1 555-078-3881","verified_name":"Omni Shop",
		"quality_rating":"GREEN","code_verification_status":"VERIFIED","name_status":"APPROVED","status":"CONNECTED","platform_type":"CLOUD_API",
		"throughput":{"level":"STANDARD"}}`)
	c := f.client()
	ctx := context.Background()

	p, err := c.PageInfo(ctx, "p1", "PT1")
	if err != nil || p != (PageInfo{ID: "p1", Name: "Page One"}) {
		t.Fatalf("PageInfo = %+v %v", p, err)
	}
	if r, _ := f.last(); r.URL.Query().Get("fields") != "id,name" {
		t.Fatalf("fields = %q", r.URL.Query().Get("fields"))
	}
	ig, err := c.InstagramInfo(ctx, "ig1", "PT1")
	if err != nil || ig != (IGAccount{ID: "ig1", Username: "one", Name: "One", ProfilePictureURL: "https://cdn/x"}) {
		t.Fatalf("InstagramInfo = %+v %v", ig, err)
	}
	pn, err := c.PhoneNumber(ctx, "106540352242922", "WATOKEN")
	if err != nil {
		t.Fatal(err)
	}
	want := PhoneNumber{ID: "106540352242922", DisplayPhoneNumber: "+1 555-078-3881", VerifiedName: "Omni Shop", QualityRating: "GREEN",
		CodeVerificationStatus: "VERIFIED", NameStatus: "APPROVED", Status: "CONNECTED", PlatformType: "CLOUD_API", ThroughputLevel: "STANDARD"}
	if pn != want {
		t.Fatalf("PhoneNumber = %+v", pn)
	}
	r, _ := f.last()
	if r.Header.Get("Authorization") != "Bearer WATOKEN" || r.URL.Query().Has("access_token") {
		t.Fatalf("WhatsApp calls use a bearer header: auth=%q query=%v", r.Header.Get("Authorization"), r.URL.Query())
	}
	if r.URL.Query().Get("fields") != phoneNumberFields {
		t.Fatalf("fields = %q", r.URL.Query().Get("fields"))
	}
	if _, err := c.PageInfo(ctx, "", "PT1"); err == nil {
		t.Fatal("empty id must fail")
	}
	if _, err := c.PhoneNumber(ctx, "missing", "WATOKEN"); Classify(err).Class != ClassOther {
		t.Fatalf("unknown path classified %v", Classify(err))
	}
}

func TestSendMessage(t *testing.T) {
	f := newFakeGraph(t)
	f.json("POST p1/messages", 200, `{"recipient_id":"psid1","message_id":"m_sent"}`)
	c := f.client()
	ctx := context.Background()

	res, err := c.SendMessage(ctx, "p1", "PT1", "psid1", MessagingResponse, TextMessage("hi"))
	if err != nil || res != (SendResult{RecipientID: "psid1", MessageID: "m_sent"}) {
		t.Fatalf("send = %+v %v", res, err)
	}
	r, body := f.last()
	if r.Header.Get("Content-Type") != "application/json" || r.URL.Query().Get("access_token") != "PT1" {
		t.Fatalf("headers/query wrong: %v %v", r.Header, r.URL.Query())
	}
	assertJSON(t, body, `{"recipient":{"id":"psid1"},"messaging_type":"RESPONSE","message":{"text":"hi"}}`)

	card := GenericTemplateMessage(Element{Title: "Link your LINE", Subtitle: "Tap below", ImageURL: "https://img/x.png",
		DefaultAction: &DefaultAction{Type: "web_url", URL: "https://omni/l/t"},
		Buttons:       []Button{URLButton("Open", "https://omni/l/t"), PostbackButton("Later", "LATER")}})
	if _, err := c.SendMessage(ctx, "p1", "PT1", "psid1", MessagingUpdate, card); err != nil {
		t.Fatal(err)
	}
	_, body = f.last()
	assertJSON(t, body, `{"recipient":{"id":"psid1"},"messaging_type":"UPDATE","message":{"attachment":{"type":"template","payload":{
		"template_type":"generic","elements":[{"title":"Link your LINE","subtitle":"Tap below","image_url":"https://img/x.png",
		"default_action":{"type":"web_url","url":"https://omni/l/t"},
		"buttons":[{"type":"web_url","title":"Open","url":"https://omni/l/t"},{"type":"postback","title":"Later","payload":"LATER"}]}]}}}}`)

	if _, err := c.SendTaggedMessage(ctx, "p1", "PT1", "psid1", TagHumanAgent, ButtonTemplateMessage("Choose", URLButton("Go", "https://x"))); err != nil {
		t.Fatal(err)
	}
	_, body = f.last()
	assertJSON(t, body, `{"recipient":{"id":"psid1"},"messaging_type":"MESSAGE_TAG","tag":"HUMAN_AGENT","message":{"attachment":{"type":"template",
		"payload":{"template_type":"button","text":"Choose","buttons":[{"type":"web_url","title":"Go","url":"https://x"}]}}}}`)

	// A raw map is accepted too, and an empty messaging type defaults to RESPONSE.
	if _, err := c.SendMessage(ctx, "p1", "PT1", "psid1", "", map[string]any{"text": "raw"}); err != nil {
		t.Fatal(err)
	}
	_, body = f.last()
	assertJSON(t, body, `{"recipient":{"id":"psid1"},"messaging_type":"RESPONSE","message":{"text":"raw"}}`)

	for name, fn := range map[string]func() error{
		"no recipient": func() error {
			_, e := c.SendMessage(ctx, "p1", "PT1", "", MessagingResponse, TextMessage("x"))
			return e
		},
		"nil message": func() error { _, e := c.SendMessage(ctx, "p1", "PT1", "u", MessagingResponse, nil); return e },
		"no page": func() error {
			_, e := c.SendMessage(ctx, "", "PT1", "u", MessagingResponse, TextMessage("x"))
			return e
		},
		"empty tag":   func() error { _, e := c.SendTaggedMessage(ctx, "p1", "PT1", "u", "", TextMessage("x")); return e },
		"unencodable": func() error { _, e := c.SendMessage(ctx, "p1", "PT1", "u", MessagingResponse, func() {}); return e },
	} {
		if fn() == nil {
			t.Errorf("%s: want error", name)
		}
	}
}

func TestSendMessageErrors(t *testing.T) {
	f := newFakeGraph(t)
	c := f.client()
	cases := []struct {
		body string
		want Classification
	}{
		{`{"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278,"fbtrace_id":"A"}}`, Classification{Class: ClassMessagingWindow}},
		{`{"error":{"message":"(#551) This person isn't available right now.","type":"OAuthException","code":551,"error_subcode":1545041}}`, Classification{Class: ClassRecipientUnavailable}},
		{`{"error":{"message":"(#613) Calls to this api have exceeded the rate limit.","type":"OAuthException","code":613}}`, Classification{Class: ClassTransient, Cause: CauseRateLimited}},
	}
	for _, tc := range cases {
		f.json("POST p1/messages", 400, tc.body)
		_, err := c.SendMessage(context.Background(), "p1", "PT1", "psid1", MessagingResponse, TextMessage("x"))
		if got := Classify(err); got != tc.want {
			t.Errorf("%s: classified %v, want %v", tc.body, got, tc.want)
		}
	}
}

func TestSendWhatsApp(t *testing.T) {
	f := newFakeGraph(t)
	f.json("POST 106540352242922/messages", 200, `{"messaging_product":"whatsapp","contacts":[{"input":"16505551234","wa_id":"16505551234"}],"messages":[{"id":"wamid.OK"}]}`)
	c := f.client()
	ctx := context.Background()
	res, err := c.SendWhatsApp(ctx, "106540352242922", "WATOKEN", "16505551234", WhatsAppTextMessage("hello", false))
	if err != nil || res != (WhatsAppSendResult{WAID: "16505551234", MessageID: "wamid.OK"}) {
		t.Fatalf("send = %+v %v", res, err)
	}
	r, body := f.last()
	if r.Header.Get("Authorization") != "Bearer WATOKEN" {
		t.Fatalf("auth = %q", r.Header.Get("Authorization"))
	}
	assertJSON(t, body, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"text","text":{"body":"hello","preview_url":false}}`)

	cta := WhatsAppCTAURLMessage("Tap to link your LINE account", "Open LINE", "https://omni/l/tok")
	cta.Interactive.Header = &WhatsAppHeader{Type: "text", Text: "OmniLink"}
	cta.Interactive.Footer = &WhatsAppBodyText{Text: "omnilink"}
	if _, err := c.SendWhatsApp(ctx, "106540352242922", "WATOKEN", "16505551234", cta); err != nil {
		t.Fatal(err)
	}
	_, body = f.last()
	assertJSON(t, body, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"interactive",
		"interactive":{"type":"cta_url","header":{"type":"text","text":"OmniLink"},"body":{"text":"Tap to link your LINE account"},
		"footer":{"text":"omnilink"},"action":{"name":"cta_url","parameters":{"display_text":"Open LINE","url":"https://omni/l/tok"}}}}`)

	if _, err := c.SendWhatsApp(ctx, "106540352242922", "WATOKEN", "1", WhatsAppMessage{Type: "text"}); err == nil {
		t.Fatal("text without content must fail")
	}
	if _, err := c.SendWhatsApp(ctx, "106540352242922", "WATOKEN", "", WhatsAppTextMessage("x", false)); err == nil {
		t.Fatal("empty recipient must fail")
	}
	f.json("POST 106540352242922/messages", 200, `{"messaging_product":"whatsapp","messages":[]}`)
	if _, err := c.SendWhatsApp(ctx, "106540352242922", "WATOKEN", "1", WhatsAppTextMessage("x", false)); err == nil {
		t.Fatal("answer without message id must fail")
	}
	f.json("POST 106540352242922/messages", 400, `{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,
		"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more than 24 hours have passed"},"fbtrace_id":"Z"}}`)
	_, err = c.SendWhatsApp(ctx, "106540352242922", "WATOKEN", "1", WhatsAppTextMessage("x", false))
	if Classify(err).Class != ClassMessagingWindow {
		t.Fatalf("131047 classified %v", Classify(err))
	}
}

func assertJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("body =\n%s\nwant\n%s", got, want)
	}
}

func TestErrorParsing(t *testing.T) {
	f := newFakeGraph(t)
	c := f.client()
	cases := []struct {
		name   string
		status int
		body   string
		want   GraphError
	}{
		{"full", 400, `{"error":{"message":"Message describing the error","type":"OAuthException","code":190,"error_subcode":460,
			"error_user_title":"A title","error_user_msg":"A message","fbtrace_id":"EJplcsCHuLu","is_transient":false}}`,
			GraphError{HTTPStatus: 400, Code: 190, Subcode: 460, Type: "OAuthException", Message: "Message describing the error",
				UserTitle: "A title", UserMsg: "A message", FBTraceID: "EJplcsCHuLu"}},
		{"error on 200", 200, `{"error":{"message":"boom","code":2,"is_transient":true}}`,
			GraphError{HTTPStatus: 200, Code: 2, Message: "boom", IsTransient: true}},
		{"numeric strings", 400, `{"error":{"message":"x","code":"190","error_subcode":"463"}}`,
			GraphError{HTTPStatus: 400, Code: 190, Subcode: 463, Message: "x"}},
		{"string error", 400, `{"error":"invalid_request"}`, GraphError{HTTPStatus: 400, Message: "invalid_request"}},
		{"html 502", 502, `<html>Bad gateway</html>`, GraphError{HTTPStatus: 502, Message: "unexpected answer: Bad Gateway", IsTransient: true}},
		{"empty 404", 404, ``, GraphError{HTTPStatus: 404, Message: "unexpected answer: Not Found"}},
		{"wrong types", 400, `{"error":{"message":123,"code":{"a":1}}}`, GraphError{HTTPStatus: 400, Message: "unexpected answer: Bad Request"}},
		{"huge code", 400, `{"error":{"message":"m","code":1e300}}`, GraphError{HTTPStatus: 400, Message: "m"}},
		{"token echoed", 400, `{"error":{"message":"Malformed access token EAAtesttokenEAAtesttokenEAAtesttoken1234 and EAAZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ","code":190}}`,
			GraphError{HTTPStatus: 400, Code: 190, Message: "Malformed access token [redacted] and [redacted]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.json("GET me", tc.status, tc.body)
			_, err := c.Me(context.Background(), testToken)
			var ge *GraphError
			if !errors.As(err, &ge) {
				t.Fatalf("want *GraphError, got %T %v", err, err)
			}
			if *ge != tc.want {
				t.Fatalf("got  %+v\nwant %+v", *ge, tc.want)
			}
			assertNoSecrets(t, err)
		})
	}
	if s := (&GraphError{HTTPStatus: 400, Code: 190, Subcode: 460, Type: "OAuthException", Message: "m", FBTraceID: "T"}).Error(); s != "meta: graph error 190/460 (OAuthException): m [http 400] [fbtrace_id T]" {
		t.Fatalf("Error() = %q", s)
	}
}

func TestClassifyTable(t *testing.T) {
	ac := func(c Cause) Classification { return Classification{Class: ClassAuthBroken, Cause: c} }
	tr := func(c Cause) Classification { return Classification{Class: ClassTransient, Cause: c} }
	cases := []struct {
		e    GraphError
		want Classification
	}{
		{GraphError{Code: 190, Subcode: 460}, ac(CausePasswordChanged)},
		{GraphError{Code: 190, Subcode: 459}, ac(CauseCheckpoint)},
		{GraphError{Code: 190, Subcode: 464}, ac(CauseCheckpoint)},
		{GraphError{Code: 190, Subcode: 463}, ac(CauseExpired)},
		{GraphError{Code: 190, Message: "Error validating access token: Session has expired on Tuesday"}, ac(CauseExpired)},
		{GraphError{Code: 190, Subcode: 999, Message: "expired"}, ac(CauseInvalidToken)},
		{GraphError{Code: 190, Subcode: 458}, ac(CauseAppRemoved)},
		{GraphError{Code: 190, Subcode: 467}, ac(CauseLoggedOut)},
		{GraphError{Code: 190, Subcode: 492}, ac(CausePermissionRemoved)},
		{GraphError{Code: 190, Message: "Invalid OAuth access token."}, ac(CauseInvalidToken)},
		{GraphError{Code: 102}, ac(CauseInvalidToken)},
		{GraphError{Code: 10}, ac(CausePermissionRemoved)},
		{GraphError{Code: 200}, ac(CausePermissionRemoved)},
		{GraphError{Code: 250}, ac(CausePermissionRemoved)},
		{GraphError{Code: 230, Message: "User consent is required to access user profile"}, Classification{Class: ClassRecipientUnavailable}}, // the person never wrote
		{GraphError{Code: 230, Message: "Requires pages_messaging permission to manage the object"}, ac(CausePermissionRemoved)},
		{GraphError{Code: 299}, ac(CausePermissionRemoved)},
		{GraphError{Code: 300}, Classification{Class: ClassOther}},
		{GraphError{Code: 100, Subcode: 33}, ac(CauseAccountGone)},
		{GraphError{Code: 803}, ac(CauseAccountGone)},
		{GraphError{Code: 100}, Classification{Class: ClassOther}},
		{GraphError{Code: 10, Subcode: 2018278}, Classification{Class: ClassMessagingWindow}},
		{GraphError{Code: 10, Subcode: 2534022}, Classification{Class: ClassMessagingWindow}},
		{GraphError{Code: 10, Subcode: 2018065}, Classification{Class: ClassMessagingWindow}},
		{GraphError{Code: 131047}, Classification{Class: ClassMessagingWindow}},
		{GraphError{Code: 551, Subcode: 1545041}, Classification{Class: ClassRecipientUnavailable}},
		{GraphError{Code: 200, Subcode: 1545041}, Classification{Class: ClassRecipientUnavailable}},
		{GraphError{Code: 10, Subcode: 2018108}, Classification{Class: ClassRecipientUnavailable}},
		{GraphError{Code: 4}, tr(CauseRateLimited)},
		{GraphError{Code: 17}, tr(CauseRateLimited)},
		{GraphError{Code: 32}, tr(CauseRateLimited)},
		{GraphError{Code: 613}, tr(CauseRateLimited)},
		{GraphError{Code: 80001}, tr(CauseRateLimited)},
		{GraphError{Code: 80006}, tr(CauseRateLimited)},
		{GraphError{Code: 80009}, tr(CauseRateLimited)},
		{GraphError{Code: 80010}, Classification{Class: ClassOther}},
		{GraphError{Code: 1}, tr(CauseServerError)},
		{GraphError{Code: 2}, tr(CauseServerError)},
		{GraphError{Code: 368}, Classification{Class: ClassOther}},
		{GraphError{Code: 9999, IsTransient: true}, tr(CauseServerError)},
		{GraphError{HTTPStatus: 503}, tr(CauseServerError)},
		{GraphError{HTTPStatus: 429}, tr(CauseRateLimited)},
		{GraphError{HTTPStatus: 400}, Classification{Class: ClassOther}},
	}
	for _, tc := range cases {
		e := tc.e
		if got := Classify(&e); got != tc.want {
			t.Errorf("%d/%d %q: got %v, want %v", e.Code, e.Subcode, e.Message, got, tc.want)
		}
		// Wrapping must not change the answer.
		if got := Classify(fmt.Errorf("sending: %w", &e)); got != tc.want {
			t.Errorf("wrapped %d/%d: got %v", e.Code, e.Subcode, got)
		}
	}
	if Classify(nil).Class != ClassNone || Classify(errors.New("x")).Class != ClassOther {
		t.Fatal("nil / plain errors misclassified")
	}
	if Classify(context.DeadlineExceeded) != tr(CauseNetwork) || Classify(io.ErrUnexpectedEOF) != tr(CauseNetwork) {
		t.Fatal("context / EOF errors must be transient")
	}
	if s := ac(CausePasswordChanged).String(); s != "auth_broken/password_changed" {
		t.Fatalf("String = %q", s)
	}
	if s := (Classification{Class: ClassOther}).String(); s != "other" {
		t.Fatalf("String = %q", s)
	}
	if Class(99).String() != "class(99)" || Cause(99).String() != "cause(99)" {
		t.Fatal("unknown enum String")
	}
}

func TestTransportErrors(t *testing.T) {
	// A server that is gone: connection refused, and the token must not appear.
	f := newFakeGraph(t)
	c := f.client()
	f.srv.Close()
	_, err := c.Me(context.Background(), testToken)
	if err == nil {
		t.Fatal("want error")
	}
	assertNoSecrets(t, err)
	if strings.Contains(err.Error(), "appsecret_proof") || strings.Contains(err.Error(), "?") {
		t.Fatalf("query string leaked into error: %v", err)
	}
	if got := Classify(err); got != (Classification{Class: ClassTransient, Cause: CauseNetwork}) {
		t.Fatalf("refused classified %v", got)
	}

	// A slow server and a client timeout.
	slow := newFakeGraph(t)
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	slow.handle("GET me", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})
	sc := slow.client(func(cfg *Config) { cfg.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond} })
	_, err = sc.Me(context.Background(), testToken)
	if got := Classify(err); got != (Classification{Class: ClassTransient, Cause: CauseNetwork}) {
		t.Fatalf("timeout classified %v (%v)", got, err)
	}
	assertNoSecrets(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err = slow.client().Me(ctx, testToken)
	if !errors.Is(err, context.DeadlineExceeded) || Classify(err).Class != ClassTransient {
		t.Fatalf("context deadline: %v", err)
	}
}

func TestUsageParsing(t *testing.T) {
	cases := []struct {
		name string
		app  string
		buc  string
		want Usage
		ok   bool
	}{
		{name: "none"},
		{name: "app", app: `{"call_count":28,"total_time":25,"total_cputime":30}`, want: Usage{MaxPercent: 30}, ok: true},
		{name: "buc", buc: `{"112233":[{"type":"pages","call_count":95,"total_cputime":10,"total_time":20,"estimated_time_to_regain_access":0}],
			"445566":[{"type":"instagram","call_count":100,"total_cputime":100,"total_time":100,"estimated_time_to_regain_access":7}]}`,
			want: Usage{MaxPercent: 100, RegainAfter: 7 * time.Minute, BusinessID: "445566"}, ok: true},
		{name: "both, app higher", app: `{"call_count":99}`, buc: `{"1":[{"call_count":"50"}]}`, want: Usage{MaxPercent: 99}, ok: true},
		{name: "single object", buc: `{"9":{"call_count":12}}`, want: Usage{MaxPercent: 12, BusinessID: "9"}, ok: true},
		{name: "garbage", app: `not json`, buc: `[1,2]`},
		{name: "odd values", app: `{"call_count":-5,"total_time":"abc","total_cputime":1e30}`, ok: true},
		{name: "huge regain", buc: `{"1":[{"call_count":1,"estimated_time_to_regain_access":999999999999}]}`,
			want: Usage{MaxPercent: 1, RegainAfter: 24 * time.Hour, BusinessID: "1"}, ok: true},
		{name: "huge percent", app: `{"call_count":99999999999}`, want: Usage{MaxPercent: 1 << 20}, ok: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.app != "" {
				h.Set("X-App-Usage", tc.app)
			}
			if tc.buc != "" {
				h.Set("X-Business-Use-Case-Usage", tc.buc)
			}
			got, ok := ParseUsage(h)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("got %+v %v, want %+v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestOnUsageCallback(t *testing.T) {
	f := newFakeGraph(t)
	f.handle("GET me", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Business-Use-Case-Usage", `{"p1":[{"type":"pages","call_count":88,"total_cputime":5,"total_time":5,"estimated_time_to_regain_access":0}]}`)
		w.WriteHeader(400)
		io.WriteString(w, `{"error":{"message":"x","code":32}}`)
	})
	f.json("GET p1", 200, `{"id":"p1"}`)
	var got []Usage
	var mu sync.Mutex
	c := f.client(func(cfg *Config) {
		cfg.OnUsage = func(u Usage) { mu.Lock(); got = append(got, u); mu.Unlock() }
	})
	_, err := c.Me(context.Background(), testToken)
	if Classify(err) != (Classification{Class: ClassTransient, Cause: CauseRateLimited}) {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.PageInfo(context.Background(), "p1", "t"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != (Usage{MaxPercent: 88, BusinessID: "p1"}) {
		t.Fatalf("callback got %+v; want exactly one call, also on error answers and none without headers", got)
	}
}

func TestMessageValidate(t *testing.T) {
	long := strings.Repeat("字", 81)
	ok := []Message{
		TextMessage("hi"),
		ImageMessage("https://x/y.png"),
		GenericTemplateMessage(Element{Title: "t", Subtitle: "s"}),
		GenericTemplateMessage(Element{Title: strings.Repeat("字", 80), Buttons: []Button{URLButton("a", "https://x")}}),
		ButtonTemplateMessage("pick", PostbackButton("A", "a"), PostbackButton("B", "b"), URLButton("C", "https://c")),
		{Attachment: &Attachment{Type: "template", Payload: &TemplatePayload{TemplateType: "generic", Elements: []Element{{Title: "t", ImageURL: "https://i"}}}}},
	}
	for i, m := range ok {
		if err := m.Validate(); err != nil {
			t.Errorf("ok[%d]: %v", i, err)
		}
	}
	elems := make([]Element, 11)
	for i := range elems {
		elems[i] = Element{Title: "t", Subtitle: "s"}
	}
	bad := map[string]Message{
		"empty":            {},
		"both":             {Text: "x", Attachment: &Attachment{Type: "image"}},
		"long text":        TextMessage(strings.Repeat("a", 2001)),
		"no elements":      GenericTemplateMessage(),
		"11 elements":      GenericTemplateMessage(elems...),
		"no title":         GenericTemplateMessage(Element{Subtitle: "s"}),
		"long title":       GenericTemplateMessage(Element{Title: long, Subtitle: "s"}),
		"long subtitle":    GenericTemplateMessage(Element{Title: "t", Subtitle: long}),
		"title only":       GenericTemplateMessage(Element{Title: "t"}),
		"4 buttons":        ButtonTemplateMessage("x", PostbackButton("a", "a"), PostbackButton("b", "b"), PostbackButton("c", "c"), PostbackButton("d", "d")),
		"no buttons":       ButtonTemplateMessage("x"),
		"no button text":   ButtonTemplateMessage("", PostbackButton("a", "a")),
		"url without url":  ButtonTemplateMessage("x", URLButton("a", "")),
		"pb without data":  ButtonTemplateMessage("x", PostbackButton("a", "")),
		"bad button type":  ButtonTemplateMessage("x", Button{Type: "call", Title: "a"}),
		"long button":      ButtonTemplateMessage("x", PostbackButton(strings.Repeat("b", 21), "a")),
		"unknown template": {Attachment: &Attachment{Type: "template", Payload: TemplatePayload{TemplateType: "media"}}},
		"nil payload":      {Attachment: &Attachment{Type: "template", Payload: (*TemplatePayload)(nil)}},
	}
	for name, m := range bad {
		if err := m.Validate(); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
}

func TestSecretsStayOutOfLogs(t *testing.T) {
	var buf strings.Builder
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	tok := Token{AccessToken: testToken, ExpiresAt: fixedNow}
	page := Page{ID: "p1", Name: "Page One", AccessToken: "PAGE-TOKEN-VALUE"}
	log.Info("connected", "token", tok, "page", page)
	fmt.Fprintf(&buf, " %v %s", tok, Token{AccessToken: testToken})
	out := buf.String()
	if strings.Contains(out, testToken) || strings.Contains(out, "PAGE-TOKEN-VALUE") {
		t.Fatalf("secret in log output: %s", out)
	}
	if !strings.Contains(out, `"id":"p1"`) || !strings.Contains(out, "never expires") {
		t.Fatalf("log lost the useful parts: %s", out)
	}
}

// An Instagram user without a name is known by the username; Meta's consent refusal is an
// error of its own class, not a broken authorisation.
func TestUserProfiles(t *testing.T) {
	f := newFakeGraph(t)
	f.json("GET 1784201", 200, `{"id":"1784201","name":null,"username":"mei.bakes","profile_pic":"https:\/\/cdn.test\/p.jpg"}`)
	f.json("GET 2500001", 200, `{"id":"2500001","first_name":"Mei","last_name":"Lin","profile_pic":null}`)
	f.json("GET 1784299", 400, `{"error":{"message":"User consent is required to access user profile","type":"OAuthException","code":230}}`)
	c := f.client()
	p, err := c.InstagramUserProfile(context.Background(), testToken, "1784201")
	if err != nil || p.Name != "mei.bakes" || p.PictureURL != "https://cdn.test/p.jpg" {
		t.Fatalf("instagram profile %+v %v", p, err)
	}
	if r, _ := f.last(); r.URL.Query().Get("fields") != "name,username,profile_pic" {
		t.Errorf("instagram fields %q", r.URL.Query().Get("fields"))
	}
	p, err = c.MessengerUserProfile(context.Background(), testToken, "2500001")
	if err != nil || p.Name != "Mei Lin" || p.PictureURL != "" {
		t.Fatalf("messenger profile %+v %v", p, err)
	}
	_, err = c.InstagramUserProfile(context.Background(), testToken, "1784299")
	if cl := Classify(err); err == nil || cl.Class == ClassAuthBroken || cl.Class == ClassTransient {
		t.Fatalf("consent refusal %v classified %+v", err, cl)
	}
	assertNoSecrets(t, err)
}
