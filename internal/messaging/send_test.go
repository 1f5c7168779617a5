package messaging_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/messaging"
	"github.com/omnilink/omnilink/internal/pace"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

const (
	psid  = "7100000000000001"
	igsid = "7200000000000001"
	waID  = "886912345678"
)

// botModule is every block kind a bot module has, OmniLink card included.
func botModule() models.Content {
	return models.Content{Blocks: []models.Block{
		{Kind: models.BlockText, Text: "歡迎光臨小熊烘焙坊！"},
		{Kind: models.BlockImage, ImageURL: "https://img.bear.test/bread.jpg"},
		{Kind: models.BlockButtons, Text: "想看什麼？", Buttons: []models.Button{
			{Kind: models.ButtonURL, Label: "菜單", URL: "https://bear.test/menu"},
			{Kind: models.ButtonPostback, Label: "門市", Payload: "STORES"},
		}},
		{Kind: models.BlockCard, Title: "加入會員", Text: "綁定 LINE 領取優惠", ImageURL: "https://img.bear.test/card.jpg",
			Buttons: []models.Button{{Kind: models.ButtonURL, Label: "立即綁定", URL: "https://omnilink.test/l/abc"}}},
	}}
}

// A bot module renders on every platform into what that platform's (strict) sandbox accepts,
// and each part is recorded with its platform message id.
func TestBotModuleDeliveredOnEveryPlatform(t *testing.T) {
	e := newEnv(t)
	fb := e.channel(models.Facebook, sandbox.BearBakeryPageID, "mei")
	ig := e.channel(models.Instagram, sandbox.BearBakeryIGID, "mei")
	ln := e.channel(models.LINE, sandbox.LINEChannelID, "")
	wa := e.channel(models.WhatsApp, sandbox.WhatsAppPhoneNumberID, "")
	cases := []struct {
		ch       *models.Channel
		sp       sandbox.Platform
		account  string
		customer string
		content  models.Content
	}{
		{fb, sandbox.PlatformFacebook, sandbox.BearBakeryPageID, psid, botModule()},
		{ig, sandbox.PlatformInstagram, sandbox.BearBakeryIGID, igsid, botModule()},
		{ln, sandbox.PlatformLINE, sandbox.LINEBotUserID, sandbox.LINEUserXiaoming, botModule()},
		// WhatsApp's cta_url carries one link button, so its module has no postback.
		{wa, sandbox.PlatformWhatsApp, sandbox.WhatsAppPhoneNumberID, waID, models.Content{Blocks: []models.Block{
			botModule().Blocks[0], botModule().Blocks[1], botModule().Blocks[3]}}},
	}
	for _, c := range cases {
		t.Run(string(c.ch.Platform), func(t *testing.T) {
			friendship := models.Friendship("")
			if c.ch.Platform == models.LINE {
				friendship = models.FriendshipFriend
			}
			ct := e.contact(c.ch, c.sp, c.account, c.customer, friendship)
			res := e.mustSend(messaging.SendRequest{ContactID: ct.ID, Content: c.content, IdempotencyKey: "module:" + string(c.ch.Platform), Automated: true})
			if res.Outcome != models.SendQueued {
				t.Fatalf("outcome %s, want queued", res.Outcome)
			}
			e.drain()
			if got := e.record(res.SendID); got.Outcome != models.SendSent {
				t.Fatalf("outcome %s (%s), want sent", got.Outcome, got.Detail)
			}
			out := e.outbound(c.sp, c.account, c.customer)
			rows := e.sent(ct.ID)
			if len(out) != len(c.content.Blocks) || len(rows) != len(out) {
				t.Fatalf("platform got %d messages, we recorded %d, want %d each", len(out), len(rows), len(c.content.Blocks))
			}
			for i := range out {
				if rows[i].PlatformMessageID != out[i].ID || rows[i].Direction != models.DirectionOut {
					t.Errorf("part %d recorded as %q (%s), platform id %q", i, rows[i].PlatformMessageID, rows[i].Direction, out[i].ID)
				}
			}
			for _, cl := range e.sendCalls() {
				if strings.Contains(cl.Body, "HUMAN_AGENT") {
					t.Errorf("an automated send carried the HUMAN_AGENT tag: %s", cl.Body)
				}
			}
		})
	}
	// The card went out in each platform's own shape.
	lineCard := e.outbound(sandbox.PlatformLINE, sandbox.LINEBotUserID, sandbox.LINEUserXiaoming)[3]
	if lineCard.Kind != "flex" || !strings.Contains(string(lineCard.Payload), `"hero"`) || !strings.Contains(string(lineCard.Payload), `"footer"`) {
		t.Errorf("LINE card is not a flex bubble with hero and footer: %s", lineCard.Payload)
	}
	waCard := e.outbound(sandbox.PlatformWhatsApp, sandbox.WhatsAppPhoneNumberID, waID)[2]
	if !strings.Contains(string(waCard.Payload), `"cta_url"`) || !strings.Contains(string(waCard.Payload), `"header":{"image"`) &&
		!strings.Contains(string(waCard.Payload), `"type":"image"`) {
		t.Errorf("WhatsApp card is not cta_url with an image header: %s", waCard.Payload)
	}
	fbButtons := e.outbound(sandbox.PlatformFacebook, sandbox.BearBakeryPageID, psid)[2]
	if !strings.Contains(string(fbButtons.Payload), `"template_type":"button"`) {
		t.Errorf("Messenger button list is not a button template: %s", fbButtons.Payload)
	}
	igButtons := e.outbound(sandbox.PlatformInstagram, sandbox.BearBakeryIGID, igsid)[2]
	if !strings.Contains(string(igButtons.Payload), `"template_type":"generic"`) {
		t.Errorf("Instagram button list is not a generic template: %s", igButtons.Payload)
	}
}

