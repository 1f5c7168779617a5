package messaging

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/models"
)

// Limits are one platform's sizes, checked when a message is rendered so that content the
// platform would refuse is reported to the person who wrote it, not discovered at send time.
type Limits struct {
	Text        int // a text block
	ButtonsText int // the text above a button list
	Title       int // a card's title
	Subtitle    int // a card's text
	ButtonLabel int // a button's label
	Payload     int // a postback button's payload
	Parts       int // platform messages per send (0: no limit)
}

// PlatformLimits is the one table of documented limits, per platform.
var PlatformLimits = map[models.Platform]Limits{
	// Send API: text 2000, button template text 640, generic title/subtitle 80, button title 20.
	models.Facebook: {Text: 2000, ButtonsText: 640, Title: 80, Subtitle: 80, ButtonLabel: 20, Payload: 1000},
	// Instagram renders button lists as a generic template too, so their text is a title.
	// UNCONFIRMED: Instagram's text limit is documented as 1000 bytes; counted here as characters.
	models.Instagram: {Text: 1000, ButtonsText: 80, Title: 80, Subtitle: 80, ButtonLabel: 20, Payload: 1000},
	// Messaging API: text 5000, five messages per push, postback data 300.
	// UNCONFIRMED: LINE documents no label limit for Flex buttons; 40 keeps them on one line.
	models.LINE: {Text: 5000, ButtonsText: 2000, Title: 400, Subtitle: 2000, ButtonLabel: 40, Payload: 300, Parts: line.MaxMessages},
	// Cloud API: text 4096, interactive body 1024 (the title and text of a card share it),
	// cta_url display_text 20.
	models.WhatsApp: {Text: 4096, ButtonsText: 1024, Title: 1024, Subtitle: 1024, ButtonLabel: 20},
}

// LimitError says which part of the content a platform cannot take. It travels inside an
// *apperr.Error whose key (messaging.limit.*) explains it in the user's language.
type LimitError struct {
	Platform models.Platform
	Block    int    // 1-based block number; 0 for the whole message
	Rule     string // the last part of the i18n key
	Limit    int
}

// Error describes the problem for logs.
func (e *LimitError) Error() string {
	s := fmt.Sprintf("messaging: %s: %s", e.Platform, e.Rule)
	if e.Block > 0 {
		s += fmt.Sprintf(" (block %d)", e.Block)
	}
	if e.Limit > 0 {
		s += fmt.Sprintf(" (limit %d)", e.Limit)
	}
	return s
}

func limitErr(p models.Platform, block int, field, rule string, limit int) error {
	f := "blocks"
	if block > 0 {
		f = fmt.Sprintf("blocks[%d].%s", block-1, field)
	}
	return &apperr.Error{
		Status: http.StatusUnprocessableEntity,
		Key:    "messaging.limit." + rule,
		Field:  f,
		Args:   map[string]any{"Platform": string(p), "Block": block, "Limit": limit},
		Err:    &LimitError{Platform: p, Block: block, Rule: rule, Limit: limit},
	}
}

// Part is one platform message, rendered: Body is the JSON the platform's send call takes.
type Part struct {
	Kind    models.BlockKind `json:"kind"`
	Summary string           `json:"summary"` // kept as the message's body in our records
	Body    json.RawMessage  `json:"body"`
}

func runes(s string) int { return utf8.RuneCountInString(s) }

func webURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func httpsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != ""
}

