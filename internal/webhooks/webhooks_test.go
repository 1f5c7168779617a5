package webhooks_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/models"
)

func TestMessengerMessageCreatesContactCustomerAndMessage(t *testing.T) {
	e := newEnv(t)
	team := e.a.Team("A")
	ch := e.a.Channel(team.ID, models.Facebook, pageID, models.Credentials{AccessToken: "page-token"})
	e.postMeta(fixture(t, "meta/messenger-text.json"))
	e.settled()
	e.noErrors()

	var contactTeam int64
	var customer *int64
	var last *time.Time
	e.scan(`SELECT team_id, customer_id, last_inbound_at FROM contacts WHERE channel_id = $1 AND external_user_id = $2`,
		[]any{ch.ID, psid}, &contactTeam, &customer, &last)
	if contactTeam != team.ID {
		t.Errorf("contact team = %d, want %d", contactTeam, team.ID)
	}
	if customer == nil || e.count(`SELECT count(*) FROM customers WHERE id = $1 AND team_id = $2`, *customer, team.ID) != 1 {
		t.Errorf("contact has no customer of its team: %v", customer)
	}
	if want := time.UnixMilli(1458692752478); last == nil || !last.Equal(want) {
		t.Errorf("last_inbound_at = %v, want the message time %v", last, want)
	}
	var body, kind, dir string
	e.scan(`SELECT body, kind, direction FROM messages WHERE channel_id = $1 AND platform_message_id = $2`,
		[]any{ch.ID, "m_1457764197618:41d102a3e1ae206a38"}, &body, &kind, &dir)
	if body != "hello, world! Grüße" || kind != "text" || dir != "in" {
		t.Errorf("message = %q %q %q", body, kind, dir)
	}
}

