package ui

import (
	"testing"

	"github.com/omnilink/omnilink/internal/messaging"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/models"
)

// Every platform's rendering of a card comes back as a card with its image and buttons, so the
// simulator shows what messaging sends.
func TestRichShowsWhatMessagingRendersOnEveryPlatform(t *testing.T) {
	card := models.Block{Kind: models.BlockCard, Title: "加入 LINE 好友", Text: "領折價券", ImageURL: "https://img.example/c.jpg",
		Buttons: []models.Button{{Kind: models.ButtonURL, Label: "立即加入", URL: "https://bear.example/l/x"}}}
	menu := models.Block{Kind: models.BlockButtons, Text: "想看什麼？",
		Buttons: []models.Button{{Kind: models.ButtonPostback, Label: "看菜單", Payload: "module:7"}}}
	for _, p := range models.Platforms {
		blocks := []models.Block{card}
		if p != models.WhatsApp { // cta_url carries one link, no postback
			blocks = append(blocks, menu)
		}
		parts, err := messaging.Render(p, models.Content{Blocks: blocks})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		var conv []sandbox.Message
		for _, part := range parts {
			body := part.Body
			conv = append(conv, sandbox.Message{Direction: sandbox.Outbound, Payload: body})
		}
		r := rich(sandbox.Platform(p), conv[0])
		if r == nil || len(r.Cards) != 1 {
			t.Fatalf("%s card: %+v", p, r)
		}
		c := r.Cards[0]
		if c.ImageURL != "https://img.example/c.jpg" || len(c.Buttons) != 1 || c.Buttons[0].URL != "https://bear.example/l/x" || c.Buttons[0].Label != "立即加入" {
			t.Errorf("%s card: %+v", p, c)
		}
		if c.Flex != (p == models.LINE) {
			t.Errorf("%s: flex %v", p, c.Flex)
		}
		if p == models.WhatsApp {
			continue
		}
		if title, ok := offered(sandbox.Platform(p), conv, "module:7"); !ok || title != "看菜單" {
			t.Errorf("%s: the postback button is not offered (%q)", p, title)
		}
		if _, ok := offered(sandbox.Platform(p), conv, "module:8"); ok {
			t.Errorf("%s: a payload never sent is offered", p)
		}
	}
}
