package ui

import (
	"encoding/json"
	"slices"

	"github.com/omnilink/omnilink/internal/sandbox"
	sbview "github.com/omnilink/omnilink/views/sandbox"
)

// rich reads what the business sent as a phone shows it: Messenger/Instagram generic and
// button templates and image attachments, LINE flex bubbles, button templates and images,
// WhatsApp cta_url messages (with their image header) and images. Plain text returns nil.
func rich(p sandbox.Platform, m sandbox.Message) *sbview.RichVM {
	if m.Direction != sandbox.Outbound || len(m.Payload) == 0 {
		return nil
	}
	switch p {
	case sandbox.PlatformLINE:
		return richLINE(m.Payload)
	case sandbox.PlatformWhatsApp:
		return richWhatsApp(m.Payload)
	}
	return richMeta(m.Payload)
}

type metaButton struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	URL     string `json:"url"`
	Payload string `json:"payload"`
}

func metaButtons(bs []metaButton) []sbview.TapVM {
	var out []sbview.TapVM
	for _, b := range bs {
		out = append(out, sbview.TapVM{Label: b.Title, URL: b.URL, Payload: b.Payload, Postback: b.Type == "postback"})
	}
	return out
}

func richMeta(raw json.RawMessage) *sbview.RichVM {
	var msg struct {
		Attachment *struct {
			Type    string `json:"type"`
			Payload struct {
				URL          string       `json:"url"`
				TemplateType string       `json:"template_type"`
				Text         string       `json:"text"`
				Buttons      []metaButton `json:"buttons"`
				Elements     []struct {
					Title    string       `json:"title"`
					Subtitle string       `json:"subtitle"`
					ImageURL string       `json:"image_url"`
					Buttons  []metaButton `json:"buttons"`
				} `json:"elements"`
			} `json:"payload"`
		} `json:"attachment"`
	}
	if json.Unmarshal(raw, &msg) != nil || msg.Attachment == nil {
		return nil
	}
	a := msg.Attachment
	switch {
	case a.Type == "image":
		return &sbview.RichVM{ImageURL: a.Payload.URL}
	case a.Type == "template" && a.Payload.TemplateType == "button":
		return &sbview.RichVM{Cards: []sbview.CardVM{{Text: a.Payload.Text, Buttons: metaButtons(a.Payload.Buttons)}}}
	case a.Type == "template" && a.Payload.TemplateType == "generic":
		r := &sbview.RichVM{}
		for _, e := range a.Payload.Elements {
			r.Cards = append(r.Cards, sbview.CardVM{ImageURL: e.ImageURL, Square: true, Title: e.Title, Text: e.Subtitle, Buttons: metaButtons(e.Buttons)})
		}
		return r
	}
	return nil
}

type lineAction struct {
	Type  string `json:"type"`
	Label string `json:"label"`
	URI   string `json:"uri"`
	Data  string `json:"data"`
	Text  string `json:"displayText"`
}

func (a lineAction) tap() sbview.TapVM {
	return sbview.TapVM{Label: a.Label, URL: a.URI, Payload: a.Data, Postback: a.Type == "postback"}
}

type lineBox struct {
	Type     string     `json:"type"`
	Text     string     `json:"text"`
	URL      string     `json:"url"`
	Weight   string     `json:"weight"`
	Action   lineAction `json:"action"`
	Contents []lineBox  `json:"contents"`
}

// walk collects a flex box's texts and buttons, depth first, in order.
func (b lineBox) walk(c *sbview.CardVM) {
	switch b.Type {
	case "text":
		if b.Weight == "bold" && c.Title == "" {
			c.Title = b.Text
		} else if c.Text == "" {
			c.Text = b.Text
		} else {
			c.Text += "\n" + b.Text
		}
	case "button":
		c.Buttons = append(c.Buttons, b.Action.tap())
	case "image":
		if c.ImageURL == "" {
			c.ImageURL = b.URL
		}
	}
	for _, k := range b.Contents {
		k.walk(c)
	}
}