func TestReplayedDeliveryRecordsOneMessage(t *testing.T) {
	e := newEnv(t)
	team := e.a.Team("A")
	ch := e.a.Channel(team.ID, models.Facebook, pageID, models.Credentials{})
	body := fixture(t, "meta/messenger-text.json")
	e.postMeta(body)
	e.postMeta(body)
	// Meta may also resend the same event re-serialised or inside another batch.
	var v any
	_ = json.Unmarshal(body, &v)
	again, _ := json.Marshal(v)
	e.postMeta(again)
	e.settled()
	e.noErrors()

	if n := e.count(`SELECT count(*) FROM webhook_events`); n != 3 {
		t.Fatalf("stored deliveries = %d, want 3 (every delivery is kept)", n)
	}
	if n := e.count(`SELECT count(*) FROM messages WHERE channel_id = $1`, ch.ID); n != 1 {
		t.Errorf("messages = %d, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM contacts WHERE channel_id = $1`, ch.ID); n != 1 {
		t.Errorf("contacts = %d, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM customers WHERE team_id = $1`, team.ID); n != 1 {
		t.Errorf("customers = %d, want 1", n)
	}
	if got := e.metricIs(`omnilink_webhook_events_duplicate_total{platform="facebook"}`, "2"); got != "2" {
		t.Errorf("duplicate counter = %q, want 2", got)
	}
	if got := e.metricIs(`omnilink_webhook_events_received_total{platform="facebook"}`, "3"); got != "3" {
		t.Errorf("received counter = %q, want 3", got)
	}
}

func TestLastInboundAtOnlyMovesForward(t *testing.T) {
	e := newEnv(t)
	team := e.a.Team("A")
	ch := e.a.Channel(team.ID, models.Facebook, pageID, models.Credentials{})
	base := fixture(t, "meta/messenger-text.json")
	e.postMeta(base)
	e.settled()
	later := replace(t, base, "1458692752478", "1458692800000", "41d102a3e1ae206a38", "second")
	e.postMeta(later)
	e.settled()
	older := replace(t, base, "1458692752478", "1458600000000", "41d102a3e1ae206a38", "older")
	e.postMeta(older)
	e.settled()
	e.noErrors()

	var last time.Time
	e.scan(`SELECT last_inbound_at FROM contacts WHERE channel_id = $1`, []any{ch.ID}, &last)
	if want := time.UnixMilli(1458692800000); !last.Equal(want) {
		t.Errorf("last_inbound_at = %v, want the newest message time %v", last, want)
	}
	if n := e.count(`SELECT count(*) FROM messages WHERE channel_id = $1`, ch.ID); n != 3 {
		t.Errorf("messages = %d, want 3", n)
	}
}

func TestInstagramMessageAndEchoSkipped(t *testing.T) {
	e := newEnv(t)
	team := e.a.Team("A")
	ch := e.a.Channel(team.ID, models.Instagram, igID, models.Credentials{})
	e.postMeta(fixture(t, "meta/instagram-echo.json"))
	e.settled()
	if n := e.count(`SELECT count(*) FROM contacts`); n != 0 {
		t.Errorf("an echo created %d contacts", n)
	}
	if n := e.count(`SELECT count(*) FROM messages`); n != 0 {
		t.Errorf("an echo recorded %d messages", n)
	}
	e.postMeta(fixture(t, "meta/instagram-text.json"))
	e.settled()
	e.noErrors()
	if n := e.count(`SELECT count(*) FROM contacts WHERE channel_id = $1 AND external_user_id = $2`, ch.ID, igsid); n != 1 {
		t.Errorf("Instagram contact rows = %d, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM messages WHERE channel_id = $1 AND body = 'hi from instagram'`, ch.ID); n != 1 {
		t.Errorf("Instagram messages = %d, want 1", n)
	}
}

func TestWhatsAppMessageAndStatus(t *testing.T) {
	e := newEnv(t)
	team := e.a.Team("A")
	ch := e.a.Channel(team.ID, models.WhatsApp, waPhoneID, models.Credentials{AccessToken: "wa-token"})
	e.postMeta(fixture(t, "meta/whatsapp-status.json"))
	e.settled()
	if n := e.count(`SELECT count(*) FROM contacts`); n != 0 {
		t.Errorf("a status callback created %d contacts", n)
	}
	if n := e.count(`SELECT count(*) FROM webhook_events WHERE processed_at IS NOT NULL AND error = ''`); n != 1 {
		t.Errorf("status delivery not processed cleanly")
	}
	e.postMeta(fixture(t, "meta/whatsapp-text.json"))
	e.settled()
	e.noErrors()
	var name string
	var last time.Time
	e.scan(`SELECT name, last_inbound_at FROM contacts WHERE channel_id = $1 AND external_user_id = $2`, []any{ch.ID, waID}, &name, &last)
	if name != "Sheena Nelson" {
		t.Errorf("WhatsApp contact name = %q", name)
	}
	if want := time.Unix(1749416383, 0); !last.Equal(want) {
		t.Errorf("last_inbound_at = %v, want %v", last, want)
	}
	var display string
	e.scan(`SELECT cu.display_name FROM customers cu JOIN contacts c ON c.customer_id = cu.id WHERE c.channel_id = $1`, []any{ch.ID}, &display)
	if display != "Sheena Nelson" {
		t.Errorf("customer display name = %q", display)
	}
	if n := e.count(`SELECT count(*) FROM messages WHERE channel_id = $1 AND platform_message_id LIKE 'wamid.%'`, ch.ID); n != 1 {
		t.Errorf("WhatsApp messages = %d, want 1", n)
	}
}

func TestUnknownAccountsAreKeptUnrouted(t *testing.T) {
	e := newEnv(t)
	team := e.a.Team("A")
	// A LINE channel that was disconnected still signs, but nothing may be applied to it.
	gone := e.a.Channel(team.ID, models.LINE, lineBot, models.Credentials{ChannelSecret: lineSec})
	if _, err := e.db.Exec(t.Context(), `UPDATE channels SET status = 'disconnected' WHERE id = $1`, gone.ID); err != nil {
		t.Fatal(err)
	}
	e.postMeta(fixture(t, "meta/messenger-text.json"))
	e.postMeta(fixture(t, "meta/instagram-text.json"))
	e.postMeta(fixture(t, "meta/whatsapp-text.json"))
	e.postLINE(gone, lineSec, fixture(t, "line/message-text.json"))
	e.settled()
	e.noErrors()

	for _, c := range []struct{ platform, account string }{
		{"facebook", pageID}, {"instagram", igID}, {"whatsapp", waPhoneID}, {"line", lineBot},
	} {
		if n := e.count(`SELECT count(*) FROM unrouted_events WHERE platform = $1 AND account_id = $2`, c.platform, c.account); n != 1 {
			t.Errorf("%s account %s: %d unrouted events, want 1", c.platform, c.account, n)
		}
		if got := e.metricIs(fmt.Sprintf(`omnilink_webhook_events_unrouted_total{platform=%q}`, c.platform), "1"); got != "1" {
			t.Errorf("%s unrouted counter = %q, want 1", c.platform, got)
		}
	}
	if n := e.count(`SELECT count(*) FROM contacts`); n != 0 {
		t.Errorf("unrouted events created %d contacts", n)
	}
}

// line fixtures share one webhookEventId; each step here is a distinct delivery.
func lineEvent(t *testing.T, name, eventID string, ts int64) []byte {
	body := replace(t, fixture(t, name), "testwebhookeventid", eventID)
	if ts != 0 {
		body = replace(t, body, "1462629479859", fmt.Sprint(ts))
	}
	return body
}

func TestLINEFriendship(t *testing.T) {
	e := newEnv(t)
	team := e.a.Team("A")
	ch := e.a.Channel(team.ID, models.LINE, lineBot, models.Credentials{AccessToken: "tok", ChannelSecret: lineSec})
	friendship := func() string {
		var f string
		e.scan(`SELECT line_friendship FROM contacts WHERE channel_id = $1 AND external_user_id = $2`, []any{ch.ID, lineUser}, &f)
		return f
	}
	follow := replace(t, lineEvent(t, "line/follow-unblocked.json", "01FOLLOW", 1700000000000), `"isUnblocked": true`, `"isUnblocked": false`)
	steps := []struct {
		name string
		body []byte
		want string
	}{
		{"follow", follow, "friend"},
		{"unfollow (block)", lineEvent(t, "line/unfollow.json", "01UNFOLLOW", 1700000001000), "blocked"},
		{"follow isUnblocked", lineEvent(t, "line/follow-unblocked.json", "01UNBLOCK", 1700000002000), "friend"},
		// A late redelivery of an older block must not undo the newer unblock.
		{"older unfollow arriving late", lineEvent(t, "line/unfollow.json", "01LATE", 1700000001500), "friend"},
	}
	for _, s := range steps {
		e.postLINE(ch, lineSec, s.body)
		e.settled()
		if got := friendship(); got != s.want {
			t.Errorf("after %s: friendship = %q, want %q", s.name, got, s.want)
		}
	}
	e.noErrors()
	if n := e.count(`SELECT count(*) FROM contacts WHERE channel_id = $1`, ch.ID); n != 1 {
		t.Errorf("contacts = %d, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM customers WHERE team_id = $1`, team.ID); n != 1 {
		t.Errorf("customers = %d, want 1", n)
	}
}

func TestLINEMessageAndReplay(t *testing.T) {
	e := newEnv(t)
	team := e.a.Team("A")
	ch := e.a.Channel(team.ID, models.LINE, lineBot, models.Credentials{ChannelSecret: lineSec})
	body := fixture(t, "line/message-text.json")
	e.postLINE(ch, lineSec, body)
	e.postLINE(ch, lineSec, body)
	e.settled()
	e.noErrors()
	var text string
	var last *time.Time
	e.scan(`SELECT m.body, c.last_inbound_at FROM messages m JOIN contacts c ON c.id = m.contact_id
		WHERE m.channel_id = $1 AND m.platform_message_id = '325708' AND c.external_user_id = $2`, []any{ch.ID, lineUser}, &text, &last)
	if text != "Hello, world" || last == nil || !last.Equal(time.UnixMilli(1462629479859)) {
		t.Errorf("message %q, last_inbound_at %v", text, last)
	}
	if n := e.count(`SELECT count(*) FROM messages`); n != 1 {
		t.Errorf("messages = %d, want 1 after a replay", n)
	}
	if got := e.metricIs(`omnilink_webhook_events_duplicate_total{platform="line"}`, "1"); got != "1" {
		t.Errorf("LINE duplicate counter = %q, want 1", got)
	}
}

func TestLINESDKAllEventsFixture(t *testing.T) {
	e := newEnv(t)
	team := e.a.Team("A")
	ch := e.a.Channel(team.ID, models.LINE, lineBot, models.Credentials{ChannelSecret: lineSec})
	// The SDK fixture has no destination: the URL's channel is the account.
	e.postLINE(ch, lineSec, fixture(t, "line/sdk-go-webhook-test-all-events.json"))
	e.settled()
	e.noErrors()
	// Its events share two webhookEventIds, so only the first event of each id is applied:
	// a user message, and a group message (which names no customer conversation).
	if n := e.count(`SELECT count(*) FROM contacts WHERE channel_id = $1`, ch.ID); n != 1 {
		t.Errorf("contacts = %d, want 1", n)
	}
	if got := e.metricIs(`omnilink_webhook_events_duplicate_total{platform="line"}`, "34"); got != "34" {
		t.Errorf("duplicates = %q, want 34", got)
	}
}

func TestMalformedDeliveryFailsOnce(t *testing.T) {
	e := newEnv(t)
	e.postMeta([]byte(`{"object":"page","entry":[{"id":`))
	e.settled()
	var attempts int
	var msg string
	e.scan(`SELECT attempts, error FROM webhook_events`, nil, &attempts, &msg)
	if attempts != 1 || msg == "" {
		t.Fatalf("attempts %d, error %q: want one failed attempt with its error", attempts, msg)
	}
	// Later passes (woken by another delivery, and the poll) must leave it alone.
	e.postMeta(fixture(t, "meta/whatsapp-status.json"))
	e.settled()
	time.Sleep(50 * time.Millisecond)
	e.scan(`SELECT attempts FROM webhook_events WHERE error <> ''`, nil, &attempts)
	if attempts != 1 {
		t.Errorf("malformed delivery was tried %d times", attempts)
	}
	if got := e.metricIs(`omnilink_webhook_deliveries_failed_total{platform="meta"}`, "1"); got != "1" {
		t.Errorf("failed counter = %q, want 1", got)
	}
}

func TestLINEWebhookNeverTouchesAnotherTeam(t *testing.T) {
	e := newEnv(t)
	teamA, teamB := e.a.Team("A"), e.a.Team("B")
	const secretB = "team-b-line-secret"
	chA := e.a.Channel(teamA.ID, models.LINE, lineBot, models.Credentials{ChannelSecret: lineSec})
	chB := e.a.Channel(teamB.ID, models.LINE, "Ubbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", models.Credentials{ChannelSecret: secretB})
	body := fixture(t, "line/message-text.json") // destination: team A's bot

	// B's secret on A's URL is refused.
	if st := e.post(fmt.Sprintf("/webhooks/line/%d", chA.ID), body, "X-Line-Signature", line.Sign(secretB, body)); st != 401 {
		t.Errorf("team B's signature on team A's URL: %d, want 401", st)
	}
	// B's own URL and secret, naming A's bot, is kept but applied to nobody.
	e.postLINE(chB, secretB, body)
	e.settled()
	e.noErrors()
	if n := e.count(`SELECT count(*) FROM contacts WHERE team_id = $1`, teamA.ID); n != 0 {
		t.Errorf("team B's delivery created %d contacts in team A", n)
	}
	if n := e.count(`SELECT count(*) FROM messages`); n != 0 {
		t.Errorf("team B's delivery created %d messages", n)
	}
	if n := e.count(`SELECT count(*) FROM unrouted_events WHERE platform = 'line' AND account_id = $1`, lineBot); n != 1 {
		t.Errorf("mismatched delivery not kept as unrouted (%d)", n)
	}
	// The same event through A's own URL still applies to A: B's delivery did not consume its key.
	e.postLINE(chA, lineSec, body)
	e.settled()
	if n := e.count(`SELECT count(*) FROM contacts WHERE team_id = $1 AND channel_id = $2`, teamA.ID, chA.ID); n != 1 {
		t.Errorf("team A's own delivery: %d contacts, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM contacts WHERE team_id = $1`, teamB.ID); n != 0 {
		t.Errorf("team B got %d contacts", n)
	}
}