// checkCommon applies the rules every platform shares.
func checkCommon(p models.Platform, c models.Content) error {
	lim := PlatformLimits[p]
	if len(c.Blocks) == 0 {
		return limitErr(p, 0, "", "empty", 0)
	}
	for i, b := range c.Blocks {
		n := i + 1
		switch b.Kind {
		case models.BlockText:
			if strings.TrimSpace(b.Text) == "" {
				return limitErr(p, n, "text", "text_required", 0)
			}
			if runes(b.Text) > lim.Text {
				return limitErr(p, n, "text", "text_too_long", lim.Text)
			}
		case models.BlockImage:
			if !httpsURL(b.ImageURL) {
				return limitErr(p, n, "image_url", "image_https", 0)
			}
		case models.BlockButtons:
			if strings.TrimSpace(b.Text) == "" {
				return limitErr(p, n, "text", "text_required", 0)
			}
			if runes(b.Text) > lim.ButtonsText {
				return limitErr(p, n, "text", "text_too_long", lim.ButtonsText)
			}
			if len(b.Buttons) == 0 {
				return limitErr(p, n, "buttons", "buttons_required", 0)
			}
		case models.BlockCard:
			if strings.TrimSpace(b.Title) == "" {
				return limitErr(p, n, "title", "title_required", 0)
			}
			if runes(b.Title) > lim.Title {
				return limitErr(p, n, "title", "title_too_long", lim.Title)
			}
			if runes(b.Text) > lim.Subtitle {
				return limitErr(p, n, "text", "text_too_long", lim.Subtitle)
			}
			if b.ImageURL != "" && !httpsURL(b.ImageURL) {
				return limitErr(p, n, "image_url", "image_https", 0)
			}
		default:
			return limitErr(p, n, "kind", "unknown_block", 0)
		}
		if len(b.Buttons) > models.MaxBlockButtons {
			return limitErr(p, n, "buttons", "too_many_buttons", models.MaxBlockButtons)
		}
		for _, bt := range b.Buttons {
			if strings.TrimSpace(bt.Label) == "" {
				return limitErr(p, n, "buttons", "label_required", 0)
			}
			if runes(bt.Label) > lim.ButtonLabel {
				return limitErr(p, n, "buttons", "label_too_long", lim.ButtonLabel)
			}
			switch bt.Kind {
			case models.ButtonURL:
				if !webURL(bt.URL) {
					return limitErr(p, n, "buttons", "button_url", 0)
				}
			case models.ButtonPostback:
				if bt.Payload == "" {
					return limitErr(p, n, "buttons", "payload_required", 0)
				}
				if lim.Payload > 0 && runes(bt.Payload) > lim.Payload {
					return limitErr(p, n, "buttons", "payload_too_long", lim.Payload)
				}
			default:
				return limitErr(p, n, "buttons", "unknown_button", 0)
			}
		}
	}
	return nil
}

// Render turns content into the platform messages a channel on p sends, or a limit error
// (an *apperr.Error carrying a *LimitError) when p cannot take it.
func Render(p models.Platform, c models.Content) ([]Part, error) {
	if _, ok := PlatformLimits[p]; !ok {
		return nil, fmt.Errorf("messaging: unknown platform %q", p)
	}
	if err := checkCommon(p, c); err != nil {
		return nil, err
	}
	var parts []Part
	for i, b := range c.Blocks {
		var body any
		var err error
		switch p {
		case models.Facebook, models.Instagram:
			body = renderMeta(p, b)
		case models.LINE:
			body = renderLINE(b)
		case models.WhatsApp:
			body, err = renderWhatsApp(b, i+1)
		}
		if err != nil {
			return nil, err
		}
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("messaging: encode block %d: %w", i+1, err)
		}
		parts = append(parts, Part{Kind: b.Kind, Summary: summary(b), Body: raw})
	}
	if lim := PlatformLimits[p].Parts; lim > 0 && len(parts) > lim {
		return nil, limitErr(p, 0, "", "too_many_parts", lim)
	}
	return parts, nil
}

// summary is what our records keep of a block: its words, or its image.
func summary(b models.Block) string {
	var s []string
	for _, t := range []string{b.Title, b.Text} {
		if t != "" {
			s = append(s, t)
		}
	}
	if len(s) == 0 && b.ImageURL != "" {
		return "[image] " + b.ImageURL
	}
	return strings.Join(s, "\n")
}

func metaButtons(bs []models.Button) []meta.Button {
	var out []meta.Button
	for _, b := range bs {
		if b.Kind == models.ButtonURL {
			out = append(out, meta.URLButton(b.Label, b.URL))
		} else {
			out = append(out, meta.PostbackButton(b.Label, b.Payload))
		}
	}
	return out
}

// renderMeta renders for Messenger and Instagram: text, image attachment, button template
// (Messenger) or generic template.
func renderMeta(p models.Platform, b models.Block) meta.Message {
	switch b.Kind {
	case models.BlockImage:
		return meta.ImageMessage(b.ImageURL)
	case models.BlockButtons:
		if p == models.Instagram {
			return meta.GenericTemplateMessage(meta.Element{Title: b.Text, Buttons: metaButtons(b.Buttons)})
		}
		return meta.ButtonTemplateMessage(b.Text, metaButtons(b.Buttons)...)
	case models.BlockCard:
		e := meta.Element{Title: b.Title, Subtitle: b.Text, ImageURL: b.ImageURL, Buttons: metaButtons(b.Buttons)}
		if e.Subtitle == "" && e.ImageURL == "" && len(e.Buttons) == 0 {
			// Graph wants more than a title on a card; a lone title goes out as text.
			return meta.TextMessage(b.Title)
		}
		return meta.GenericTemplateMessage(e)
	}
	return meta.TextMessage(b.Text)
}

