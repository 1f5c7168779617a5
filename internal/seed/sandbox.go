package seed

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// seedSession stands for the browser session a console user would start Facebook Login from;
// the OAuth state is bound to it like any other.
const seedSession = "seed"

// SandboxChannels connects the demo team to the sandbox's Bear Bakery accounts on all four
// platforms through the same connect code the console uses: Instagram and the Facebook Page
// through Facebook Login as the fake user mei, LINE and WhatsApp with the credentials the
// emulator issued. chans must reach w, e.g. App.InProcessChannels before the server listens.
func SandboxChannels(ctx context.Context, st *store.Store, chans *channels.Service, w *sandbox.World, adminID int64) error {
	if chans == nil || w == nil {
		return errors.New("seed: the sandbox is not running (OMNILINK_PROVIDERS is not sandbox)")
	}
	admin, err := st.UserByIDSystem(ctx, adminID)
	if err != nil {
		return err
	}
	// Instagram first, then the Page: both by mei, since the team's Instagram and Pages must
	// be authorised by the same Facebook user.
	if err := connectByLogin(ctx, chans, w, admin, models.Instagram, sandbox.BearBakeryIGID); err != nil {
		return fmt.Errorf("seed instagram: %w", err)
	}
	if err := connectByLogin(ctx, chans, w, admin, models.Facebook, sandbox.BearBakeryPageID); err != nil {
		return fmt.Errorf("seed facebook: %w", err)
	}
	la, ok := w.LINEAccount(sandbox.LINEChannelID)
	if !ok {
		return errors.New("seed line: the sandbox has no Bear Bakery LINE account")
	}
	if _, err := chans.ConnectLine(ctx, admin, channels.LineInput{ChannelID: la.ChannelID, ChannelSecret: la.ChannelSecret,
		AccessToken: la.AccessToken, LoginChannelID: la.LoginChannelID, LiffID: la.LIFFID}, nil); err != nil {
		return fmt.Errorf("seed line: %w", err)
	}
	for _, n := range w.WhatsAppNumbers() {
		if n.PhoneNumberID != sandbox.WhatsAppPhoneNumberID {
			continue
		}
		if _, err := chans.ConnectWhatsApp(ctx, admin, channels.WhatsAppInput{PhoneNumberID: n.PhoneNumberID, WABAID: n.WABAID,
			AccessToken: n.AccessToken}, nil); err != nil {
			return fmt.Errorf("seed whatsapp: %w", err)
		}
		return nil
	}
	return errors.New("seed whatsapp: the sandbox has no Bear Bakery WhatsApp number")
}

// connectByLogin walks Facebook Login as mei would in a browser: start, grant on the dialog,
// come back with the code, and connect the chosen account.
func connectByLogin(ctx context.Context, chans *channels.Service, w *sandbox.World, admin *models.User, p models.Platform, accountID string) error {
	start, err := chans.StartOAuth(ctx, admin, seedSession, p, nil, false)
	if err != nil {
		return err
	}
	dialog, err := url.Parse(start.URL)
	if err != nil {
		return err
	}
	q := dialog.Query()
	scopes := sandbox.AppScopes() // what a Login for Business configuration stands for
	if s := q.Get("scope"); s != "" {
		scopes = strings.Split(s, ",")
	}
	redirect, err := w.Authorize(sandbox.MeiUserID, w.DefaultGrant(sandbox.MeiUserID, scopes), q.Get("redirect_uri"), q.Get("state"))
	if err != nil {
		return err
	}
	back, err := url.Parse(redirect)
	if err != nil {
		return err
	}
	bq := back.Query()
	state, err := chans.CompleteOAuth(ctx, admin, seedSession, channels.Callback{State: bq.Get("state"), Code: bq.Get("code")})
	if err != nil {
		return err
	}
	if state.Outcome != "authorized" {
		return fmt.Errorf("facebook login ended %q (%s)", state.Outcome, state.OutcomeCode)
	}
	res, err := chans.Connect(ctx, admin, state.ID, []string{accountID})
	if err != nil {
		return err
	}
	if len(res.Connected) != 1 {
		var why []string
		for _, c := range res.Failed {
			why = append(why, c.ID+": "+c.Problem)
		}
		return fmt.Errorf("account %s not connected (%s)", accountID, strings.Join(why, "; "))
	}
	return nil
}

// DemoTag is the demo tag whose rule switches the sandbox LINE user's rich menu.
const DemoTag = "已綁定"

// SandboxTagRules records the sandbox LINE account's friends as contacts and gives the demo team a tag 「已綁定」 whose rule links the sandbox LINE account's
// members' rich menu, and a journey it starts: wait one minute, then a welcome text on LINE.
// Applying the tag on the tag page shows the menu change in the simulator.
func SandboxTagRules(ctx context.Context, st *store.Store, w *sandbox.World, teamID, adminID int64) error {
	if w == nil {
		return errors.New("seed: the sandbox is not running (OMNILINK_PROVIDERS is not sandbox)")
	}
	la, ok := w.LINEAccount(sandbox.LINEChannelID)
	if !ok {
		return errors.New("seed tags: the sandbox has no Bear Bakery LINE account")
	}
	ch, err := st.TeamChannel(ctx, teamID, models.LINE, la.BotUserID)
	if err != nil {
		return fmt.Errorf("seed tags: the demo team has no sandbox LINE channel: %w", err)
	}
	var menu *sandbox.RichMenu
	for _, m := range w.RichMenus(sandbox.LINEChannelID) {
		if strings.Contains(m.Name, "Members") {
			menu = &m
		}
	}
	if menu == nil {
		return errors.New("seed tags: the sandbox LINE account has no members' rich menu")
	}
	return st.WithTx(ctx, func(tx *store.Store) error {
		// The account's friends and blockers in the sandbox are its contacts, as their follow and
		// unfollow events would have made them, so the tag page has someone to tag from the start
		// and a blocker meets the unblock screen.
		for _, u := range w.LINEUsers() {
			fs := map[sandbox.Friendship]models.Friendship{sandbox.FriendshipFriend: models.FriendshipFriend,
				sandbox.FriendshipBlocked: models.FriendshipBlocked}[u.Friendship[la.BotUserID]]
			if fs == "" {
				continue
			}
			at := time.Now()
			if _, _, err := tx.UpsertContact(ctx, store.ContactActivity{TeamID: teamID, ChannelID: ch.ID, ExternalUserID: u.UserID,
				Name: u.DisplayName, Friendship: fs, FriendshipAt: &at}); err != nil {
				return err
			}
		}
		tag, err := tx.EnsureTeamTag(ctx, teamID, DemoTag, adminID)
		if err != nil {
			return err
		}
		if err := tx.CreateTagRule(ctx, &models.TagRule{TeamID: teamID, TagID: tag.ID, Action: models.RuleRichMenu, ChannelID: &ch.ID,
			RichMenuID: menu.ID, RichMenuName: menu.Name, Priority: 10, CreatedBy: &adminID}); err != nil {
			return err
		}
		return tx.SaveJourney(ctx, &models.Journey{TeamID: teamID, Name: "綁定後歡迎 Welcome after linking", TriggerTagID: &tag.ID, Enabled: true,
			CreatedBy: &adminID, Steps: models.JourneySteps{
				{Kind: models.StepWait, Minutes: 1},
				{Kind: models.StepSendText, ChannelID: ch.ID, Text: "歡迎成為小熊烘焙坊會員！會員選單已經為你開啟 🍞"},
			}})
	})
}
