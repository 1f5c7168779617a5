package seed

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/omnilink/omnilink/internal/omnilink"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Demo campaign names, so other seeds (modules, triggers) can find them.
const (
	DemoCampaignLINE     = "IG 粉絲綁定 LINE 會員"
	DemoCampaignWhatsApp = "IG 粉絲加入 WhatsApp"
)

// Campaigns creates the demo team's two enabled OmniLink campaigns through the campaign
// service: Instagram → LINE with a card image, and Instagram → WhatsApp. The team's channels
// must be connected (SandboxChannels).
func Campaigns(ctx context.Context, st *store.Store, svc *omnilink.Service, adminID int64) ([]int64, error) {
	admin, err := st.UserByIDSystem(ctx, adminID)
	if err != nil {
		return nil, err
	}
	chans, err := st.TeamChannels(ctx, admin.TeamID)
	if err != nil {
		return nil, err
	}
	by := map[models.Platform]int64{}
	for _, ch := range chans {
		by[ch.Platform] = ch.ID
	}
	if by[models.Instagram] == 0 || by[models.LINE] == 0 || by[models.WhatsApp] == 0 {
		return nil, fmt.Errorf("seed campaigns: the demo team needs Instagram, LINE and WhatsApp channels")
	}
	img, err := svc.Upload(ctx, admin, bytes.NewReader(demoCardImage()))
	if err != nil {
		return nil, fmt.Errorf("seed campaign image: %w", err)
	}
	inputs := []models.CampaignInput{{
		Name: DemoCampaignLINE, Status: models.CampaignEnabled, SourceChannelID: by[models.Instagram], TargetChannelID: by[models.LINE],
		MediaID: img.ID, Title: "加入小熊烘焙坊 LINE 好友", Text: "綁定後立即領取 50 元折價券", Button: "立即綁定",
		SuccessSource: models.Action{Kind: models.ActionText, Text: "綁定成功！折價券已送到你的 LINE。"},
		SuccessTarget: models.Action{Kind: models.ActionText, Text: "歡迎加入小熊烘焙坊！這是你的 50 元折價券：BEAR50"},
		FailureSource: models.Action{Kind: models.ActionText, Text: "綁定沒有成功，請稍後再試或直接問我們。"},
		// The LINE contact gets the demo tag, whose rule switches its rich menu (SandboxTagRules).
		NewTagSource: "已綁定 LINE", NewTagTarget: DemoTag, TokenTTLDays: models.TokenTTLDefault,
	}, {
		Name: DemoCampaignWhatsApp, Status: models.CampaignEnabled, SourceChannelID: by[models.Instagram], TargetChannelID: by[models.WhatsApp],
		Title: "在 WhatsApp 接收出爐通知", Text: "送出預先填好的訊息即可完成綁定", Button: "開啟 WhatsApp", WAMessage: "我要綁定小熊烘焙坊",
		SuccessSource: models.Action{Kind: models.ActionText, Text: "WhatsApp 綁定成功！"},
		SuccessTarget: models.Action{Kind: models.ActionText, Text: "綁定完成，之後的出爐通知會在這裡告訴你。"},
		FailureSource: models.Action{Kind: models.ActionNone},
		NewTagTarget:  "WhatsApp 通知", TokenTTLDays: models.TokenTTLDefault,
	}}
	var ids []int64
	for _, in := range inputs {
		c, err := svc.Create(ctx, admin, in)
		if err != nil {
			return nil, fmt.Errorf("seed campaign %q: %w", in.Name, err)
		}
		ids = append(ids, c.ID)
	}
	return ids, nil
}

// demoCardImage draws an 800×800 card image (warm bakery colours), so the demo needs no file.
func demoCardImage() []byte {
	const n = 800
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := range n {
		for x := range n {
			img.Set(x, y, color.RGBA{R: uint8(240 - y/10), G: uint8(200 - y/8), B: uint8(140 - x/10), A: 255})
		}
	}
	for y := 250; y < 550; y++ {
		for x := 250; x < 550; x++ {
			if dx, dy := x-400, y-400; dx*dx+dy*dy < 150*150 {
				img.Set(x, y, color.RGBA{R: 139, G: 90, B: 43, A: 255})
			}
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}