// Content a platform cannot take is refused when the send is requested, with a typed error
// whose key is translated in both languages, and nothing is recorded or queued.
func TestRenderLimitsPerPlatform(t *testing.T) {
	long := func(n int) string { return strings.Repeat("字", n) }
	card := func(title string, buttons ...models.Button) models.Content {
		return models.Content{Blocks: []models.Block{{Kind: models.BlockCard, Title: title, Text: "內文", Buttons: buttons}}}
	}
	link := models.Button{Kind: models.ButtonURL, Label: "看看", URL: "https://bear.test"}
	post := models.Button{Kind: models.ButtonPostback, Label: "好", Payload: "YES"}
	six := models.Content{}
	for range 6 {
		six.Blocks = append(six.Blocks, models.Block{Kind: models.BlockText, Text: "嗨"})
	}
	cases := []struct {
		name    string
		p       models.Platform
		content models.Content
		key     string
		limit   int
	}{
		{"messenger title", models.Facebook, card(long(81), link), "messaging.limit.title_too_long", 80},
		{"messenger text", models.Facebook, text(long(2001)), "messaging.limit.text_too_long", 2000},
		{"messenger label", models.Facebook, card("標題", models.Button{Kind: models.ButtonURL, Label: long(21), URL: "https://bear.test"}), "messaging.limit.label_too_long", 20},
		{"instagram buttons text", models.Instagram, models.Content{Blocks: []models.Block{{Kind: models.BlockButtons, Text: long(81), Buttons: []models.Button{link}}}}, "messaging.limit.text_too_long", 80},
		{"four buttons", models.Instagram, card("標題", link, link, link, link), "messaging.limit.too_many_buttons", 3},
		{"line six messages", models.LINE, six, "messaging.limit.too_many_parts", 5},
		{"line http image", models.LINE, models.Content{Blocks: []models.Block{{Kind: models.BlockImage, ImageURL: "http://img.bear.test/a.jpg"}}}, "messaging.limit.image_https", 0},
		{"line postback data", models.LINE, card("標題", models.Button{Kind: models.ButtonPostback, Label: "好", Payload: strings.Repeat("x", 301)}), "messaging.limit.payload_too_long", 300},
		{"whatsapp two buttons", models.WhatsApp, card("標題", link, link), "messaging.limit.whatsapp_one_link", 1},
		{"whatsapp postback", models.WhatsApp, card("標題", post), "messaging.limit.whatsapp_one_link", 1},
		{"whatsapp text", models.WhatsApp, text(long(4097)), "messaging.limit.text_too_long", 4096},
		{"card without title", models.LINE, card("", link), "messaging.limit.title_required", 0},
		{"empty", models.Facebook, models.Content{}, "messaging.limit.empty", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := messaging.Render(c.p, c.content)
			ae, ok := apperr.From(err)
			var le *messaging.LimitError
			if !ok || !errors.As(err, &le) {
				t.Fatalf("got %v, want a limit error", err)
			}
			if ae.Key != c.key || le.Limit != c.limit || le.Platform != c.p {
				t.Fatalf("got key %s limit %d platform %s, want %s %d %s", ae.Key, le.Limit, le.Platform, c.key, c.limit, c.p)
			}
		})
	}

	e := newEnv(t)
	for _, lang := range []string{"zh-TW", "en"} {
		for _, c := range cases {
			if s := e.app.I18n.For(lang).T(c.key, map[string]any{"Block": 1, "Limit": c.limit, "Platform": "x"}); s == c.key || s == "" {
				t.Errorf("%s: %s is not translated", lang, c.key)
			}
		}
	}
	fb := e.channel(models.Facebook, sandbox.BearBakeryPageID, "mei")
	ct := e.contact(fb, sandbox.PlatformFacebook, sandbox.BearBakeryPageID, psid, "")
	_, err := e.send(messaging.SendRequest{ContactID: ct.ID, Content: card(long(81), link), IdempotencyKey: "too-long", Automated: true})
	if ae, ok := apperr.From(err); !ok || ae.Key != "messaging.limit.title_too_long" || ae.Field != "blocks[0].title" {
		t.Fatalf("send of an over-long title: %v", err)
	}
	if _, err := e.app.Store.TeamMessageSendByKey(context.Background(), e.team.ID, "too-long"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused send was recorded: %v", err)
	}
	if n := len(e.outboxItems()); n != 0 {
		t.Fatalf("%d outbox items for a refused send", n)
	}
	if n := len(e.sendCalls()); n != 0 {
		t.Fatalf("%d platform calls for a refused send", n)
	}
}

