package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// phoneFields are the WhatsApp phone-number fields the health check reads.
var phoneFields = []string{"verified_name", "code_verification_status", "display_phone_number", "quality_rating",
	"platform_type", "throughput", "name_status", "status", "id"}

var waMessageTypes = []string{"text", "interactive", "template", "image", "document", "video", "audio", "sticker", "location", "reaction"}

// waTokenFor reports whether a token may act for a phone number.
func waTokenFor(t *token, n *WhatsAppNumber) bool {
	return t != nil && t.Kind == kindSystemUser && t.AccountID == n.PhoneNumberID
}

// phoneNode serves /{phone-number-id} and /{phone-number-id}/messages.
func (w *World) phoneNode(rq *graphRequest, n *WhatsAppNumber, edge string) (any, *graphError) {
	t := rq.c.tok
	if !waTokenFor(t, n) {
		return nil, errUnsupported(rq.method, n.PhoneNumberID)
	}
	switch edge {
	case "":
		if rq.method != http.MethodGet {
			return nil, errUnsupported(rq.method, n.PhoneNumberID)
		}
		if !t.has("whatsapp_business_management") {
			return nil, errPermission("whatsapp_business_management")
		}
		fields, e := requestedFields(rq.params, strings.Join(phoneFields, ","))
		if e != nil {
			return nil, e
		}
		return phoneObject(n, fields)
	case "messages":
		if rq.method != http.MethodPost {
			return nil, errUnsupported(rq.method, n.PhoneNumberID+"/messages")
		}
		return w.sendWhatsApp(rq, n)
	}
	return nil, errNoField(edge, "WhatsAppBusinessPhoneNumber")
}

func phoneObject(n *WhatsAppNumber, fields []fieldSel) (map[string]any, *graphError) {
	out := map[string]any{"id": n.PhoneNumberID}
	for _, f := range fields {
		switch f.name {
		case "id":
		case "verified_name":
			out["verified_name"] = n.VerifiedName
		case "display_phone_number":
			out["display_phone_number"] = n.DisplayPhoneNumber
		case "quality_rating":
			out["quality_rating"] = n.QualityRating
		case "code_verification_status":
			out["code_verification_status"] = "VERIFIED"
		case "name_status":
			out["name_status"] = "APPROVED"
		case "platform_type":
			out["platform_type"] = "CLOUD_API"
		case "throughput":
			out["throughput"] = map[string]string{"level": "STANDARD"}
		case "status":
			out["status"] = n.serving()
		default:
			return nil, errNoField(f.name, "WhatsAppBusinessPhoneNumber")
		}
	}
	return out, nil
}

// wabaNode serves /{waba-id}, its phone_numbers and subscribed_apps.
func (w *World) wabaNode(rq *graphRequest, wabaID, edge string) (any, *graphError) {
	numbers := w.st.waba(wabaID)
	t := rq.c.tok
	if !slices.ContainsFunc(numbers, func(n *WhatsAppNumber) bool { return waTokenFor(t, n) }) {
		return nil, errUnsupported(rq.method, wabaID)
	}
	if edge != "subscribed_apps" && rq.method != http.MethodGet {
		return nil, errUnsupported(rq.method, wabaID)
	}
	switch edge {
	case "":
		fields, e := requestedFields(rq.params, "id,name")
		if e != nil {
			return nil, e
		}
		out := map[string]any{"id": wabaID}
		for _, f := range fields {
			switch f.name {
			case "id":
			case "name":
				out["name"] = numbers[0].WABAName
			case "currency":
				out["currency"] = "TWD"
			case "timezone_id":
				out["timezone_id"] = "98"
			default:
				return nil, errNoField(f.name, "WhatsAppBusinessAccount")
			}
		}
		return out, nil
	case "phone_numbers":
		fields, e := requestedFields(rq.params, strings.Join(phoneFields, ","))
		if e != nil {
			return nil, e
		}
		data := []map[string]any{}
		for _, n := range numbers {
			obj, e := phoneObject(n, fields)
			if e != nil {
				return nil, e
			}
			data = append(data, obj)
		}
		return map[string]any{"data": data}, nil
	case "subscribed_apps":
		return w.subscribedApps(rq, wabaID, false)
	}
	return nil, errNoField(edge, "WhatsAppBusinessAccount")
}

func waParamError(code int, msg, details string) *graphError {
	return &graphError{Status: 400, Code: code, Message: fmt.Sprintf("(#%d) %s", code, msg),
		Data: map[string]any{"messaging_product": "whatsapp", "details": details}}
}

