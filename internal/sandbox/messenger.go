package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// pageWebhookFields are the fields the Page subscribed_apps edge accepts (Graph's Page webhook
// reference). Instagram's fields are not among them: messaging_seen, for one, is refused here,
// since Messenger's read receipt is message_reads.
var pageWebhookFields = []string{
	"feed", "mention", "name", "picture", "category", "description", "conversations", "inbox_labels",
	"messages", "messaging_postbacks", "messaging_optins", "messaging_optouts", "message_deliveries",
	"message_reads", "message_echoes", "message_reactions", "message_edits", "messaging_referrals",
	"messaging_account_linking", "messaging_handovers", "messaging_policy_enforcement",
	"messaging_game_plays", "messaging_payments", "messaging_pre_checkouts", "messaging_checkout_updates",
	"messaging_customer_information", "messaging_feedback", "standby", "response_feedback",
}

// messengerTags are the message tags Messenger accepts outside the 24-hour window.
var messengerTags = []string{"HUMAN_AGENT", "ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE"}

func errPageTokenRequired() *graphError {
	return &graphError{Status: 400, Code: 210, Message: "(#210) A page access token is required to request this resource."}
}

// subscribedApps serves GET|POST|DELETE /{page-id}/subscribed_apps and the WABA equivalent.
func (w *World) subscribedApps(rq *graphRequest, objectID string, page bool) (any, *graphError) {
	t := rq.c.tok
	if page {
		if t.Kind != kindPage {
			return nil, errPageTokenRequired()
		}
		tasks := w.st.role(t.UserID, objectID)
		if !slices.Contains(tasks, "MODERATE") && !slices.Contains(tasks, "MANAGE") {
			return nil, &graphError{Status: 403, Code: 200, Message: "(#200) The user must be an admin, editor, or moderator of the page in order to impersonate it."}
		}
	}
	switch rq.method {
	case http.MethodGet:
		fields, ok := w.st.Subscriptions[objectID]
		data := []map[string]any{}
		if ok && page {
			data = append(data, map[string]any{"id": w.appID, "name": appName, "link": "https://github.com/omnilink/omnilink",
				"category": "Business", "subscribed_fields": fields})
		} else if ok {
			data = append(data, map[string]any{"whatsapp_business_api_data": map[string]any{
				"id": w.appID, "name": appName, "link": "https://github.com/omnilink/omnilink"}})
		}
		return map[string]any{"data": data}, nil
	case http.MethodPost:
		var fields []string
		if page {
			if !t.has("pages_manage_metadata") {
				return nil, errPermission("pages_manage_metadata")
			}
			raw := rq.params.Get("subscribed_fields")
			if raw == "" {
				return nil, errParam("The parameter subscribed_fields is required")
			}
			for i, f := range strings.Split(raw, ",") {
				f = strings.TrimSpace(f)
				if !slices.Contains(pageWebhookFields, f) {
					return nil, errParam(fmt.Sprintf("Param subscribed_fields[%d] must be one of {%s} - got \"%s\"", i, strings.Join(pageWebhookFields, ", "), f))
				}
				if !slices.Contains(fields, f) {
					fields = append(fields, f)
				}
			}
		} else {
			fields = []string{"messages"}
		}
		w.st.Subscriptions[objectID] = fields
		w.changed()
		return map[string]any{"success": true}, nil
	case http.MethodDelete:
		delete(w.st.Subscriptions, objectID)
		w.changed()
		return map[string]any{"success": true}, nil
	}
	return nil, errUnsupported(rq.method, objectID+"/subscribed_apps")
}

// sendRequest is the Send API body, as JSON or as form fields holding JSON.
type sendRequest struct {
	Recipient struct {
		ID string `json:"id"`
	} `json:"recipient"`
	MessagingType string          `json:"messaging_type"`
	Tag           string          `json:"tag"`
	Message       json.RawMessage `json:"message"`
	SenderAction  string          `json:"sender_action"`
}

