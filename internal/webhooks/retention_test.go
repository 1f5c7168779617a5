package webhooks_test

import (
	"context"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/webhooks"
	"github.com/omnilink/omnilink/models"
)

// Processed deliveries older than the retention go, in small batches, with their unrouted events
// and the keys recorded as long ago; recent ones and pending ones (however old) stay.
func TestProcessedDeliveriesArePrunedAfterTheRetention(t *testing.T) {
	e := newIdleEnv(t)
	team := e.a.Team("A")
	e.a.Channel(team.ID, models.Facebook, pageID, models.Credentials{})
	for i := range 5 {
		e.postMeta(messengerBatch("old"+string(rune('a'+i)), "hello"))
	}
	e.postMeta(fixture(t, "meta/whatsapp-text.json")) // unrouted: no channel for the number
	e.postMeta(messengerBatch("new", "hello"))
	if _, err := e.processor(webhooks.ProcessorOptions{}).Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.postMeta(messengerBatch("pending", "hello")) // stored, never processed
	e.exec(`UPDATE webhook_events SET processed_at = now() - interval '31 days', received_at = now() - interval '31 days'
		WHERE processed_at IS NOT NULL AND encode(body, 'escape') NOT LIKE '%m_new_%'`)
	e.exec(`UPDATE webhook_events SET received_at = now() - interval '90 days' WHERE processed_at IS NULL`)
	e.exec(`UPDATE webhook_event_keys k SET created_at = e.processed_at FROM webhook_events e WHERE e.id = k.event_id`)
	if n := e.count(`SELECT count(*) FROM unrouted_events`); n != 1 {
		t.Fatalf("unrouted events before pruning = %d", n)
	}

	n, err := webhooks.Prune(context.Background(), e.a.Store, time.Now().Add(-30*24*time.Hour), webhooks.PruneOptions{Batch: 2, Pause: time.Millisecond})
	if err != nil || n != 6 {
		t.Fatalf("pruned %d (%v), want the 6 old processed deliveries", n, err)
	}
	if got := e.count(`SELECT count(*) FROM webhook_events WHERE processed_at IS NULL`); got != 1 {
		t.Errorf("pending deliveries after pruning = %d, want 1 (never pruned)", got)
	}
	if got := e.count(`SELECT count(*) FROM webhook_events WHERE encode(body, 'escape') LIKE '%m_new_%'`); got != 1 {
		t.Errorf("the recent delivery was pruned")
	}
	if got := e.count(`SELECT count(*) FROM webhook_event_keys`); got != 1 {
		t.Errorf("event keys left = %d, want only the recent delivery's", got)
	}
	if got := e.count(`SELECT count(*) FROM unrouted_events`); got != 0 {
		t.Errorf("unrouted events of pruned deliveries left: %d", got)
	}
	if got := e.count(`SELECT count(*) FROM messages`); got != 6 {
		t.Errorf("messages = %d: pruning deliveries must keep what they created", got)
	}
}

// Events kept as unrouted are applied once the account gets connected: the WhatsApp number's
// messages that came before it was connected show up as contacts and messages.
func TestUnroutedEventsAreAppliedWhenTheAccountIsConnected(t *testing.T) {
	e := newEnv(t)
	team := e.a.Team("A")
	admin := e.a.User(team.ID, models.RoleAdmin, "admin@a.test")
	wa := e.a.Sandbox.WhatsAppNumbers()[0]
	body := replace(t, fixture(t, "meta/whatsapp-text.json"), waPhoneID, sandbox.WhatsAppPhoneNumberID)
	e.postMeta(body)
	e.postMeta(messengerBatch("before", "hello")) // another account's events in the same stream stay as they are
	e.settled()
	if n := e.count(`SELECT count(*) FROM unrouted_events WHERE platform = 'whatsapp' AND account_id = $1`, sandbox.WhatsAppPhoneNumberID); n != 1 {
		t.Fatalf("unrouted WhatsApp events = %d, want 1", n)
	}

	ch, err := e.a.Channels.ConnectWhatsApp(context.Background(), admin, channels.WhatsAppInput{
		PhoneNumberID: wa.PhoneNumberID, WABAID: wa.WABAID, AccessToken: wa.AccessToken}, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for e.count(`SELECT count(*) FROM messages WHERE channel_id = $1`, ch.ID) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the kept WhatsApp message was not applied after connecting the number")
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.settled()
	e.noErrors()
	var name string
	e.scan(`SELECT name FROM contacts WHERE channel_id = $1 AND external_user_id = $2`, []any{ch.ID, waID}, &name)
	if name != "Sheena Nelson" {
		t.Errorf("contact name = %q", name)
	}
	if n := e.count(`SELECT count(*) FROM unrouted_events WHERE platform = 'whatsapp'`); n != 0 {
		t.Errorf("%d WhatsApp events still unrouted", n)
	}
	if n := e.count(`SELECT count(*) FROM unrouted_events WHERE platform = 'facebook'`); n != 1 {
		t.Errorf("the unconnected Page's event was touched (%d unrouted)", n)
	}
}
