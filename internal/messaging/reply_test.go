package messaging_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/messaging"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/models"
)

// lineCalls lists the reply and push calls LINE received.
func (e *env) lineCalls() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, c := range e.calls {
		if strings.HasSuffix(c.Path, "/message/reply") || strings.HasSuffix(c.Path, "/message/push") {
			out = append(out, c.Path[strings.LastIndex(c.Path, "/")+1:])
		}
	}
	return out
}

// lineReplyToken has the LINE user write to the account and returns the reply token of the
// webhook event LINE sent.
func (e *env) lineReplyToken(user string) string {
	e.t.Helper()
	body, _, err := e.world.SimulateInbound(sandbox.PlatformLINE, sandbox.LINEBotUserID, user, "綁定")
	if err != nil {
		e.t.Fatal(err)
	}
	var hook struct {
		Events []struct {
			ReplyToken string `json:"replyToken"`
		} `json:"events"`
	}
	if err := json.Unmarshal(body, &hook); err != nil || len(hook.Events) != 1 || hook.Events[0].ReplyToken == "" {
		e.t.Fatalf("no reply token in %s", body)
	}
	return hook.Events[0].ReplyToken
}

// A LINE send that carries a fresh reply token answers with it; a used token falls back to a
// push, and a token past its time is never tried.
func TestLINEReplyTokenUsedWhenFreshElsePush(t *testing.T) {
	e := newEnv(t)
	ln := e.channel(models.LINE, sandbox.LINEChannelID, "")
	token := e.lineReplyToken(sandbox.LINEUserXiaoming)
	ct := e.recordContact(ln, sandbox.LINEUserXiaoming, e.clock.Now(), models.FriendshipFriend)
	req := func(key string, before time.Time) messaging.SendRequest {
		return messaging.SendRequest{ContactID: ct.ID, Content: text("回覆 " + key), IdempotencyKey: key, Automated: true,
			LineReplyToken: token, ReplyBefore: before}
	}
	e.mustSend(req("r1", e.clock.Now().Add(30*time.Second)))
	e.drain()
	e.mustSend(req("r2", e.clock.Now().Add(30*time.Second))) // the token is used now
	e.drain()
	e.mustSend(req("r3", e.clock.Now().Add(-time.Second))) // too late to try
	e.drain()
	if got := strings.Join(e.lineCalls(), ","); got != "reply,reply,push,push" {
		t.Errorf("LINE calls %s, want reply, then a refused reply and its push, then a push", got)
	}
	out := e.outbound(sandbox.PlatformLINE, sandbox.LINEBotUserID, sandbox.LINEUserXiaoming)
	if len(out) != 3 || out[0].Text != "回覆 r1" || out[2].Text != "回覆 r3" {
		t.Fatalf("the customer got %+v", out)
	}
}

// A reply LINE accepted is recorded at once: when the send's outcome cannot be written, the retry
// finds it sent instead of pushing it again.
func TestLINEReplyAcceptedIsNotPushedAgain(t *testing.T) {
	e := newEnv(t)
	ln := e.channel(models.LINE, sandbox.LINEChannelID, "")
	token := e.lineReplyToken(sandbox.LINEUserXiaoming)
	ct := e.recordContact(ln, sandbox.LINEUserXiaoming, e.clock.Now(), models.FriendshipFriend)
	// The first write of a sent outcome fails (a sequence is not rolled back with it).
	if _, err := e.app.SQL().Exec(context.Background(), `CREATE SEQUENCE fail_once;
		CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF nextval('fail_once') = 1 THEN RAISE EXCEPTION 'connection lost'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER fail_once BEFORE UPDATE ON message_sends FOR EACH ROW WHEN (NEW.outcome = 'sent') EXECUTE FUNCTION fail_once()`); err != nil {
		t.Fatal(err)
	}
	res := e.mustSend(messaging.SendRequest{ContactID: ct.ID, Content: text("回覆"), IdempotencyKey: "r1", Automated: true,
		LineReplyToken: token, ReplyBefore: e.clock.Now().Add(30 * time.Second)})
	if st := e.drain(); st.Retrying != 1 {
		t.Fatalf("first attempt %+v, want retrying", st)
	}
	e.clock.Advance(time.Minute)
	e.drain()
	if got := strings.Join(e.lineCalls(), ","); got != "reply" {
		t.Errorf("LINE calls %s, want the one reply", got)
	}
	if n := len(e.outbound(sandbox.PlatformLINE, sandbox.LINEBotUserID, sandbox.LINEUserXiaoming)); n != 1 {
		t.Errorf("the customer got %d messages", n)
	}
	if got := e.record(res.SendID); got.Outcome != models.SendSent || len(e.sent(ct.ID)) != 1 {
		t.Fatalf("outcome %s with %d recorded", got.Outcome, len(e.sent(ct.ID)))
	}
}