// sendWhatsApp serves POST /{phone-number-id}/messages (Cloud API).
func (w *World) sendWhatsApp(rq *graphRequest, n *WhatsAppNumber) (any, *graphError) {
	if !rq.c.tok.has("whatsapp_business_messaging") {
		return nil, errPermission("whatsapp_business_messaging")
	}
	if e := errNumberOutOfService(n); e != nil {
		return nil, e
	}
	var body map[string]any
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return nil, errParam("Invalid parameter")
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	obj := func(m map[string]any, k string) map[string]any { o, _ := m[k].(map[string]any); return o }
	if str(body, "messaging_product") != "whatsapp" {
		return nil, errParam("The parameter messaging_product is required.")
	}
	to := str(body, "to")
	waID := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, to)
	if waID == "" {
		return nil, errParam("The parameter to is required.")
	}
	typ := str(body, "type")
	if typ == "" {
		typ = "text"
	}
	if !slices.Contains(waMessageTypes, typ) {
		return nil, errParam(fmt.Sprintf("Param type must be one of {%s} - got \"%s\"", strings.Join(waMessageTypes, ", "), typ))
	}
	summary := "[" + typ + "]"
	switch typ {
	case "text":
		text := str(obj(body, "text"), "body")
		if text == "" {
			return nil, errParam("The parameter text['body'] is required.")
		}
		if utf8.RuneCountInString(text) > 4096 {
			return nil, waParamError(131009, "Parameter value is not valid", "Param text['body'] must be at most 4096 characters long.")
		}
		summary = text
	case "interactive":
		in := obj(body, "interactive")
		text := str(obj(in, "body"), "text")
		if text == "" {
			return nil, waParamError(131008, "Required parameter is missing", "The parameter interactive['body']['text'] is required.")
		}
		if utf8.RuneCountInString(text) > 1024 {
			return nil, waParamError(131009, "Parameter value is not valid", "Param interactive['body']['text'] must be at most 1024 characters long.")
		}
		if str(in, "type") == "cta_url" {
			p := obj(obj(in, "action"), "parameters")
			if str(p, "url") == "" || str(p, "display_text") == "" {
				return nil, waParamError(131008, "Required parameter is missing", "The parameters interactive['action']['parameters']['url'] and ['display_text'] are required.")
			}
			if utf8.RuneCountInString(str(p, "display_text")) > 20 {
				return nil, waParamError(131009, "Parameter value is not valid", "Param interactive['action']['parameters']['display_text'] must be at most 20 characters long.")
			}
		}
		summary = text
	case "template":
		tpl := obj(body, "template")
		if str(tpl, "name") == "" || str(obj(tpl, "language"), "code") == "" {
			return nil, waParamError(131008, "Required parameter is missing", "The parameters template['name'] and template['language']['code'] are required.")
		}
		summary = "[template " + str(tpl, "name") + "]"
	}

	key := convKey(PlatformWhatsApp, n.PhoneNumberID, waID)
	if typ != "template" {
		if last, ok := w.st.LastInbound[key]; !ok || rq.now.Sub(last) >= messagingWindow {
			return nil, waParamError(131047, "Re-engagement message",
				"Message failed to send because more than 24 hours have passed since the customer last replied to this number.")
		}
	}
	wamid := "wamid." + base64.StdEncoding.EncodeToString([]byte("\x15\x02\x00\x11\x18\x12"+waID+randomHex(20)))
	raw, _ := json.Marshal(body)
	w.st.appendMessage(key, Message{ID: wamid, Direction: Outbound, Kind: typ, Text: summary, Payload: raw, Delivered: true, At: rq.now})
	w.changed()
	msg := map[string]any{"id": wamid}
	if typ == "template" {
		msg["message_status"] = "accepted"
	}
	return map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]string{{"input": to, "wa_id": waID}},
		"messages":          []map[string]any{msg},
	}, nil
}

// errNumberOutOfService is what sending from a number that is not CONNECTED answers.
// UNCONFIRMED: code 133010 ("Account not registered") is the closest documented error; the
// exact code for DISCONNECTED or BANNED numbers is not in protocols.md.
func errNumberOutOfService(n *WhatsAppNumber) *graphError {
	if n.serving() == "CONNECTED" {
		return nil
	}
	return &graphError{Status: 400, Code: 133010, Message: "(#133010) Account not registered", Type: "OAuthException"}
}
