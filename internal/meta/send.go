package meta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"
)

// MessagingType is the Send API's messaging_type.
type MessagingType string

// Messaging types accepted by the Messenger and Instagram Send API.
const (
	MessagingResponse   MessagingType = "RESPONSE"    // reply inside the 24-hour window
	MessagingUpdate     MessagingType = "UPDATE"      // proactive, inside the window
	MessagingMessageTag MessagingType = "MESSAGE_TAG" // outside the window; needs a tag
)

// TagHumanAgent lets a human reply up to seven days after the customer's last message.
const TagHumanAgent = "HUMAN_AGENT"

// Message is a Messenger / Instagram message body.
type Message struct {
	Text         string       `json:"text,omitempty"`
	Attachment   *Attachment  `json:"attachment,omitempty"`
	QuickReplies []QuickReply `json:"quick_replies,omitempty"`
}

// QuickReply is a tappable suggestion shown under a message.
type QuickReply struct {
	ContentType string `json:"content_type"` // "text"
	Title       string `json:"title,omitempty"`
	Payload     string `json:"payload,omitempty"`
	ImageURL    string `json:"image_url,omitempty"`
}

// Attachment is a message attachment: a template or a media file.
type Attachment struct {
	Type    string `json:"type"` // template, image, video, audio, file
	Payload any    `json:"payload"`
}

// MediaPayload is the payload of an image, video, audio or file attachment.
type MediaPayload struct {
	URL        string `json:"url"`
	IsReusable bool   `json:"is_reusable,omitempty"`
}

// TemplatePayload is the payload of a template attachment.
type TemplatePayload struct {
	TemplateType string    `json:"template_type"` // generic or button
	Text         string    `json:"text,omitempty"`
	Elements     []Element `json:"elements,omitempty"`
	Buttons      []Button  `json:"buttons,omitempty"`
}

// Element is one card of a generic template.
type Element struct {
	Title         string         `json:"title"`
	Subtitle      string         `json:"subtitle,omitempty"`
	ImageURL      string         `json:"image_url,omitempty"`
	DefaultAction *DefaultAction `json:"default_action,omitempty"`
	Buttons       []Button       `json:"buttons,omitempty"`
}

// DefaultAction is what tapping a generic-template card does.
type DefaultAction struct {
	Type string `json:"type"` // web_url
	URL  string `json:"url"`
}

// Button is a web_url or postback button.
type Button struct {
	Type    string `json:"type"` // web_url or postback
	Title   string `json:"title"`
	URL     string `json:"url,omitempty"`
	Payload string `json:"payload,omitempty"`
}

// URLButton returns a button that opens url.
func URLButton(title, url string) Button { return Button{Type: "web_url", Title: title, URL: url} }

// PostbackButton returns a button that sends payload back in a postback webhook.
func PostbackButton(title, payload string) Button {
	return Button{Type: "postback", Title: title, Payload: payload}
}

// TextMessage returns a plain text message.
func TextMessage(text string) Message { return Message{Text: text} }

// ImageMessage returns a message with an image fetched from url.
func ImageMessage(url string) Message {
	return Message{Attachment: &Attachment{Type: "image", Payload: MediaPayload{URL: url}}}
}

// GenericTemplateMessage returns a carousel of cards.
func GenericTemplateMessage(elements ...Element) Message {
	return Message{Attachment: &Attachment{Type: "template",
		Payload: TemplatePayload{TemplateType: "generic", Elements: elements}}}
}

// ButtonTemplateMessage returns text with up to three buttons.
func ButtonTemplateMessage(text string, buttons ...Button) Message {
	return Message{Attachment: &Attachment{Type: "template",
		Payload: TemplatePayload{TemplateType: "button", Text: text, Buttons: buttons}}}
}

// Limits of the Send API templates, checked by Validate.
const (
	MaxElements     = 10   // cards per generic template
	MaxButtons      = 3    // buttons per card or button template
	MaxTitleRunes   = 80   // element title and subtitle length
	MaxTextRunes    = 2000 // text message length
	MaxButtonTitles = 20   // button title length
)

