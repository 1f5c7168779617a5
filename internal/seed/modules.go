package seed

import (
	"context"
	"errors"

	"github.com/omnilink/omnilink/internal/automation"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// DemoModules gives the demo team an Instagram module and a LINE module, and keyword triggers
// 「綁定」 and "link" on its Instagram channel answering with the Instagram module. When the team
// has a campaign from Instagram, the Instagram module carries its OmniLink card.
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
	igBlocks := models.ModuleBlocks{{Block: models.Block{Kind: models.BlockText, Text: "嗨！點下方卡片，一鍵把 Instagram 和 LINE 會員綁定，領取新會員折價券。"}}}
	camps, err := mods.Campaigns(ctx, admin.TeamID, models.Instagram)
	if err != nil {
		return err
	}
	// The text promises LINE, so the card is the Instagram → LINE campaign's (the list is newest
	// first, which would be the WhatsApp one); any Instagram campaign when that one is gone.
	var card int64
	for _, c := range camps {
		if c.Name == DemoCampaignLINE {
			card = c.ID
			break
		}
	}
	if card == 0 && len(camps) > 0 {
		card = camps[0].ID
	}
	if card != 0 {
		igBlocks = append(igBlocks, models.ModuleBlock{Block: models.Block{Kind: models.BlockOmniLinkCard}, CampaignID: card})
	}
	igMod, err := mods.Create(ctx, admin, models.ModuleInput{Name: "IG 會員綁定", Platform: models.Instagram, Blocks: igBlocks})
	if err != nil {
		return err
	}
	if _, err := mods.Create(ctx, admin, models.ModuleInput{Name: "LINE 歡迎", Platform: models.LINE, Blocks: models.ModuleBlocks{
		{Block: models.Block{Kind: models.BlockButtons, Text: "歡迎加入小熊烘焙坊！每週新品搶先看。",
			Buttons: []models.Button{{Kind: models.ButtonURL, Label: "看本週新品", URL: "https://example.com/bear-bakery/new"}}}},
	}}); err != nil {
		return err
	}
	for _, kw := range []string{"綁定", "link"} {
		if _, err := trig.Create(ctx, admin, models.TriggerInput{ChannelID: ig.ID, Kind: models.TriggerExact, Pattern: kw, ModuleID: igMod.ID}); err != nil {
			return err
		}
	}
	return nil
}
