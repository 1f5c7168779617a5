package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var digitsRe = regexp.MustCompile(`^[0-9]{6,20}$`)

// SignMeta returns the X-Hub-Signature-256 value Meta sends: "sha256=" + hex HMAC-SHA256 of
// the raw body keyed with the app secret.
func SignMeta(appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// SignLINE returns the x-line-signature value LINE sends: base64 HMAC-SHA256 of the raw body
// keyed with the channel secret.
func SignLINE(channelSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(channelSecret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Deliver POSTs a simulated webhook body to url with its signature, as the platform would.
// A signature starting with "sha256=" goes in X-Hub-Signature-256 (Meta), any other in
// X-Line-Signature (LINE: base64 never contains "sha256="). It returns the receiver's status.
func Deliver(ctx context.Context, client *http.Client, url string, body []byte, signature string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if strings.HasPrefix(signature, "sha256=") {
		req.Header.Set("X-Hub-Signature-256", signature)
		req.Header.Set("User-Agent", "facebookexternalua")
	} else {
		req.Header.Set("X-Line-Signature", signature)
		req.Header.Set("User-Agent", "LineBotWebhook/2.0")
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// VerifyMetaWebhook performs Meta's subscription handshake against a callback URL: a GET with
// hub.mode=subscribe, hub.verify_token and a random hub.challenge, which the receiver must
// echo as the raw body with status 200.
func VerifyMetaWebhook(ctx context.Context, client *http.Client, callbackURL, verifyToken string) error {
	challenge := randomDigits(10)
	u, err := url.Parse(callbackURL)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("hub.mode", "subscribe")
	q.Set("hub.challenge", challenge)
	q.Set("hub.verify_token", verifyToken)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "facebookplatform/1.0 (+http://developers.facebook.com)")
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK || string(body) != challenge {
		return fmt.Errorf("sandbox: webhook verification failed: status %d, body %q, want %q", resp.StatusCode, body, challenge)
	}
	return nil
}

// Wire shapes of the webhooks, as structs so fields keep the platforms' order.
type (
	idObj struct {
		ID string `json:"id"`
	}
	metaHookIn struct {
		Object string      `json:"object"`
		Entry  []metaEntry `json:"entry"`
	}
	metaEntry struct {
		ID        string          `json:"id"`
		Time      int64           `json:"time"`
		Messaging []metaMessaging `json:"messaging"`
	}
	metaMessaging struct {
		Sender    idObj          `json:"sender"`
		Recipient idObj          `json:"recipient"`
		Timestamp int64          `json:"timestamp"`
		Message   *metaInMessage `json:"message,omitempty"`
		Postback  *metaPostback  `json:"postback,omitempty"`
	}
	metaInMessage struct {
		Mid  string `json:"mid"`
		Text string `json:"text"`
	}
	metaPostback struct {
		Mid     string `json:"mid,omitempty"`
		Title   string `json:"title"`
		Payload string `json:"payload"`
	}
	waHookIn struct {
		Object string    `json:"object"`
		Entry  []waEntry `json:"entry"`
	}
	waEntry struct {
		ID      string     `json:"id"`
		Changes []waChange `json:"changes"`
	}
	waChange struct {
		Value waValue `json:"value"`
		Field string  `json:"field"`
	}
	waValue struct {
		MessagingProduct string        `json:"messaging_product"`
		Metadata         waMetadata    `json:"metadata"`
		Contacts         []waContact   `json:"contacts"`
		Messages         []waInMessage `json:"messages"`
	}
	waMetadata struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	}
	waContact struct {
		Profile struct {
			Name string `json:"name"`
		} `json:"profile"`
		WaID string `json:"wa_id"`
	}
	waInMessage struct {
		From        string         `json:"from"`
		ID          string         `json:"id"`
		Timestamp   string         `json:"timestamp"`
		Type        string         `json:"type"`
		Text        *waText        `json:"text,omitempty"`
		Interactive *waInteractive `json:"interactive,omitempty"`
	}
	waText struct {
		Body string `json:"body"`
	}
	waInteractive struct {
		Type        string `json:"type"`
		ButtonReply struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"button_reply"`
	}
	lineHookIn struct {
		Destination string      `json:"destination"`
		Events      []lineEvent `json:"events"`
	}
	lineEvent struct {
		Type            string         `json:"type"`
		Message         *lineInMessage `json:"message,omitempty"`
		Postback        *linePostback  `json:"postback,omitempty"`
		Follow          *lineFollow    `json:"follow,omitempty"`
		WebhookEventID  string         `json:"webhookEventId"`
		DeliveryContext struct {
			IsRedelivery bool `json:"isRedelivery"`
		} `json:"deliveryContext"`
		Timestamp int64 `json:"timestamp"`
		Source    struct {
			Type   string `json:"type"`
			UserID string `json:"userId"`
		} `json:"source"`
		ReplyToken string `json:"replyToken,omitempty"`
		Mode       string `json:"mode"`
	}
	lineInMessage struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		QuoteToken string `json:"quoteToken"`
		Text       string `json:"text"`
	}
	linePostback struct {
		Data string `json:"data"`
	}
	lineFollow struct {
		IsUnblocked bool `json:"isUnblocked"`
	}
)

// customerAction is one simulated thing a customer does.
type customerAction struct {
	kind    string // text, postback, follow, unfollow
	text    string // message text or button title
	payload string // postback payload
}

// SimulateInbound builds the webhook a platform sends when a customer writes text, signs it,
// logs it in the conversation and opens the customer's 24-hour window. accountID is the Page
// id (facebook), IG account id (instagram), phone-number id (whatsapp) or LINE bot user id or
// channel id (line); customerID is the PSID, IGSID, wa_id or LINE userId. An id the world
// does not know yet becomes a new customer.
func (w *World) SimulateInbound(p Platform, accountID, customerID, text string) ([]byte, string, error) {
	if text == "" {
		return nil, "", fmt.Errorf("sandbox: empty message")
	}
	return w.simulate(p, accountID, customerID, customerAction{kind: "text", text: text})
}

// SimulatePostback is a customer tapping a button: a Messenger/Instagram postback, a WhatsApp
// interactive button_reply, or a LINE postback event.
func (w *World) SimulatePostback(p Platform, accountID, customerID, title, payload string) ([]byte, string, error) {
	return w.simulate(p, accountID, customerID, customerAction{kind: "postback", text: title, payload: payload})
}

// SimulateFollow is a LINE user adding the official account; after a block it carries
// follow.isUnblocked=true, as LINE does.
func (w *World) SimulateFollow(accountID, lineUserID string) ([]byte, string, error) {
	return w.simulate(PlatformLINE, accountID, lineUserID, customerAction{kind: "follow"})
}

// SimulateUnfollow is a LINE user blocking the official account.
func (w *World) SimulateUnfollow(accountID, lineUserID string) ([]byte, string, error) {
	return w.simulate(PlatformLINE, accountID, lineUserID, customerAction{kind: "unfollow"})
}

// SimulateLINEVerify is the body LINE sends when someone presses "Verify" in the LINE
// Developers console: no events, still signed, still expecting 200.
func (w *World) SimulateLINEVerify(accountID string) ([]byte, string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	a := w.st.lineAccount(accountID)
	if a == nil {
		return nil, "", fmt.Errorf("%w: LINE account %s", ErrNotFound, accountID)
	}
	body, err := json.Marshal(lineHookIn{Destination: a.BotUserID, Events: []lineEvent{}})
	if err != nil {
		return nil, "", err
	}
	return body, SignLINE(a.ChannelSecret, body), nil
}

func (w *World) simulate(p Platform, accountID, customerID string, in customerAction) ([]byte, string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	var body []byte
	var sig string
	var msgID string
	var err error
	switch p {
	case PlatformFacebook, PlatformInstagram:
		body, msgID, err = w.metaInbound(p, accountID, customerID, in, now)
		sig = SignMeta(w.appSecret, body)
	case PlatformWhatsApp:
		body, msgID, err = w.whatsappInbound(accountID, customerID, in, now)
		sig = SignMeta(w.appSecret, body)
	case PlatformLINE:
		var secret string
		body, msgID, secret, err = w.lineInbound(accountID, customerID, in, now)
		sig = SignLINE(secret, body)
	default:
		err = fmt.Errorf("sandbox: unknown platform %q", p)
	}
	if err != nil {
		return nil, "", err
	}
	account := w.st.canonicalAccount(p, accountID)
	key := convKey(p, account, customerID)
	text := in.text
	if in.kind == "postback" && text == "" {
		text = in.payload
	}
	w.st.appendMessage(key, Message{ID: msgID, Direction: Inbound, Kind: in.kind, Text: text, Payload: body, Delivered: true, At: now})
	if in.kind == "text" || in.kind == "postback" {
		w.st.LastInbound[key] = now
	}
	w.changed()
	if err := w.saveLocked(); err != nil {
		return nil, "", err
	}
	return body, sig, nil
}

// addCustomer registers an id the world has not seen, so the Send API can reach it later.
func (s *state) addCustomer(p Platform, accountID, externalID string) {
	if s.knownCustomer(p, accountID, externalID) {
		return
	}
	name := "Guest " + externalID[max(0, len(externalID)-4):]
	s.Customers = append(s.Customers, &Customer{Key: string(p) + ":" + externalID, Name: name,
		Identities: []Identity{{Platform: p, AccountID: accountID, ExternalID: externalID}}})
}

func (w *World) metaInbound(p Platform, accountID, customerID string, in customerAction, now time.Time) ([]byte, string, error) {
	object := "page"
	if p == PlatformFacebook {
		if w.st.page(accountID) == nil {
			return nil, "", fmt.Errorf("%w: page %s", ErrNotFound, accountID)
		}
	} else {
		a := w.st.instagram(accountID)
		if a == nil {
			return nil, "", fmt.Errorf("%w: instagram account %s", ErrNotFound, accountID)
		}
		if a.AccountType != "BUSINESS" {
			return nil, "", fmt.Errorf("%w: @%s is a creator account; its messages do not reach apps", ErrCreatorAccount, a.Username)
		}
		object = "instagram"
	}
	if err := w.st.delivers(p, accountID, in.kind); err != nil {
		return nil, "", err
	}
	if !digitsRe.MatchString(customerID) {
		return nil, "", fmt.Errorf("%w: %s customer id %q must be digits", ErrBadCustomerID, p, customerID)
	}
	if in.kind != "text" && in.kind != "postback" {
		return nil, "", fmt.Errorf("sandbox: %s has no %s event", p, in.kind)
	}
	w.st.addCustomer(p, accountID, customerID)
	ms := now.UnixMilli()
	mid := "m_" + randomString(86, base62+"-_")
	if p == PlatformInstagram {
		mid = base64.RawStdEncoding.EncodeToString([]byte("ig_item:1:IGMessageThread:" + accountID + ":" + randomDigits(39)))
	}
	m := metaMessaging{Sender: idObj{customerID}, Recipient: idObj{accountID}, Timestamp: ms}
	if in.kind == "text" {
		m.Message = &metaInMessage{Mid: mid, Text: in.text}
	} else {
		m.Postback = &metaPostback{Title: in.text, Payload: in.payload}
		if p == PlatformInstagram {
			m.Postback.Mid = mid
		}
	}
	return metaJSON(metaHookIn{Object: object, Entry: []metaEntry{{ID: accountID, Time: ms, Messaging: []metaMessaging{m}}}}), mid, nil
}

// ErrNotSubscribed matches a simulated customer action that Meta would not deliver, because
// the app is not subscribed to the account's webhooks (never subscribed, or "Webhooks Disabled").
var ErrNotSubscribed = errors.New("sandbox: the app is not subscribed to this account's webhooks, so Meta delivers nothing")

// delivers checks the subscription Meta needs before it sends an account's webhook: on a Page,
// the event's own field (messages, messaging_postbacks); for Instagram, any subscription on the
// linked Page (the fields themselves are chosen at app level); for WhatsApp, the business account.
func (s *state) delivers(p Platform, accountID, kind string) error {
	var object, field string
	switch p {
	case PlatformFacebook:
		object, field = accountID, "messages"
		if kind == "postback" {
			field = "messaging_postbacks"
		}
	case PlatformInstagram:
		if a := s.instagram(accountID); a != nil {
			object = a.PageID
		}
	case PlatformWhatsApp:
		if n := s.whatsapp(accountID); n != nil {
			object = n.WABAID
		}
	}
	fields, ok := s.Subscriptions[object]
	if !ok || (field != "" && !slices.Contains(fields, field)) {
		return fmt.Errorf("%w (%s %s)", ErrNotSubscribed, p, accountID)
	}
	return nil
}

func (w *World) whatsappInbound(accountID, customerID string, in customerAction, now time.Time) ([]byte, string, error) {
	n := w.st.whatsapp(accountID)
	if n == nil {
		return nil, "", fmt.Errorf("%w: whatsapp number %s", ErrNotFound, accountID)
	}
	if err := w.st.delivers(PlatformWhatsApp, accountID, in.kind); err != nil {
		return nil, "", err
	}
	if !digitsRe.MatchString(customerID) {
		return nil, "", fmt.Errorf("%w: wa_id %q must be digits without +", ErrBadCustomerID, customerID)
	}
	if in.kind != "text" && in.kind != "postback" {
		return nil, "", fmt.Errorf("sandbox: whatsapp has no %s event", in.kind)
	}
	w.st.addCustomer(PlatformWhatsApp, accountID, customerID)
	wamid := "wamid." + base64.StdEncoding.EncodeToString([]byte("\x15\x02\x00\x11\x18\x12"+customerID+randomHex(20)))
	msg := waInMessage{From: customerID, ID: wamid, Timestamp: strconv.FormatInt(now.Unix(), 10), Type: "text"}
	if in.kind == "text" {
		msg.Text = &waText{Body: in.text}
	} else {
		msg.Type = "interactive"
		msg.Interactive = &waInteractive{Type: "button_reply"}
		msg.Interactive.ButtonReply.ID, msg.Interactive.ButtonReply.Title = in.payload, in.text
	}
	contact := waContact{WaID: customerID}
	contact.Profile.Name = w.st.customerName(PlatformWhatsApp, accountID, customerID)
	display := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, n.DisplayPhoneNumber)
	hook := waHookIn{Object: "whatsapp_business_account", Entry: []waEntry{{ID: n.WABAID, Changes: []waChange{{
		Field: "messages",
		Value: waValue{MessagingProduct: "whatsapp", Metadata: waMetadata{DisplayPhoneNumber: display, PhoneNumberID: n.PhoneNumberID},
			Contacts: []waContact{contact}, Messages: []waInMessage{msg}},
	}}}}}
	return metaJSON(hook), wamid, nil
}

func (w *World) lineInbound(accountID, userID string, in customerAction, now time.Time) ([]byte, string, string, error) {
	a := w.st.lineAccount(accountID)
	if a == nil {
		return nil, "", "", fmt.Errorf("%w: LINE account %s", ErrNotFound, accountID)
	}
	if !lineUserIDRe.MatchString(userID) {
		return nil, "", "", fmt.Errorf("%w: LINE user id %q must be U followed by 32 hex digits", ErrBadCustomerID, userID)
	}
	u := w.st.lineUser(userID)
	if u == nil {
		u = &LINEUser{UserID: userID, DisplayName: "LINE user " + userID[len(userID)-4:], Friendship: map[string]Friendship{}}
		w.st.LINEUsers = append(w.st.LINEUsers, u)
	}
	if u.Friendship == nil {
		u.Friendship = map[string]Friendship{}
	}
	before := u.Friendship[a.BotUserID]
	if before == FriendshipBlocked && (in.kind == "text" || in.kind == "postback") {
		return nil, "", "", fmt.Errorf("%w: %s has blocked %s; follow (unblock) first", ErrBlocked, u.DisplayName, a.BasicID)
	}
	ev := lineEvent{Type: in.kind, WebhookEventID: ulid(now), Timestamp: now.UnixMilli(), Mode: "active"}
	ev.Source.Type, ev.Source.UserID = "user", userID
	id := randomDigits(18)
	switch in.kind {
	case "text":
		ev.Type = "message"
		ev.Message = &lineInMessage{ID: id, Type: "text", QuoteToken: randomString(40, base62+"-_"), Text: in.text}
	case "postback":
		ev.Postback = &linePostback{Data: in.payload}
	case "follow":
		ev.Follow = &lineFollow{IsUnblocked: before == FriendshipBlocked}
		u.Friendship[a.BotUserID] = FriendshipFriend
	case "unfollow":
		u.Friendship[a.BotUserID] = FriendshipBlocked
	}
	if in.kind != "unfollow" {
		ev.ReplyToken = randomString(32, base62)
		for k, rt := range w.st.ReplyTokens {
			if now.After(rt.ExpiresAt) {
				delete(w.st.ReplyTokens, k)
			}
		}
		w.st.ReplyTokens[ev.ReplyToken] = &replyToken{ChannelID: a.ChannelID, UserID: userID, ExpiresAt: now.Add(replyTokenTTL)}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // LINE sends plain UTF-8 JSON
	if err := enc.Encode(lineHookIn{Destination: a.BotUserID, Events: []lineEvent{ev}}); err != nil {
		return nil, "", "", err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), id, a.ChannelSecret, nil
}

// ulid makes a webhookEventId like LINE's: 48-bit millisecond time + 80 random bits in
// Crockford base32.
func ulid(now time.Time) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic("sandbox: crypto/rand failed: " + err.Error())
	}
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	out := make([]byte, 26)
	for i := 25; i >= 0; i-- {
		out[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out)
}
