package handlers_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/omnilink/omnilink/internal/testutil"
)

// TestBrowserCampaignOnAPhone creates an Instagram → LINE campaign in chromium at phone size in
// zh-TW: the image is uploaded on pick and shown cropped, the preview follows the typing, a LINE
// target without LIFF is flagged inline with a link, and the page never scrolls sideways.
func TestBrowserCampaignOnAPhone(t *testing.T) {
	ca := newCampaignApp(t)
	ctx := testutil.Browser(t)
	photo, _ := filepath.Abs(filepath.Join("..", "internal", "media", "testdata", "photo.jpg"))
	choose := func(name, value string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](`(function(){var s=document.querySelector('select[name="` + name + `"]');s.value="` + value + `";s.dispatchEvent(new Event('change',{bubbles:true}));})()`)
	}
	noSideScroll := func(where string) {
		t.Helper()
		wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
		if err != nil || wide {
			t.Fatalf("%s scrolls sideways at phone width (%v)", where, err)
		}
	}
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(ca.URL+"/login"),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.SendKeys(`input[name=email]`, "mkt@bear.test"),
		chromedp.SendKeys(`input[name=password]`, testutil.Password),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`main#main h1`),
		chromedp.Navigate(ca.URL+"/campaigns"),
		chromedp.WaitVisible(`#campaigns-empty`),
	)
	if err != nil {
		t.Fatal(err)
	}
	noSideScroll("the empty campaign list")
	testutil.Screenshot(t, ctx, "campaigns-empty-phone")
	steps := []struct {
		name string
		act  chromedp.Action[chromedp.Void]
	}{
		{"open the form", chromedp.Click(`#new-campaign`)},
		{"form shown", chromedp.WaitVisible(`#campaign-form`)},
		{"name", chromedp.SendKeys(`input[name=name]`, "IG 粉絲加 LINE 好友")},
		{"source", choose("source_channel_id", itoa(ca.ig.ID))},
		{"target without LIFF", choose("target_channel_id", itoa(ca.lineNoLiff.ID))},
		{"LIFF error with a link", chromedp.WaitVisible(`#err-target a[href="/channels/` + itoa(ca.lineNoLiff.ID) + `"]`)},
		{"target", choose("target_channel_id", itoa(ca.line.ID))},
		{"pick the image", chromedp.SetUploadFiles(`input[name=image]`, []string{photo})},
		{"image uploaded", chromedp.WaitVisible(`#image-slot figure img`)},
		{"title", chromedp.SendKeys(`input[name=title]`, "加入 LINE 好友領折價券")},
		{"button", chromedp.SendKeys(`input[name=button]`, "立即加入")},
		{"crop shown", chromedp.WaitVisible(`#crop-note`)},
		{"source success kind", chromedp.Click(`input[name=success_source_kind][value=text]`)},
		{"source success text", chromedp.SendKeys(`textarea[name=success_source_text]`, "整合完成！")},
		{"target success text", chromedp.SendKeys(`textarea[name=success_target_text]`, "歡迎加入 LINE")},
		{"source tag", chromedp.SendKeys(`input[name=tags_source_new]`, "IG 已整合")},
		{"target tag", chromedp.SendKeys(`input[name=tags_target_new]`, "來自 IG")},
	}
	for _, st := range steps {
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := chromedp.Do(sctx, st.act)
		cancel()
		if err != nil {
			testutil.Screenshot(t, ctx, "campaign-form-phone-failed")
			t.Fatalf("%s: %v", st.name, err)
		}
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#card-preview .card-title') && document.querySelector('#card-preview .card-title').textContent === '加入 LINE 好友領折價券'`)); err != nil {
		t.Fatalf("the preview did not follow the typing: %v", err)
	}
	noSideScroll("the campaign form")
	testutil.Screenshot(t, ctx, "campaign-form-phone")
	err = chromedp.Do(ctx,
		chromedp.Click(`#save-campaign`),
		chromedp.WaitVisible(`.campaign-list`),
	)
	if err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(ctx, chromedp.Text(`main#main`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "IG 粉絲加 LINE 好友") || !strings.Contains(body, "已建立活動") {
		t.Fatalf("list after save: %s", body)
	}
	noSideScroll("the campaign list")
	testutil.Screenshot(t, ctx, "campaigns-list-phone")
}