// A broken channel refuses up front with the reason, records the skip and calls no platform.
func TestGuardRefusesBrokenChannel(t *testing.T) {
	e := newEnv(t)
	fb := e.channel(models.Facebook, sandbox.BearBakeryPageID, "mei")
	ct := e.contact(fb, sandbox.PlatformFacebook, sandbox.BearBakeryPageID, psid, "")
	fb.Status, fb.StatusCause = models.ChannelInvalid, string(models.CausePasswordChanged)
	if err := e.app.Store.SaveChannel(context.Background(), fb); err != nil {
		t.Fatal(err)
	}
	res := e.mustSend(messaging.SendRequest{ContactID: ct.ID, Content: text("你好"), IdempotencyKey: "k1", Automated: true})
	if res.Outcome != models.SendSkippedBrokenChannel {
		t.Fatalf("outcome %s, want skipped_broken_channel", res.Outcome)
	}
	ae, ok := apperr.From(res.Refusal)
	if !ok || ae.Key != "health.refused.password_changed" {
		t.Fatalf("refusal %v, want the guard's password_changed explanation", res.Refusal)
	}
	if got := e.record(res.SendID); got.Outcome != models.SendSkippedBrokenChannel || got.FinishedAt == nil {
		t.Fatalf("recorded %+v", got)
	}
	if len(e.outboxItems()) != 0 || len(e.sendCalls()) != 0 {
		t.Fatal("a send through a broken channel was queued or reached the platform")
	}
}

// Outside the 24-hour window an automated send is skipped and recorded on Messenger, Instagram
// and WhatsApp, without the HUMAN_AGENT tag and without any platform call.
func TestWindowClosedSkipsAutomatedSends(t *testing.T) {
	e := newEnv(t)
	fb := e.channel(models.Facebook, sandbox.BearBakeryPageID, "mei")
	ig := e.channel(models.Instagram, sandbox.BearBakeryIGID, "mei")
	wa := e.channel(models.WhatsApp, sandbox.WhatsAppPhoneNumberID, "")
	old := e.clock.Now().Add(-25 * time.Hour)
	for _, ch := range []*models.Channel{fb, ig, wa} {
		ct := e.recordContact(ch, "ext-"+string(ch.Platform), old, "")
		res := e.mustSend(messaging.SendRequest{ContactID: ct.ID, Content: text("限時優惠"), IdempotencyKey: "promo:" + string(ch.Platform), Automated: true})
		if res.Outcome != models.SendSkippedWindow {
			t.Fatalf("%s: outcome %s, want skipped_window", ch.Platform, res.Outcome)
		}
		if got := e.record(res.SendID); got.Detail != messaging.DetailOutsideWindow {
			t.Fatalf("%s: detail %q", ch.Platform, got.Detail)
		}
	}
	if len(e.outboxItems()) != 0 || len(e.sendCalls()) != 0 {
		t.Fatal("a send outside the window was queued or reached the platform")
	}

	// A person answering on Messenger within seven days may use HUMAN_AGENT; automation may not.
	ct := e.contact(fb, sandbox.PlatformFacebook, sandbox.BearBakeryPageID, psid, "")
	e.clock.Advance(30 * time.Hour)
	res := e.mustSend(messaging.SendRequest{ContactID: ct.ID, Content: text("客服回覆"), IdempotencyKey: "agent", Automated: false})
	if res.Outcome != models.SendQueued {
		t.Fatalf("agent reply outcome %s, want queued", res.Outcome)
	}
	e.drain()
	if got := e.record(res.SendID); got.Outcome != models.SendSent {
		t.Fatalf("agent reply: %s %s", got.Outcome, got.Detail)
	}
	calls := e.sendCalls()
	if len(calls) != 1 || !strings.Contains(calls[0].Body, `"tag":"HUMAN_AGENT"`) {
		t.Fatalf("agent reply calls %+v, want one with the HUMAN_AGENT tag", calls)
	}
	res = e.mustSend(messaging.SendRequest{ContactID: ct.ID, Content: text("自動訊息"), IdempotencyKey: "bot", Automated: true})
	if res.Outcome != models.SendSkippedWindow || len(e.sendCalls()) != 1 {
		t.Fatalf("automated send at 30 hours: %s after %d calls", res.Outcome, len(e.sendCalls()))
	}
}