// Validate checks the documented template limits, so a bad bot module is reported
// when it is saved instead of when Meta rejects a send.
func (m Message) Validate() error {
	if m.Text == "" && m.Attachment == nil {
		return errors.New("meta: message has neither text nor attachment")
	}
	if m.Text != "" && m.Attachment != nil {
		return errors.New("meta: message has both text and attachment")
	}
	if utf8.RuneCountInString(m.Text) > MaxTextRunes {
		return fmt.Errorf("meta: text longer than %d characters", MaxTextRunes)
	}
	if m.Attachment == nil {
		return nil
	}
	var tp TemplatePayload
	switch p := m.Attachment.Payload.(type) {
	case TemplatePayload:
		tp = p
	case *TemplatePayload:
		if p == nil {
			return errors.New("meta: empty template payload")
		}
		tp = *p
	default:
		return nil
	}
	switch tp.TemplateType {
	case "generic":
		if len(tp.Elements) == 0 || len(tp.Elements) > MaxElements {
			return fmt.Errorf("meta: generic template needs 1 to %d elements", MaxElements)
		}
		for i, e := range tp.Elements {
			if e.Title == "" || utf8.RuneCountInString(e.Title) > MaxTitleRunes {
				return fmt.Errorf("meta: element %d: title must be 1 to %d characters", i, MaxTitleRunes)
			}
			if utf8.RuneCountInString(e.Subtitle) > MaxTitleRunes {
				return fmt.Errorf("meta: element %d: subtitle longer than %d characters", i, MaxTitleRunes)
			}
			if e.Subtitle == "" && e.ImageURL == "" && e.DefaultAction == nil && len(e.Buttons) == 0 {
				return fmt.Errorf("meta: element %d: needs a subtitle, image, default action or button", i)
			}
			if err := validateButtons(e.Buttons); err != nil {
				return fmt.Errorf("meta: element %d: %w", i, err)
			}
		}
	case "button":
		if tp.Text == "" || utf8.RuneCountInString(tp.Text) > 640 {
			return errors.New("meta: button template text must be 1 to 640 characters")
		}
		if len(tp.Buttons) == 0 {
			return errors.New("meta: button template needs a button")
		}
		return validateButtons(tp.Buttons)
	default:
		return fmt.Errorf("meta: unknown template type %q", tp.TemplateType)
	}
	return nil
}

func validateButtons(bs []Button) error {
	if len(bs) > MaxButtons {
		return fmt.Errorf("more than %d buttons", MaxButtons)
	}
	for i, b := range bs {
		if b.Title == "" || utf8.RuneCountInString(b.Title) > MaxButtonTitles {
			return fmt.Errorf("button %d: title must be 1 to %d characters", i, MaxButtonTitles)
		}
		switch b.Type {
		case "web_url":
			if b.URL == "" {
				return fmt.Errorf("button %d: web_url without url", i)
			}
		case "postback":
			if b.Payload == "" {
				return fmt.Errorf("button %d: postback without payload", i)
			}
		default:
			return fmt.Errorf("button %d: unknown type %q", i, b.Type)
		}
	}
	return nil
}

// SendResult is the Send API's answer.
type SendResult struct {
	RecipientID string `json:"recipient_id"`
	MessageID   string `json:"message_id"`
}

type sendBody struct {
	Recipient struct {
		ID string `json:"id"`
	} `json:"recipient"`
	MessagingType MessagingType `json:"messaging_type"`
	Tag           string        `json:"tag,omitempty"`
	Message       any           `json:"message"`
}

// SendMessage sends message (a Message or any JSON-encodable equivalent) to a PSID or
// IGSID through the Page. Instagram messages go through the linked Page and its token.
func (c *Client) SendMessage(ctx context.Context, pageID, pageToken, recipientID string, messagingType MessagingType, message any) (SendResult, error) {
	return c.send(ctx, pageID, pageToken, recipientID, messagingType, "", message)
}

// SendTaggedMessage sends with messaging_type MESSAGE_TAG and the given tag, the only
// way to message a customer outside the 24-hour window (e.g. TagHumanAgent).
func (c *Client) SendTaggedMessage(ctx context.Context, pageID, pageToken, recipientID, tag string, message any) (SendResult, error) {
	if tag == "" {
		return SendResult{}, errors.New("meta: empty message tag")
	}
	return c.send(ctx, pageID, pageToken, recipientID, MessagingMessageTag, tag, message)
}

func (c *Client) send(ctx context.Context, pageID, token, recipientID string, mt MessagingType, tag string, message any) (SendResult, error) {
	if err := checkID(pageID); err != nil {
		return SendResult{}, err
	}
	if recipientID == "" {
		return SendResult{}, errors.New("meta: empty recipient id")
	}
	if message == nil {
		return SendResult{}, errors.New("meta: nil message")
	}
	if mt == "" {
		mt = MessagingResponse
	}
	b := sendBody{MessagingType: mt, Tag: tag, Message: message}
	b.Recipient.ID = recipientID
	var r SendResult
	err := c.do(ctx, call{method: http.MethodPost, path: graphPath(pageID, "messages"), body: b, token: token}, &r)
	return r, err
}

// WhatsAppMessage is the type-specific part of a WhatsApp Cloud API message; SendWhatsApp
// adds messaging_product, recipient_type and to.
type WhatsAppMessage struct {
	Type        string               `json:"type"` // text, image or interactive
	Text        *WhatsAppText        `json:"text,omitempty"`
	Image       *WhatsAppImage       `json:"image,omitempty"`
	Interactive *WhatsAppInteractive `json:"interactive,omitempty"`
	Template    *WhatsAppTemplateRef `json:"template,omitempty"`
}

// WhatsAppTemplateRef names an approved message template, the only kind of message WhatsApp
// delivers outside the customer's 24-hour window.
type WhatsAppTemplateRef struct {
	Name     string `json:"name"`
	Language struct {
		Code string `json:"code"`
	} `json:"language"`
}

