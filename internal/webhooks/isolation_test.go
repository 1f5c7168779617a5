package webhooks_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/webhooks"
	"github.com/omnilink/omnilink/models"
)

// messengerBatch is one Messenger delivery carrying a text message per entry of texts, each from
// its own sender, with mids m_<tag>_<i>. Texts are JSON string contents (escapes allowed).
func messengerBatch(tag string, texts ...string) []byte {
	var items []string
	for i, txt := range texts {
		items = append(items, fmt.Sprintf(`{"sender":{"id":"69000000000000%02d"},"recipient":{"id":"%s"},"timestamp":1458692752478,"message":{"mid":"m_%s_%d","text":"%s"}}`,
			i, pageID, tag, i, txt))
	}
	return fmt.Appendf(nil, `{"object":"page","entry":[{"id":"%s","time":1458692752478,"messaging":[%s]}]}`, pageID, strings.Join(items, ","))
}

// A text with \u0000 is stored without the NUL (Postgres text cannot hold it), together with its
// neighbours, on the first try.
func TestNULInTextIsStoredWithoutIt(t *testing.T) {
	e := newIdleEnv(t)
	team := e.a.Team("A")
	ch := e.a.Channel(team.ID, models.Facebook, pageID, models.Credentials{})
	e.postMeta(messengerBatch("nul", `before\u0000after`, `plain`))
	p := e.processor(webhooks.ProcessorOptions{})
	if n, err := p.Drain(context.Background()); err != nil || n != 1 {
		t.Fatalf("drain: %d, %v", n, err)
	}
	e.noErrors()
	var body string
	e.scan(`SELECT body FROM messages WHERE channel_id = $1 AND platform_message_id = 'm_nul_0'`, []any{ch.ID}, &body)
	if body != "beforeafter" {
		t.Errorf("stored text = %q, want the text without its NUL", body)
	}
	if n := e.count(`SELECT count(*) FROM messages WHERE channel_id = $1`, ch.ID); n != 2 {
		t.Errorf("messages = %d, want 2", n)
	}
}

// An event the database refuses costs only itself: the other events of its delivery (and of
// the other deliveries in the batch) are stored at once, the delivery is retried with that
// event's own error, and once the cause is gone the retry stores the missing event only.
func TestABadEventDoesNotLoseItsNeighbours(t *testing.T) {
	e := newIdleEnv(t)
	team := e.a.Team("A")
	ch := e.a.Channel(team.ID, models.Facebook, pageID, models.Credentials{})
	// A fault in the real database: any message whose text is "poison" is refused.
	e.exec(`CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.body = 'poison' THEN RAISE EXCEPTION 'refused poison message %', NEW.platform_message_id; END IF; RETURN NEW; END $$`)
	e.exec(`CREATE TRIGGER refuse_poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_poison()`)
	e.postMeta(messengerBatch("a", "first", "poison", "third"))
	e.postMeta(messengerBatch("b", "other delivery"))

	now := time.Now()
	p := e.processor(webhooks.ProcessorOptions{Backoff: func(int) time.Duration { return time.Minute }, Now: func() time.Time { return now }})
	if n, err := p.RunOnce(context.Background()); err != nil || n != 2 {
		t.Fatalf("first pass: %d, %v", n, err)
	}
	mids := func() string {
		rows, err := e.db.Query(context.Background(), `SELECT platform_message_id FROM messages WHERE channel_id = $1 ORDER BY 1`, ch.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			_ = rows.Scan(&s)
			out = append(out, s)
		}
		return strings.Join(out, " ")
	}
	if got := mids(); got != "m_a_0 m_a_2 m_b_0" {
		t.Fatalf("messages after the first pass: %q, want the three good ones", got)
	}
	if n := e.count(`SELECT count(*) FROM contacts WHERE channel_id = $1 AND external_user_id = '6900000000000001'`, ch.ID); n != 0 {
		t.Errorf("the refused event left its contact behind")
	}
	var msg string
	var pending bool
	e.scan(`SELECT error, processed_at IS NULL FROM webhook_events WHERE encode(body, 'escape') LIKE '%m_a_1%'`, nil, &msg, &pending)
	if !pending || !strings.Contains(msg, "event 2") || !strings.Contains(msg, "refused poison message m_a_1") || strings.Contains(msg, "event 1") {
		t.Errorf("failed delivery: pending %v, error %q (want event 2's own error only)", pending, msg)
	}
	if n := e.count(`SELECT count(*) FROM webhook_events WHERE processed_at IS NOT NULL AND error = ''`); n != 1 {
		t.Errorf("the other delivery was not finished (%d)", n)
	}

	e.exec(`DROP TRIGGER refuse_poison ON messages`)
	now = now.Add(2 * time.Minute)
	if n, err := p.Drain(context.Background()); err != nil || n != 1 {
		t.Fatalf("retry: %d, %v", n, err)
	}
	e.noErrors()
	if got := mids(); got != "m_a_0 m_a_1 m_a_2 m_b_0" {
		t.Errorf("messages after the retry: %q", got)
	}
}

// A LINE channel's secret is opened once, not on every delivery, and a rotated secret works at
// once: a signature the cached secret refuses is checked against the stored one.
func TestLINESecretIsCachedAndRotationIsPickedUp(t *testing.T) {
	e := newIdleEnv(t)
	team := e.a.Team("A")
	ch := e.a.Channel(team.ID, models.LINE, lineBot, models.Credentials{ChannelSecret: lineSec})
	body := fixture(t, "line/message-text.json")
	e.postLINE(ch, lineSec, body)
	// The sealed credentials no longer open: only a cached secret can verify the next delivery.
	e.exec(fmt.Sprintf(`UPDATE channels SET credentials = 'unreadable' WHERE id = %d`, ch.ID))
	e.postLINE(ch, lineSec, body)
	// Rotation: the channel gets a new secret; deliveries signed with it are accepted at once.
	const newSecret = "line-channel-secret-rotated"
	if err := channels.SealCredentials(e.a.Box, ch, models.Credentials{ChannelSecret: newSecret}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(context.Background(), `UPDATE channels SET credentials = $1 WHERE id = $2`, ch.Credentials, ch.ID); err != nil {
		t.Fatal(err)
	}
	e.postLINE(ch, newSecret, body)
	for _, secret := range []string{lineSec, "not-the-secret"} {
		if st := e.post(fmt.Sprintf("/webhooks/line/%d", ch.ID), body, "X-Line-Signature", line.Sign(secret, body)); st != 401 {
			t.Errorf("signed with %q after the rotation: %d, want 401", secret, st)
		}
	}
	if n := e.count(`SELECT count(*) FROM webhook_events WHERE channel_id = $1`, ch.ID); n != 3 {
		t.Errorf("stored LINE deliveries = %d, want 3", n)
	}
}