func richLINE(raw json.RawMessage) *sbview.RichVM {
	var msg struct {
		Type               string `json:"type"`
		OriginalContentURL string `json:"originalContentUrl"`
		Contents           *struct {
			Type   string   `json:"type"`
			Hero   *lineBox `json:"hero"`
			Header *lineBox `json:"header"`
			Body   *lineBox `json:"body"`
			Footer *lineBox `json:"footer"`
		} `json:"contents"`
		Template *struct {
			Type              string       `json:"type"`
			ThumbnailImageURL string       `json:"thumbnailImageUrl"`
			Title             string       `json:"title"`
			Text              string       `json:"text"`
			Actions           []lineAction `json:"actions"`
		} `json:"template"`
	}
	if json.Unmarshal(raw, &msg) != nil {
		return nil
	}
	switch {
	case msg.Type == "image":
		return &sbview.RichVM{ImageURL: msg.OriginalContentURL}
	case msg.Type == "flex" && msg.Contents != nil && msg.Contents.Type == "bubble":
		c := sbview.CardVM{Flex: true}
		for _, b := range []*lineBox{msg.Contents.Hero, msg.Contents.Header, msg.Contents.Body, msg.Contents.Footer} {
			if b != nil {
				b.walk(&c)
			}
		}
		return &sbview.RichVM{Cards: []sbview.CardVM{c}}
	case msg.Type == "template" && msg.Template != nil:
		c := sbview.CardVM{ImageURL: msg.Template.ThumbnailImageURL, Title: msg.Template.Title, Text: msg.Template.Text}
		for _, a := range msg.Template.Actions {
			c.Buttons = append(c.Buttons, a.tap())
		}
		return &sbview.RichVM{Cards: []sbview.CardVM{c}}
	}
	return nil
}

func richWhatsApp(raw json.RawMessage) *sbview.RichVM {
	var msg struct {
		Type  string `json:"type"`
		Image *struct {
			Link    string `json:"link"`
			Caption string `json:"caption"`
		} `json:"image"`
		Interactive *struct {
			Type   string `json:"type"`
			Header *struct {
				Type  string `json:"type"`
				Text  string `json:"text"`
				Image *struct {
					Link string `json:"link"`
				} `json:"image"`
			} `json:"header"`
			Body   struct{ Text string }  `json:"body"`
			Footer *struct{ Text string } `json:"footer"`
			Action struct {
				Name       string `json:"name"`
				Parameters struct {
					DisplayText string `json:"display_text"`
					URL         string `json:"url"`
				} `json:"parameters"`
			} `json:"action"`
		} `json:"interactive"`
	}
	if json.Unmarshal(raw, &msg) != nil {
		return nil
	}
	switch {
	case msg.Type == "image" && msg.Image != nil:
		return &sbview.RichVM{Cards: []sbview.CardVM{{ImageURL: msg.Image.Link, Text: msg.Image.Caption}}}
	case msg.Type == "interactive" && msg.Interactive != nil && msg.Interactive.Type == "cta_url":
		in := msg.Interactive
		c := sbview.CardVM{Text: in.Body.Text}
		if in.Header != nil {
			if in.Header.Image != nil {
				c.ImageURL = in.Header.Image.Link
			}
			c.Title = in.Header.Text
		}
		if in.Footer != nil {
			c.Footer = in.Footer.Text
		}
		c.Buttons = []sbview.TapVM{{Label: in.Action.Parameters.DisplayText, URL: in.Action.Parameters.URL}}
		return &sbview.RichVM{Cards: []sbview.CardVM{c}}
	}
	return nil
}

// offered reports whether the business sent the customer a postback button with payload: a
// customer can only tap buttons they were shown.
func offered(p sandbox.Platform, conv []sandbox.Message, payload string) (title string, ok bool) {
	for _, m := range slices.Backward(conv) {
		r := rich(p, m)
		if r == nil {
			continue
		}
		for _, c := range r.Cards {
			for _, b := range c.Buttons {
				if b.Postback && b.Payload == payload {
					return b.Label, true
				}
			}
		}
	}
	return "", false
}
