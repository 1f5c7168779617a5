package sandbox

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func TestPersistenceRoundTrip(t *testing.T) {
	e := newEnv(t)
	if e.store.count() == 0 {
		t.Fatal("the seeded world was not saved")
	}
	user := e.login("mei")
	pt := e.pageToken(user, BearBakeryPageID)
	kaiPT := e.pageToken(e.login("kai"), KaiCoffeePageID)
	psid := e.customer("xiaoming", PlatformFacebook, BearBakeryPageID)
	e.inbound(PlatformFacebook, BearBakeryPageID, psid, "hi")
	before := e.store.count()
	e.wantOK(e.graphJSON("/me/messages", pt, map[string]any{"recipient": map[string]string{"id": psid}, "message": map[string]string{"text": "hello"}}))
	if e.store.count() == before {
		t.Fatal("a send was not saved")
	}
	if err := e.w.BreakToken(Target{TargetPage, KaiCoffeePageID}, CausePasswordChanged); err != nil {
		t.Fatal(err)
	}
	if err := e.w.UnsubscribeApp(BearBakeryPageID); err != nil {
		t.Fatal(err)
	}

	// A second World from the same bytes: tokens, damage and conversations survive.
	w2, err := New(Options{AppID: "1234567890", AppSecret: "test-app-secret", Clock: e.clock.Now, Persist: e.store})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w2.APIHandler())
	defer srv.Close()
	e2 := &env{t: t, w: w2, srv: srv, clock: e.clock, store: e.store}
	e2.wantOK(e2.graph(http.MethodGet, "/me", url.Values{"access_token": {user}}))
	e2.wantOK(e2.graph(http.MethodGet, "/"+BearBakeryPageID, url.Values{"access_token": {pt}}))
	e2.wantGraphError(e2.graph(http.MethodGet, "/"+KaiCoffeePageID, url.Values{"access_token": {kaiPT}}), 400, 190, 460)
	if d := e2.debug(kaiPT); d["is_valid"] != false {
		t.Fatalf("broken token valid after reload: %v", d)
	}
	if conv := w2.Conversation(PlatformFacebook, BearBakeryPageID, psid); len(conv) != 2 || conv[1].Text != "hello" {
		t.Fatalf("conversation after reload %+v", conv)
	}
	e2.wantOK(e2.graphJSON("/me/messages", pt, map[string]any{"recipient": map[string]string{"id": psid}, "message": map[string]string{"text": "still open"}}))
	a1, a2 := e.line(), e2.line()
	if a1 != a2 {
		t.Fatal("LINE account changed across reload")
	}
	e2.wantOK(e2.lineCall(http.MethodGet, "/v2/bot/info", a2.AccessToken, nil, nil))

	s1, _ := e.w.Snapshot()
	if len(s1) == 0 {
		t.Fatal("empty snapshot")
	}
}

func TestFreshWorldsAreDeterministic(t *testing.T) {
	w1, _ := New(Options{})
	w2, _ := New(Options{})
	if w1.LINEAccounts()[0] != w2.LINEAccounts()[0] || w1.WhatsAppNumbers()[0] != w2.WhatsAppNumbers()[0] {
		t.Fatal("seeded secrets differ between fresh worlds")
	}
	if w1.AppID() != DefaultAppID || w1.AppAccessToken() != DefaultAppID+"|"+DefaultAppSecret {
		t.Fatalf("defaults %s", w1.AppAccessToken())
	}
}

type failingStore struct{ load, save error }

func (f failingStore) Load(context.Context) ([]byte, error) { return nil, f.load }
func (f failingStore) Save(context.Context, []byte) error   { return f.save }

func TestStoreErrors(t *testing.T) {
	boom := errors.New("disk full")
	if _, err := New(Options{Persist: failingStore{load: boom}}); !errors.Is(err, boom) {
		t.Fatalf("load error: %v", err)
	}
	if _, err := New(Options{Persist: failingStore{save: boom}}); !errors.Is(err, boom) {
		t.Fatalf("save error: %v", err)
	}
	if _, err := New(Options{Persist: &memStore{data: []byte(`{"version":99}`)}}); err == nil {
		t.Fatal("foreign state version accepted")
	}
}

func TestConcurrentUse(t *testing.T) {
	e := newEnv(t)
	pt := e.pageToken(e.login("mei"), BearBakeryPageID)
	psid := e.customer("xiaoming", PlatformFacebook, BearBakeryPageID)
	e.inbound(PlatformFacebook, BearBakeryPageID, psid, "hi")
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				_, _, _ = e.w.SimulateInbound(PlatformFacebook, BearBakeryPageID, psid, "again")
				return
			}
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graph/v25.0/me/messages?access_token="+url.QueryEscape(pt),
				strings.NewReader(`{"recipient":{"id":"`+psid+`"},"message":{"text":"x"}}`))
			req.Header.Set("Content-Type", "application/json")
			r, err := http.DefaultClient.Do(req)
			if err == nil {
				r.Body.Close()
			}
		}()
	}
	wg.Wait()
	if n := len(e.w.Conversation(PlatformFacebook, BearBakeryPageID, psid)); n != 21 {
		t.Fatalf("conversation has %d messages, want 21", n)
	}
}