func parseSendRequest(rq *graphRequest) (*sendRequest, *graphError) {
	var s sendRequest
	if len(strings.TrimSpace(string(rq.body))) > 0 {
		if err := json.Unmarshal(rq.body, &s); err != nil {
			return nil, errParam("Invalid JSON body: " + err.Error())
		}
		return &s, nil
	}
	if r := rq.params.Get("recipient"); r != "" {
		if err := json.Unmarshal([]byte(r), &s.Recipient); err != nil {
			return nil, errParam("param recipient must be a JSON object")
		}
	}
	if m := rq.params.Get("message"); m != "" {
		s.Message = json.RawMessage(m)
	}
	s.MessagingType, s.Tag, s.SenderAction = rq.params.Get("messaging_type"), rq.params.Get("tag"), rq.params.Get("sender_action")
	return &s, nil
}

// sendMessenger serves the Send API for Messenger and for Instagram via the linked Page.
// igID is set when the call came to /{ig-user-id}/messages.
func (w *World) sendMessenger(rq *graphRequest, p *Page, igID string) (any, *graphError) {
	t := rq.c.tok
	if t.Kind != kindPage {
		return nil, errPageTokenRequired()
	}
	s, e := parseSendRequest(rq)
	if e != nil {
		return nil, e
	}
	rid := s.Recipient.ID
	if rid == "" {
		return nil, errParam("The parameter recipient is required")
	}
	platform, account := PlatformFacebook, p.ID
	switch {
	case igID != "":
		platform, account = PlatformInstagram, igID
	case w.st.knownCustomer(PlatformFacebook, p.ID, rid):
	case p.InstagramID != "" && w.st.knownCustomer(PlatformInstagram, p.InstagramID, rid):
		platform, account = PlatformInstagram, p.InstagramID
	}
	rq.c.bucType = "messenger"
	need := "pages_messaging"
	if platform == PlatformInstagram {
		rq.c.bucType, need = "instagram", "instagram_manage_messages"
	}
	if !t.has(need) {
		return nil, errPermission(need)
	}
	if !w.st.knownCustomer(platform, account, rid) {
		return nil, &graphError{Status: 400, Code: 100, Subcode: 2018001, Message: "(#100) No matching user found"}
	}

	msgType := s.MessagingType
	if msgType == "" {
		msgType = "RESPONSE"
	}
	switch msgType {
	case "RESPONSE", "UPDATE":
	case "MESSAGE_TAG":
		allowed := messengerTags
		if platform == PlatformInstagram {
			allowed = []string{"HUMAN_AGENT"}
		}
		if !slices.Contains(allowed, s.Tag) {
			return nil, errParam(fmt.Sprintf("Param tag must be one of {%s} - got \"%s\"", strings.Join(allowed, ", "), s.Tag))
		}
	default:
		return nil, errParam(fmt.Sprintf("Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG} - got \"%s\"", msgType))
	}

	var msg map[string]any
	kind, summary := "", ""
	if s.SenderAction == "" {
		if len(s.Message) == 0 || json.Unmarshal(s.Message, &msg) != nil || len(msg) == 0 {
			return nil, errParam("Must send either message or sender_action")
		}
		var e *graphError
		if kind, summary, e = checkMetaMessage(msg); e != nil {
			return nil, e
		}
	} else if !slices.Contains([]string{"mark_seen", "typing_on", "typing_off"}, s.SenderAction) {
		return nil, errParam("Param sender_action must be one of {mark_seen, typing_on, typing_off} - got \"" + s.SenderAction + "\"")
	}

	key := convKey(platform, account, rid)
	window := messagingWindow
	if msgType == "MESSAGE_TAG" {
		window = humanAgentTTL
		if s.Tag != "HUMAN_AGENT" {
			window = 0 // the other Messenger tags are not bound to a window
		}
	}
	if last, ok := w.st.LastInbound[key]; window > 0 && (!ok || rq.now.Sub(last) >= window) {
		sub := 2018278
		if platform == PlatformInstagram {
			sub = 2534022
		}
		return nil, &graphError{Status: 400, Code: 10, Subcode: sub,
			Message: "(#10) This message is sent outside of allowed window. Learn more about the new policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview"}
	}
	if s.SenderAction != "" {
		return map[string]any{"recipient_id": rid}, nil
	}
	mid := "m_" + randomString(86, base62+"-_")
	if platform == PlatformInstagram {
		mid = base64.RawStdEncoding.EncodeToString([]byte("ig_item:1:IGMessageThread:" + account + ":" + randomDigits(39)))
	}
	w.st.appendMessage(key, Message{ID: mid, Direction: Outbound, Kind: kind, Text: summary, Payload: s.Message, Delivered: true, At: rq.now})
	w.changed()
	return map[string]any{"recipient_id": rid, "message_id": mid}, nil
}

