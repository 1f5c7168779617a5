package ui

import (
	"context"
	"net/http"
	"strings"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/models"
)

// LIFFUser is a simulated LINE user the LINE app stand-in can open a LIFF page as.
type LIFFUser struct {
	UserID     string
	Name       string
	Friendship string // friend, blocked or none, towards the LIFF app's official account
}

// LIFFAppVM is the LINE app stand-in's screen for one LIFF app.
type LIFFAppVM struct {
	LiffID      string
	AccountName string
	BasicID     string
	Users       []LIFFUser
}

// LIFFSession is what the LIFF SDK stand-in knows after init: the user's ID token (which the
// sandbox's LINE Login verify endpoint accepts, with LINE's checks), friendship and language.
type LIFFSession struct {
	LiffID      string `json:"liffId"`
	UserID      string `json:"userId"`
	DisplayName string `json:"displayName"`
	IDToken     string `json:"idToken"`
	FriendFlag  bool   `json:"friendFlag"`
	Lang        string `json:"lang"`
}

func (s *Service) lineAccountByLIFF(liffID string) (sandbox.LINEAccount, bool) {
	for _, a := range s.w.LINEAccounts() {
		if a.LIFFID != "" && a.LIFFID == liffID {
			return a, true
		}
	}
	return sandbox.LINEAccount{}, false
}

// LIFFApp lists the LINE users who can open the LIFF app, with their friendship.
func (s *Service) LIFFApp(liffID string) (LIFFAppVM, error) {
	a, ok := s.lineAccountByLIFF(liffID)
	if !ok {
		return LIFFAppVM{}, apperr.ErrNotFound
	}
	vm := LIFFAppVM{LiffID: liffID, AccountName: a.DisplayName, BasicID: a.BasicID}
	for _, u := range s.w.LINEUsers() {
		f := u.Friendship[a.BotUserID]
		if f == "" {
			f = sandbox.FriendshipNone
		}
		vm.Users = append(vm.Users, LIFFUser{UserID: u.UserID, Name: u.DisplayName, Friendship: string(f)})
	}
	return vm, nil
}

// LIFFSession opens the LIFF app as a LINE user: LINE logs the user in to the app's LINE
// Login channel and hands the page an ID token.
func (s *Service) LIFFSession(liffID, userID string) (LIFFSession, error) {
	a, ok := s.lineAccountByLIFF(liffID)
	if !ok {
		return LIFFSession{}, apperr.ErrNotFound
	}
	for _, u := range s.w.LINEUsers() {
		if u.UserID != userID {
			continue
		}
		lang := u.Language
		if lang == "" {
			lang = "zh-TW"
		}
		return LIFFSession{LiffID: liffID, UserID: u.UserID, DisplayName: u.DisplayName, Lang: lang,
			IDToken: s.w.IssueIDToken(u.UserID, a.LoginChannelID), FriendFlag: u.Friendship[a.BotUserID] == sandbox.FriendshipFriend}, nil
	}
	return LIFFSession{}, apperr.ErrNotFound
}

// LIFFChatVM is the LINE app stand-in after a LIFF page closed: the chat it returns to.
type LIFFChatVM struct {
	AccountName string
	ChannelID   int64 // the team's channel for the account; 0 when not connected
	UserID      string
}

// LIFFChat finds the chat a LIFF window returns to when it closes: the LINE user's chat with the
// LIFF app's official account, on the team's channel for it.
func (s *Service) LIFFChat(ctx context.Context, teamID int64, liffID, userID string) (LIFFChatVM, error) {
	a, ok := s.lineAccountByLIFF(liffID)
	if !ok {
		return LIFFChatVM{}, apperr.ErrNotFound
	}
	vm := LIFFChatVM{AccountName: a.DisplayName, UserID: userID}
	var err error
	vm.ChannelID, err = s.teamLINEChannel(ctx, teamID, a.BotUserID)
	return vm, err
}

// teamLINEChannel is the team's live channel for the official account with botUserID, or 0.
func (s *Service) teamLINEChannel(ctx context.Context, teamID int64, botUserID string) (int64, error) {
	chans, err := s.chans.TeamChannels(ctx, teamID)
	if err != nil {
		return 0, err
	}
	for _, ch := range chans {
		if ch.Platform == models.LINE && ch.ExternalID == botUserID && ch.Status != models.ChannelDisconnected {
			return ch.ID, nil
		}
	}
	return 0, nil
}

// WACustomer is a simulated WhatsApp user who can send the prefilled draft.
type WACustomer struct {
	WaID string
	Name string
}

// WADraftVM is the WhatsApp stand-in's screen for a click-to-chat link.
type WADraftVM struct {
	Digits    string
	Text      string
	ChannelID int64 // the team's channel for that number; 0 when the team has none
	Number    string
	Customers []WACustomer
}

// WADraft shows what wa.me/{digits}?text= would open: the business, the editable draft and
// the simulated WhatsApp users who can send it.
func (s *Service) WADraft(ctx context.Context, teamID int64, digits, text string) (WADraftVM, error) {
	vm := WADraftVM{Digits: digits, Text: text}
	var phoneID string
	for _, n := range s.w.WhatsAppNumbers() {
		if onlyDigits(n.DisplayPhoneNumber) == digits {
			phoneID, vm.Number = n.PhoneNumberID, n.DisplayPhoneNumber+" · "+n.VerifiedName
		}
	}
	if phoneID == "" {
		return vm, &apperr.Error{Status: http.StatusNotFound, Key: "error.not_found"}
	}
	chans, err := s.chans.TeamChannels(ctx, teamID)
	if err != nil {
		return vm, err
	}
	for _, ch := range chans {
		if ch.Platform == models.WhatsApp && ch.ExternalID == phoneID && ch.Status != models.ChannelDisconnected {
			vm.ChannelID = ch.ID
		}
	}
	for _, c := range s.w.Customers() {
		if id, ok := s.w.CustomerID(c.Key, sandbox.PlatformWhatsApp, phoneID); ok {
			vm.Customers = append(vm.Customers, WACustomer{WaID: id, Name: c.Name})
		}
	}
	return vm, nil
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// LineAccountVM is the LINE app stand-in's page of an official account (line.me/R/ti/p/@id):
// the simulated LINE users who can add or unblock it.
type LineAccountVM struct {
	AccountName string
	BasicID     string
	ChannelID   int64 // the team's channel for the account; 0 when not connected
	Users       []LIFFUser
	Selected    string // the LINE user the LIFF app was opened as, if any
}

// LineAccount finds the official account with basicID ("@bearbakery") and its users.
func (s *Service) LineAccount(ctx context.Context, teamID int64, basicID, selected string) (LineAccountVM, error) {
	basicID = "@" + strings.TrimPrefix(basicID, "@")
	for _, a := range s.w.LINEAccounts() {
		if !strings.EqualFold(a.BasicID, basicID) {
			continue
		}
		vm := LineAccountVM{AccountName: a.DisplayName, BasicID: a.BasicID, Selected: selected}
		var err error
		if vm.ChannelID, err = s.teamLINEChannel(ctx, teamID, a.BotUserID); err != nil {
			return vm, err
		}
		for _, u := range s.w.LINEUsers() {
			f := u.Friendship[a.BotUserID]
			if f == "" {
				f = sandbox.FriendshipNone
			}
			vm.Users = append(vm.Users, LIFFUser{UserID: u.UserID, Name: u.DisplayName, Friendship: string(f)})
		}
		return vm, nil
	}
	return LineAccountVM{}, apperr.ErrNotFound
}