// lineImage is a LINE image message.
type lineImage struct {
	Type               string `json:"type"`
	OriginalContentURL string `json:"originalContentUrl"`
	PreviewImageURL    string `json:"previewImageUrl"`
}

// maxAltText is LINE's limit on a Flex message's notification text.
const maxAltText = 1500

func altText(b models.Block) string {
	s := summary(b)
	if runes(s) > maxAltText {
		s = string([]rune(s)[:maxAltText-1]) + "…"
	}
	return s
}

func lineAction(b models.Button) map[string]any {
	if b.Kind == models.ButtonURL {
		return map[string]any{"type": "uri", "label": b.Label, "uri": b.URL}
	}
	return map[string]any{"type": "postback", "label": b.Label, "data": b.Payload, "displayText": b.Label}
}

// renderLINE renders text as a text message, an image as an image message, and cards and
// button lists as a Flex bubble: hero image, body (title, text), footer buttons.
func renderLINE(b models.Block) any {
	switch b.Kind {
	case models.BlockImage:
		return lineImage{Type: "image", OriginalContentURL: b.ImageURL, PreviewImageURL: b.ImageURL}
	case models.BlockButtons, models.BlockCard:
		bubble := map[string]any{"type": "bubble"}
		if b.ImageURL != "" {
			bubble["hero"] = map[string]any{"type": "image", "url": b.ImageURL, "size": "full", "aspectRatio": "20:13", "aspectMode": "cover"}
		}
		var body []any
		if b.Title != "" {
			body = append(body, map[string]any{"type": "text", "text": b.Title, "weight": "bold", "size": "lg", "wrap": true})
		}
		if b.Text != "" {
			body = append(body, map[string]any{"type": "text", "text": b.Text, "wrap": true, "size": "sm"})
		}
		bubble["body"] = map[string]any{"type": "box", "layout": "vertical", "spacing": "sm", "contents": body}
		if len(b.Buttons) > 0 {
			var btns []any
			for i, bt := range b.Buttons {
				style := "link"
				if i == 0 {
					style = "primary"
				}
				btns = append(btns, map[string]any{"type": "button", "style": style, "action": lineAction(bt)})
			}
			bubble["footer"] = map[string]any{"type": "box", "layout": "vertical", "spacing": "sm", "contents": btns}
		}
		return line.NewFlex(altText(b), bubble)
	}
	return line.NewText(b.Text)
}

// renderWhatsApp renders text as text, an image as an image message, and a card or button
// list as an interactive cta_url message (image header when the card has one). cta_url has
// exactly one link button, so more buttons, or a postback, cannot be rendered.
func renderWhatsApp(b models.Block, n int) (any, error) {
	switch b.Kind {
	case models.BlockImage:
		return meta.WhatsAppImageMessage(b.ImageURL, ""), nil
	case models.BlockButtons, models.BlockCard:
		body := b.Text
		if b.Title != "" && body != "" {
			body = b.Title + "\n\n" + body
		} else if b.Title != "" {
			body = b.Title
		}
		if runes(body) > PlatformLimits[models.WhatsApp].ButtonsText {
			return nil, limitErr(models.WhatsApp, n, "text", "text_too_long", PlatformLimits[models.WhatsApp].ButtonsText)
		}
		if len(b.Buttons) == 0 {
			if b.ImageURL != "" {
				return meta.WhatsAppImageMessage(b.ImageURL, body), nil
			}
			return meta.WhatsAppTextMessage(body, false), nil
		}
		if len(b.Buttons) > 1 || b.Buttons[0].Kind != models.ButtonURL {
			return nil, limitErr(models.WhatsApp, n, "buttons", "whatsapp_one_link", 1)
		}
		m := meta.WhatsAppCTAURLMessage(body, b.Buttons[0].Label, b.Buttons[0].URL)
		if b.ImageURL != "" {
			m.Interactive.Header = &meta.WhatsAppHeader{Type: "image", Image: &meta.WhatsAppMedia{Link: b.ImageURL}}
		}
		return m, nil
	}
	return meta.WhatsAppTextMessage(b.Text, strings.Contains(b.Text, "https://")), nil
}
