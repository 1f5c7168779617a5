package seed

import (
	"context"
	"errors"

	"github.com/omnilink/omnilink/internal/automation"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// DemoModules gives the demo team three Instagram modules and a LINE one, with keyword triggers
// on its Instagram channel: 「綁定」 and "link" answer (in their language) with the Instagram →
// LINE campaign's card, 「WhatsApp」 and 「通知」 with the Instagram → WhatsApp campaign's.
func DemoModules(ctx context.Context, st *store.Store, mods *automation.Modules, trig *automation.Triggers, adminID int64) error {
	admin, err := st.UserByIDSystem(ctx, adminID)
	if err != nil {
		return err
	}
	chans, err := st.TeamChannels(ctx, admin.TeamID)
	if err != nil {
		return err
	}
	var ig *models.Channel
	for i := range chans {
		if chans[i].Platform == models.Instagram && ig == nil {
			ig = &chans[i]
		}
	}
	if ig == nil {
		return errors.New("seed modules: the demo team has no Instagram channel")
	}
	camps, err := mods.Campaigns(ctx, admin.TeamID, models.Instagram)
	if err != nil {
		return err
	}
	// Each module's text promises one target, so it carries that campaign's card; the first
	// Instagram campaign stands in when the named one is gone.
	card := func(name string) models.ModuleBlocks {
		for _, c := range camps {
			if c.Name == name {
				return models.ModuleBlocks{{Block: models.Block{Kind: models.BlockOmniLinkCard}, CampaignID: c.ID}}
			}
		}
		if len(camps) > 0 {
			return models.ModuleBlocks{{Block: models.Block{Kind: models.BlockOmniLinkCard}, CampaignID: camps[0].ID}}
		}
		return nil
	}
	text := func(t string) models.ModuleBlocks {
		return models.ModuleBlocks{{Block: models.Block{Kind: models.BlockText, Text: t}}}
	}
	// Customers write in Chinese or English; each keyword answers in its own language.
	igModules := []struct {
		name, text, campaign string
		keywords             []string
	}{
		{"IG 會員綁定", "嗨！點下方卡片，一鍵把 Instagram 和 LINE 會員綁定，領取新會員折價券。", DemoCampaignLINE, []string{"綁定"}},
		{"IG member link (English)", "Hi! Tap the card below to link your Instagram with our LINE account and get the new-member coupon.", DemoCampaignLINE, []string{"link"}},
		{"IG WhatsApp 通知", "點下方卡片，在 WhatsApp 接收新品出爐通知。", DemoCampaignWhatsApp, []string{"WhatsApp", "通知"}},
	}
	for _, m := range igModules {
		mod, err := mods.Create(ctx, admin, models.ModuleInput{Name: m.name, Platform: models.Instagram, Blocks: append(text(m.text), card(m.campaign)...)})
		if err != nil {
			return err
		}
		for _, kw := range m.keywords {
			if _, err := trig.Create(ctx, admin, models.TriggerInput{ChannelID: ig.ID, Kind: models.TriggerExact, Pattern: kw, ModuleID: mod.ID}); err != nil {
				return err
			}
		}
	}
	if _, err := mods.Create(ctx, admin, models.ModuleInput{Name: "LINE 歡迎", Platform: models.LINE, Blocks: models.ModuleBlocks{
		{Block: models.Block{Kind: models.BlockButtons, Text: "歡迎加入小熊烘焙坊！每週新品搶先看。",
			Buttons: []models.Button{{Kind: models.ButtonURL, Label: "看本週新品", URL: "https://example.com/bear-bakery/new"}}}},
	}}); err != nil {
		return err
	}
	return nil
}