// A send queued inside the window that waits until it closes is skipped by the worker
// without a platform call.
func TestWindowClosingWhileQueuedIsSkipped(t *testing.T) {
	e := newEnv(t)
	wa := e.channel(models.WhatsApp, sandbox.WhatsAppPhoneNumberID, "")
	ct := e.contact(wa, sandbox.PlatformWhatsApp, sandbox.WhatsAppPhoneNumberID, waID, "")
	res := e.mustSend(messaging.SendRequest{ContactID: ct.ID, Content: text("你好"), IdempotencyKey: "late", Automated: true})
	e.clock.Advance(25 * time.Hour)
	e.drain()
	if got := e.record(res.SendID); got.Outcome != models.SendSkippedWindow {
		t.Fatalf("outcome %s, want skipped_window", got.Outcome)
	}
	if len(e.sendCalls()) != 0 {
		t.Fatal("the worker called the platform after the window closed")
	}
}

// When our record says the window is open but the platform says otherwise, the platform's
// refusal (Messenger 10/2018278, WhatsApp 131047) is recorded as a window skip, not retried.
func TestPlatformWindowRefusalRecorded(t *testing.T) {
	e := newEnv(t)
	fb := e.channel(models.Facebook, sandbox.BearBakeryPageID, "mei")
	wa := e.channel(models.WhatsApp, sandbox.WhatsAppPhoneNumberID, "")
	if _, _, err := e.world.SimulateInbound(sandbox.PlatformFacebook, sandbox.BearBakeryPageID, psid, "hi"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.world.SimulateInbound(sandbox.PlatformWhatsApp, sandbox.WhatsAppPhoneNumberID, waID, "hi"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(25 * time.Hour)
	for _, c := range []struct {
		ch   *models.Channel
		ext  string
		code string
	}{{fb, psid, "2018278"}, {wa, waID, "131047"}} {
		ct := e.recordContact(c.ch, c.ext, e.clock.Now(), "")
		res := e.mustSend(messaging.SendRequest{ContactID: ct.ID, Content: text("你好"), IdempotencyKey: "w:" + c.ext, Automated: true})
		st := e.drain()
		got := e.record(res.SendID)
		if got.Outcome != models.SendSkippedWindow || !strings.Contains(got.Detail, c.code) || st.Retrying != 0 {
			t.Fatalf("%s: outcome %s (%s), %d retrying; want skipped_window with %s", c.ch.Platform, got.Outcome, got.Detail, st.Retrying, c.code)
		}
	}
	e.clock.Advance(time.Hour)
	before := len(e.sendCalls())
	e.drain()
	if len(e.sendCalls()) != before {
		t.Fatal("a window refusal was retried")
	}
}

// A LINE user who blocked the account is skipped and recorded.
func TestBlockedLINEUserSkipped(t *testing.T) {
	e := newEnv(t)
	ln := e.channel(models.LINE, sandbox.LINEChannelID, "")
	ct := e.recordContact(ln, sandbox.LINEUserZhihao, e.clock.Now(), models.FriendshipBlocked)
	res := e.mustSend(messaging.SendRequest{ContactID: ct.ID, Content: text("你好"), IdempotencyKey: "blocked", Automated: true})
	if res.Outcome != models.SendSkippedBlocked {
		t.Fatalf("outcome %s, want skipped_blocked", res.Outcome)
	}
	if got := e.record(res.SendID); got.Detail != messaging.DetailBlocked {
		t.Fatalf("detail %q", got.Detail)
	}
	if len(e.outboxItems()) != 0 || len(e.sendCalls()) != 0 {
		t.Fatal("a send to a blocked user was queued or reached LINE")
	}
}

// One idempotency key is one send, however often it is requested; a send requested in a
// transaction that rolls back never existed.
func TestIdempotencyKeyEnqueuesOnce(t *testing.T) {
	e := newEnv(t)
	ln := e.channel(models.LINE, sandbox.LINEChannelID, "")
	ct := e.contact(ln, sandbox.PlatformLINE, sandbox.LINEBotUserID, sandbox.LINEUserXiaoming, models.FriendshipFriend)
	req := messaging.SendRequest{ContactID: ct.ID, Content: text("綁定成功！"), IdempotencyKey: "campaign:1:link:9:success", Automated: true}
	first := e.mustSend(req)
	second := e.mustSend(req)
	if first.Duplicate || !second.Duplicate || second.SendID != first.SendID {
		t.Fatalf("first %+v, second %+v", first, second)
	}
	if n := len(e.outboxItems()); n != 1 {
		t.Fatalf("%d outbox items, want 1", n)
	}
	e.drain()
	e.mustSend(req)
	e.drain()
	if n := len(e.outbound(sandbox.PlatformLINE, sandbox.LINEBotUserID, sandbox.LINEUserXiaoming)); n != 1 {
		t.Fatalf("customer got %d messages, want 1", n)
	}

	rolled := errors.New("the change failed")
	err := e.app.Store.WithTx(context.Background(), func(tx *store.Store) error {
		if _, err := e.svc.Send(context.Background(), tx, messaging.SendRequest{TeamID: e.team.ID, ContactID: ct.ID, Content: text("x"), IdempotencyKey: "rolled", Automated: true}); err != nil {
			return err
		}
		return rolled
	})
	if !errors.Is(err, rolled) {
		t.Fatal(err)
	}
	if _, err := e.app.Store.TeamMessageSendByKey(context.Background(), e.team.ID, "rolled"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a send from a rolled-back change survived: %v", err)
	}
	if n := len(e.outboxItems()); n != 1 {
		t.Fatalf("%d outbox items after a rollback, want 1", n)
	}

	// Another team cannot send to this contact.
	other := e.app.Team("別家店")
	if _, err := e.send(messaging.SendRequest{TeamID: other.ID, ContactID: ct.ID, Content: text("x"), IdempotencyKey: "steal", Automated: true}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another team's send: %v, want not found", err)
	}
	if _, err := e.send(messaging.SendRequest{ContactID: ct.ID, Content: text("x"), Automated: true}); !errors.Is(err, messaging.ErrNoKey) {
		t.Fatalf("send without a key: %v", err)
	}
}

// LINE accepts a push but its answer times out; the worker retries with the same
// X-Line-Retry-Key, LINE answers 409, and the customer has exactly one message.
func TestRetryAfterTimeoutDeliveredOnce(t *testing.T) {
	e := newEnv(t)
	ln := e.channel(models.LINE, sandbox.LINEChannelID, "")
	ct := e.contact(ln, sandbox.PlatformLINE, sandbox.LINEBotUserID, sandbox.LINEUserXiaoming, models.FriendshipFriend)
	if err := e.world.SetTransientFailure(sandbox.Target{Kind: sandbox.TargetLINE, ID: sandbox.LINEChannelID}, 1, sandbox.FailLateAnswer); err != nil {
		t.Fatal(err)
	}
	res := e.mustSend(messaging.SendRequest{ContactID: ct.ID, Content: botModule(), IdempotencyKey: "campaign:1:link:7:success", Automated: true})

	st := e.drain()
	if st.Retrying != 1 || st.Delivered != 0 {
		t.Fatalf("first attempt: %+v, want one item retrying after the timeout", st)
	}
	if n := len(e.outbound(sandbox.PlatformLINE, sandbox.LINEBotUserID, sandbox.LINEUserXiaoming)); n != 4 {
		t.Fatalf("LINE holds %d messages after the accepted push, want 4", n)
	}
	if got := e.record(res.SendID); got.Outcome != models.SendQueued || len(e.sent(ct.ID)) != 0 {
		t.Fatalf("after the timeout: %s with %d recorded messages", got.Outcome, len(e.sent(ct.ID)))
	}

	e.clock.Advance(31 * time.Second)
	if st := e.drain(); st.Delivered != 1 {
		t.Fatalf("retry: %+v, want delivered", st)
	}
	out := e.outbound(sandbox.PlatformLINE, sandbox.LINEBotUserID, sandbox.LINEUserXiaoming)
	if len(out) != 4 {
		t.Fatalf("customer got %d messages, want the module's 4 exactly once", len(out))
	}
	calls := e.sendCalls()
	if len(calls) != 2 || calls[0].RetryKey == "" || calls[0].RetryKey != calls[1].RetryKey {
		t.Fatalf("pushes %+v, want two with the same retry key", calls)
	}
	if want := messaging.LineRetryKey("message.send:" + strconv.FormatInt(e.team.ID, 10) + ":campaign:1:link:7:success"); calls[0].RetryKey != want {
		t.Fatalf("retry key %s, want %s derived from the outbox row", calls[0].RetryKey, want)
	}
	rows := e.sent(ct.ID)
	if len(rows) != 4 {
		t.Fatalf("%d messages recorded, want 4", len(rows))
	}
	for i, r := range rows {
		if r.PlatformMessageID != out[i].ID {
			t.Errorf("part %d recorded as %s, LINE id %s", i, r.PlatformMessageID, out[i].ID)
		}
	}
	if got := e.record(res.SendID); got.Outcome != models.SendSent {
		t.Fatalf("outcome %s, want sent", got.Outcome)
	}
}

// A rejected token (Graph 190) reaches the health monitor, which marks the channel broken; the
// send is recorded and not retried, and the next send is refused up front.
func TestAuthErrorBreaksChannel(t *testing.T) {
	e := newEnv(t)
	fb := e.channel(models.Facebook, sandbox.BearBakeryPageID, "mei")
	ct := e.contact(fb, sandbox.PlatformFacebook, sandbox.BearBakeryPageID, psid, "")
	if err := e.world.BreakToken(sandbox.Target{Kind: sandbox.TargetFacebookUser, ID: "mei"}, sandbox.CausePasswordChanged); err != nil {
		t.Fatal(err)
	}
	res := e.mustSend(messaging.SendRequest{ContactID: ct.ID, Content: text("你好"), IdempotencyKey: "auth", Automated: true})
	if st := e.drain(); st.Failed != 1 {
		t.Fatalf("drain %+v, want the item failed", st)
	}
	got := e.record(res.SendID)
	if got.Outcome != models.SendFailedBrokenChannel || !strings.Contains(got.Detail, "190") {
		t.Fatalf("outcome %s (%s)", got.Outcome, got.Detail)
	}
	ch, err := e.app.Store.Channel(context.Background(), e.team.ID, fb.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Status != models.ChannelInvalid || ch.StatusCause != string(models.CausePasswordChanged) {
		t.Fatalf("channel %s (%s), want invalid by password_changed", ch.Status, ch.StatusCause)
	}
	rep, err := e.app.Health.Report(context.Background(), e.team.ID, fb.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Episodes) == 0 || rep.Episodes[0].DetectedBy != models.DetectedBySend {
		t.Fatalf("no health episode opened by the send: %+v", rep.Episodes)
	}
	calls := len(e.sendCalls())
	next := e.mustSend(messaging.SendRequest{ContactID: ct.ID, Content: text("再一次"), IdempotencyKey: "auth2", Automated: true})
	e.clock.Advance(time.Hour)
	e.drain()
	if next.Outcome != models.SendSkippedBrokenChannel || len(e.sendCalls()) != calls {
		t.Fatalf("after the break: %s, %d more calls", next.Outcome, len(e.sendCalls())-calls)
	}
}

// A recipient the platform cannot reach is recorded and not retried.
func TestPermanentRecipientErrorNotRetried(t *testing.T) {
	e := newEnv(t)
	ln := e.channel(models.LINE, sandbox.LINEChannelID, "")
	ct := e.recordContact(ln, "U0123456789abcdef0123456789abcdef", e.clock.Now(), models.FriendshipFriend)
	res := e.mustSend(messaging.SendRequest{ContactID: ct.ID, Content: text("你好"), IdempotencyKey: "gone", Automated: true})
	if st := e.drain(); st.Failed != 1 {
		t.Fatalf("drain %+v, want failed", st)
	}
	if got := e.record(res.SendID); got.Outcome != models.SendFailedRecipient {
		t.Fatalf("outcome %s (%s), want failed_recipient", got.Outcome, got.Detail)
	}
	items := e.outboxItems()
	if len(items) != 1 || items[0].FailedAt == nil || items[0].Attempts != 1 {
		t.Fatalf("outbox %+v, want one failed item after one attempt", items)
	}
	e.clock.Advance(2 * time.Hour)
	e.drain()
	if n := len(e.sendCalls()); n != 1 {
		t.Fatalf("%d pushes, want 1", n)
	}
	ch, _ := e.app.Store.Channel(context.Background(), e.team.ID, ln.ID)
	if ch.Status != models.ChannelActive {
		t.Fatalf("a recipient error changed the channel to %s", ch.Status)
	}
}

// A platform 5xx is retried with backoff and then delivered once.
func TestTransientErrorRetriedThenDelivered(t *testing.T) {
	e := newEnv(t)
	wa := e.channel(models.WhatsApp, sandbox.WhatsAppPhoneNumberID, "")
	ct := e.contact(wa, sandbox.PlatformWhatsApp, sandbox.WhatsAppPhoneNumberID, waID, "")
	if err := e.world.SetTransientFailure(sandbox.Target{Kind: sandbox.TargetWhatsApp, ID: sandbox.WhatsAppPhoneNumberID}, 1, sandbox.FailUnknown); err != nil {
		t.Fatal(err)
	}
	res := e.mustSend(messaging.SendRequest{ContactID: ct.ID, Content: text("訂單已出貨"), IdempotencyKey: "ship", Automated: true})
	if st := e.drain(); st.Retrying != 1 {
		t.Fatalf("first attempt %+v, want retrying", st)
	}
	if got := e.record(res.SendID); got.Outcome != models.SendQueued || got.Detail == "" {
		t.Fatalf("after a 5xx: %s (%q), want queued with the error noted", got.Outcome, got.Detail)
	}
	if st := e.drain(); st.Delivered != 0 {
		t.Fatal("retried before the backoff passed")
	}
	e.clock.Advance(31 * time.Second)
	if st := e.drain(); st.Delivered != 1 {
		t.Fatalf("retry %+v, want delivered", st)
	}
	if n := len(e.outbound(sandbox.PlatformWhatsApp, sandbox.WhatsAppPhoneNumberID, waID)); n != 1 {
		t.Fatalf("customer got %d messages, want 1", n)
	}
	if got := e.record(res.SendID); got.Outcome != models.SendSent || len(e.sent(ct.ID)) != 1 {
		t.Fatalf("outcome %s with %d recorded", got.Outcome, len(e.sent(ct.ID)))
	}
}

// A Messenger user the Page cannot reach (Graph 100/2018001) is recorded, not retried.
func TestUnknownMessengerRecipientRecorded(t *testing.T) {
	e := newEnv(t)
	fb := e.channel(models.Facebook, sandbox.BearBakeryPageID, "mei")
	ct := e.recordContact(fb, "7999999999999999", e.clock.Now(), "")
	res := e.mustSend(messaging.SendRequest{ContactID: ct.ID, Content: text("你好"), IdempotencyKey: "nobody", Automated: true})
	if st := e.drain(); st.Failed != 1 {
		t.Fatalf("drain %+v, want failed", st)
	}
	if got := e.record(res.SendID); got.Outcome != models.SendFailedRecipient || !strings.Contains(got.Detail, "2018001") {
		t.Fatalf("outcome %s (%s)", got.Outcome, got.Detail)
	}
}

// Outside the WhatsApp window, a template given with the request goes out instead.
func TestWhatsAppTemplateOutsideWindow(t *testing.T) {
	e := newEnv(t)
	wa := e.channel(models.WhatsApp, sandbox.WhatsAppPhoneNumberID, "")
	ct := e.contact(wa, sandbox.PlatformWhatsApp, sandbox.WhatsAppPhoneNumberID, waID, "")
	e.clock.Advance(48 * time.Hour)
	res := e.mustSend(messaging.SendRequest{ContactID: ct.ID, Content: text("您的會員綁定已完成"), IdempotencyKey: "tpl", Automated: true,
		WhatsAppTemplate: &messaging.WhatsAppTemplate{Name: "link_done", Language: "zh_TW"}})
	if res.Outcome != models.SendQueued {
		t.Fatalf("outcome %s, want queued with the template", res.Outcome)
	}
	e.drain()
	if got := e.record(res.SendID); got.Outcome != models.SendSent {
		t.Fatalf("outcome %s (%s)", got.Outcome, got.Detail)
	}
	out := e.outbound(sandbox.PlatformWhatsApp, sandbox.WhatsAppPhoneNumberID, waID)
	rows := e.sent(ct.ID)
	if len(out) != 1 || out[0].Kind != "template" || len(rows) != 1 || rows[0].Kind != "template" || rows[0].PlatformMessageID != out[0].ID {
		t.Fatalf("sent %+v, recorded %+v", out, rows)
	}
}

// Sends beyond a channel's rate wait for their turn and all go out; none fails.
func TestSendsArePacedPerChannel(t *testing.T) {
	var slept time.Duration
	var e *env
	e = newEnv(t, func(d *messaging.Deps, o *messaging.Options) {
		o.Rates = map[models.Platform]pace.Rate{models.Facebook: {PerSecond: 3, Burst: 1}}
		d.Sleep = func(_ context.Context, dur time.Duration) error {
			slept += dur
			e.clock.Advance(dur)
			return nil
		}
	})
	fb := e.channel(models.Facebook, sandbox.BearBakeryPageID, "mei")
	ct := e.contact(fb, sandbox.PlatformFacebook, sandbox.BearBakeryPageID, psid, "")
	res := e.mustSend(messaging.SendRequest{ContactID: ct.ID, Content: botModule(), IdempotencyKey: "paced", Automated: true})
	if st := e.drain(); st.Delivered != 1 {
		t.Fatalf("drain %+v", st)
	}
	if got := e.record(res.SendID); got.Outcome != models.SendSent || len(e.sent(ct.ID)) != 4 {
		t.Fatalf("outcome %s with %d parts recorded", got.Outcome, len(e.sent(ct.ID)))
	}
	// One call at once, then three more at two per second (3 a second less the burst of 1).
	if slept != 1500*time.Millisecond || e.svc.Pacer().Waited() != slept {
		t.Fatalf("slept %v (pacer says %v), want 1.5s", slept, e.svc.Pacer().Waited())
	}
}

// Requests racing with one key (two replicas handling the same event) make one send.
func TestConcurrentSendsWithOneKey(t *testing.T) {
	e := newEnv(t)
	ln := e.channel(models.LINE, sandbox.LINEChannelID, "")
	ct := e.contact(ln, sandbox.PlatformLINE, sandbox.LINEBotUserID, sandbox.LINEUserYijun, models.FriendshipFriend)
	const n = 6
	ids := make(chan int64, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			var res messaging.Result
			err := e.app.Store.WithTx(context.Background(), func(tx *store.Store) error {
				var err error
				res, err = e.svc.Send(context.Background(), tx, messaging.SendRequest{TeamID: e.team.ID, ContactID: ct.ID, Content: text("歡迎"), IdempotencyKey: "race", Automated: true})
				return err
			})
			errs <- err
			ids <- res.SendID
		}()
	}
	first := int64(0)
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		id := <-ids
		if first == 0 {
			first = id
		}
		if id != first || id == 0 {
			t.Fatalf("send ids %d and %d for one key", first, id)
		}
	}
	if len(e.outboxItems()) != 1 {
		t.Fatalf("%d outbox items", len(e.outboxItems()))
	}
	e.drain()
	if got := len(e.outbound(sandbox.PlatformLINE, sandbox.LINEBotUserID, sandbox.LINEUserYijun)); got != 1 {
		t.Fatalf("customer got %d messages", got)
	}
}

// The outbox delivers many sends at once: with every platform call taking 50 ms, the sandbox
// sees many of them waiting together, at most one per customer, each send goes out exactly
// once, and each customer gets their messages in the order they were sent.
func TestOutboxDeliversSendsConcurrently(t *testing.T) {
	e := newEnvWorld(t, func(o *sandbox.Options) { o.Latency = 50 * time.Millisecond })
	ln := e.channel(models.LINE, sandbox.LINEChannelID, "")
	const contacts, each = 20, 5
	users := make([]string, contacts)
	cts := make([]*models.Contact, contacts)
	for i := range contacts {
		users[i] = fmt.Sprintf("U%032x", 0xbeef00+i)
		cts[i] = e.contact(ln, sandbox.PlatformLINE, sandbox.LINEBotUserID, users[i], models.FriendshipFriend)
	}
	// Queued round-robin, so every contact's messages are spread through the queue.
	for k := range each {
		for i, ct := range cts {
			e.mustSend(messaging.SendRequest{ContactID: ct.ID, Content: text(fmt.Sprintf("新品 %d", k)),
				IdempotencyKey: fmt.Sprintf("many:%d:%d", i, k), Automated: true})
		}
	}
	const n = contacts * each
	if st := e.drain(); st.Delivered != n {
		t.Fatalf("drain %+v", st)
	}
	if got := len(e.sendCalls()); got != n {
		t.Fatalf("%d push calls for %d sends", got, n)
	}
	for i, u := range users {
		got := e.outbound(sandbox.PlatformLINE, sandbox.LINEBotUserID, u)
		if len(got) != each {
			t.Fatalf("customer %d got %d messages, want %d", i, len(got), each)
		}
		// Concurrent delivery never reorders one customer's messages.
		for k, m := range got {
			if want := fmt.Sprintf("新品 %d", k); m.Text != want {
				t.Fatalf("customer %d message %d is %q, want %q", i, k, m.Text, want)
			}
		}
	}
	for _, it := range e.outboxItems() {
		if it.State() != models.OutboxDelivered || it.Attempts != 1 {
			t.Fatalf("outbox item %s: state %s after %d attempts", it.IdempotencyKey, it.State(), it.Attempts)
		}
	}
	if peak := e.world.PeakInFlight(); peak < 10 || peak > contacts {
		t.Fatalf("at most %d platform calls were in flight at once, want between 10 and %d (one per customer)", peak, contacts)
	}
}