// checkMetaMessage validates a Send API message object the way Graph does for the shapes
// omnilink sends (text, attachments, generic and button templates, quick replies).
func checkMetaMessage(msg map[string]any) (kind, summary string, e *graphError) {
	if text, ok := msg["text"].(string); ok {
		if text == "" {
			return "", "", errParam("param message[text] must be non-empty.")
		}
		if utf8.RuneCountInString(text) > 2000 {
			return "", "", errParam("Length of param message[text] must be less than or equal to 2000")
		}
		return "text", text, nil
	}
	att, ok := msg["attachment"].(map[string]any)
	if !ok {
		return "", "", errParam("param message must contain text or attachment")
	}
	typ, _ := att["type"].(string)
	payload, _ := att["payload"].(map[string]any)
	if typ != "template" {
		if url, _ := payload["url"].(string); url == "" && payload["attachment_id"] == nil {
			return "", "", errParam("param message[attachment][payload][url] must be a valid URL")
		}
		return typ, "[" + typ + "]", nil
	}
	tt, _ := payload["template_type"].(string)
	switch tt {
	case "generic":
		elements, _ := payload["elements"].([]any)
		if len(elements) == 0 || len(elements) > 10 {
			return "", "", errParam("param message[attachment][payload][elements] must have between 1 and 10 elements")
		}
		var titles []string
		for i, el := range elements {
			m, _ := el.(map[string]any)
			title, _ := m["title"].(string)
			if title == "" {
				return "", "", errParam(fmt.Sprintf("Param message[attachment][payload][elements][%d][title] must be a non-empty UTF-8 encoded string", i))
			}
			if utf8.RuneCountInString(title) > 80 {
				return "", "", errParam(fmt.Sprintf("Length of param message[attachment][payload][elements][%d][title] must be less than or equal to 80", i))
			}
			if b, _ := m["buttons"].([]any); len(b) > 3 {
				return "", "", errParam(fmt.Sprintf("param message[attachment][payload][elements][%d][buttons] must have at most 3 elements", i))
			}
			titles = append(titles, title)
		}
		return "template", strings.Join(titles, " / "), nil
	case "button":
		text, _ := payload["text"].(string)
		if text == "" {
			return "", "", errParam("param message[attachment][payload][text] must be non-empty.")
		}
		if b, _ := payload["buttons"].([]any); len(b) == 0 || len(b) > 3 {
			return "", "", errParam("param message[attachment][payload][buttons] must have between 1 and 3 elements")
		}
		return "template", text, nil
	}
	return "", "", errParam("param message[attachment][payload][template_type] must be one of {generic, button} - got \"" + tt + "\"")
}

// Direction says who sent a conversation message.
type Direction string

// Message directions.
const (
	Inbound  Direction = "inbound"  // customer → business
	Outbound Direction = "outbound" // business → customer
)

// Message is one entry of a conversation log.
type Message struct {
	ID        string          `json:"id"` // mid, wamid or LINE message id
	Direction Direction       `json:"direction"`
	Kind      string          `json:"kind"`           // text, template, flex, postback, follow, unfollow, …
	Text      string          `json:"text,omitempty"` // text, or a readable summary of a rich message
	Payload   json.RawMessage `json:"payload,omitempty"`
	Delivered bool            `json:"delivered"` // false for LINE pushes to users who blocked the account
	At        time.Time       `json:"at"`
}

func convKey(p Platform, accountID, customerID string) string {
	return string(p) + "|" + accountID + "|" + customerID
}

func (s *state) appendMessage(key string, m Message) {
	s.Conversations[key] = append(s.Conversations[key], m)
}

// Conversation returns both directions of a customer's conversation with an account, oldest
// first. accountID is the Page id, IG account id, WhatsApp phone-number id or LINE bot user
// id (a LINE channel id works too).
func (w *World) Conversation(p Platform, accountID, customerID string) []Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	accountID = w.st.canonicalAccount(p, accountID)
	return slices.Clone(w.st.Conversations[convKey(p, accountID, customerID)])
}