// WhatsAppTemplateMessage returns a template message without parameters.
func WhatsAppTemplateMessage(name, languageCode string) WhatsAppMessage {
	t := &WhatsAppTemplateRef{Name: name}
	t.Language.Code = languageCode
	return WhatsAppMessage{Type: "template", Template: t}
}

// WhatsAppImage is an image message body, fetched by WhatsApp from Link.
type WhatsAppImage struct {
	Link    string `json:"link"`
	Caption string `json:"caption,omitempty"`
}

// WhatsAppImageMessage returns an image message with an optional caption.
func WhatsAppImageMessage(link, caption string) WhatsAppMessage {
	return WhatsAppMessage{Type: "image", Image: &WhatsAppImage{Link: link, Caption: caption}}
}

// WhatsAppText is a text message body.
type WhatsAppText struct {
	Body       string `json:"body"`
	PreviewURL bool   `json:"preview_url"`
}

// WhatsAppInteractive is an interactive message; omnilink uses type cta_url.
type WhatsAppInteractive struct {
	Type   string            `json:"type"`
	Header *WhatsAppHeader   `json:"header,omitempty"`
	Body   *WhatsAppBodyText `json:"body,omitempty"`
	Footer *WhatsAppBodyText `json:"footer,omitempty"`
	Action WhatsAppAction    `json:"action"`
}

// WhatsAppHeader is an interactive message header (text or image).
type WhatsAppHeader struct {
	Type  string         `json:"type"`
	Text  string         `json:"text,omitempty"`
	Image *WhatsAppMedia `json:"image,omitempty"`
}

// WhatsAppMedia refers to media by link.
type WhatsAppMedia struct {
	Link string `json:"link"`
}

// WhatsAppBodyText is the {"text": …} object used by body and footer.
type WhatsAppBodyText struct {
	Text string `json:"text"`
}

// WhatsAppAction is the action of a cta_url message.
type WhatsAppAction struct {
	Name       string               `json:"name"`
	Parameters WhatsAppCTAURLParams `json:"parameters"`
}

// WhatsAppCTAURLParams are the button label and target of a cta_url message.
type WhatsAppCTAURLParams struct {
	DisplayText string `json:"display_text"`
	URL         string `json:"url"`
}

// WhatsAppTextMessage returns a text message.
func WhatsAppTextMessage(body string, previewURL bool) WhatsAppMessage {
	return WhatsAppMessage{Type: "text", Text: &WhatsAppText{Body: body, PreviewURL: previewURL}}
}

// WhatsAppCTAURLMessage returns an interactive message with one button opening url.
func WhatsAppCTAURLMessage(body, displayText, url string) WhatsAppMessage {
	return WhatsAppMessage{Type: "interactive", Interactive: &WhatsAppInteractive{
		Type:   "cta_url",
		Body:   &WhatsAppBodyText{Text: body},
		Action: WhatsAppAction{Name: "cta_url", Parameters: WhatsAppCTAURLParams{DisplayText: displayText, URL: url}},
	}}
}

// WhatsAppSendResult is the Cloud API's answer to a send.
type WhatsAppSendResult struct {
	WAID      string // the recipient's WhatsApp id
	MessageID string // wamid
}

type whatsAppBody struct {
	MessagingProduct string `json:"messaging_product"`
	RecipientType    string `json:"recipient_type"`
	To               string `json:"to"`
	WhatsAppMessage
}

// SendWhatsApp sends payload to the WhatsApp user "to" (international digits, no "+")
// from the given business phone number.
func (c *Client) SendWhatsApp(ctx context.Context, phoneNumberID, token, to string, payload WhatsAppMessage) (WhatsAppSendResult, error) {
	if err := checkID(phoneNumberID); err != nil {
		return WhatsAppSendResult{}, err
	}
	if to == "" {
		return WhatsAppSendResult{}, errors.New("meta: empty WhatsApp recipient")
	}
	switch {
	case payload.Type == "text" && payload.Text != nil:
	case payload.Type == "interactive" && payload.Interactive != nil:
	case payload.Type == "image" && payload.Image != nil:
	case payload.Type == "template" && payload.Template != nil:
	default:
		return WhatsAppSendResult{}, fmt.Errorf("meta: WhatsApp message type %q without matching content", payload.Type)
	}
	b := whatsAppBody{MessagingProduct: "whatsapp", RecipientType: "individual", To: to, WhatsAppMessage: payload}
	var a struct {
		Contacts []struct {
			WAID string `json:"wa_id"`
		} `json:"contacts"`
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if err := c.do(ctx, call{method: http.MethodPost, path: graphPath(phoneNumberID, "messages"), body: b, token: token, bearer: true}, &a); err != nil {
		return WhatsAppSendResult{}, err
	}
	var r WhatsAppSendResult
	if len(a.Contacts) > 0 {
		r.WAID = a.Contacts[0].WAID
	}
	if len(a.Messages) > 0 {
		r.MessageID = a.Messages[0].ID
	}
	if r.MessageID == "" {
		return r, errors.New("meta: WhatsApp send answered without a message id")
	}
	return r, nil
}
