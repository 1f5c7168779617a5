package sandbox

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"time"
)

// Platform names a messaging platform, spelled as in the channels table.
type Platform string

// The platforms the emulator speaks for.
const (
	PlatformFacebook  Platform = "facebook"
	PlatformInstagram Platform = "instagram"
	PlatformLINE      Platform = "line"
	PlatformWhatsApp  Platform = "whatsapp"
)

// Friendship is a LINE user's relation to an official account.
type Friendship string

// LINE friendship states; "none" means the user never added the account.
const (
	FriendshipFriend  Friendship = "friend"
	FriendshipBlocked Friendship = "blocked"
	FriendshipNone    Friendship = "none"
)

// Page tasks as Graph reports them in me/accounts.
var allTasks = []string{"MANAGE", "CREATE_CONTENT", "MODERATE", "MESSAGING", "ADVERTISE", "ANALYZE"}

// editorTasks are the tasks of a Page editor: everything but MANAGE.
var editorTasks = []string{"CREATE_CONTENT", "MODERATE", "MESSAGING", "ADVERTISE", "ANALYZE"}

// AppScopes are the permissions omnilink asks for on the Facebook Login dialog.
var appScopes = []string{
	"pages_show_list", "pages_messaging", "pages_manage_metadata", "pages_read_engagement",
	"instagram_basic", "instagram_manage_messages", "business_management",
}

// Seeded identifiers. A fresh World always uses these, so tests and docs can name them.
const (
	MeiUserID = "10160000000000001" // 林美玲: owns Bear Bakery (Page + Instagram business account)
	JunUserID = "10160000000000002" // 張俊宏: editor of Bear Bakery, owner of Jun Handmade
	KaiUserID = "10160000000000003" // 陳冠凱: Page without Instagram
	YuUserID  = "10160000000000004" // 王小雨: Page whose Instagram is a creator account
	AnnUserID = "10160000000000005" // 黃安安: declines instagram_manage_messages on the dialog

	BearBakeryPageID  = "104000000000001"
	KaiCoffeePageID   = "104000000000002"
	YuSelectPageID    = "104000000000003"
	AnnFloristPageID  = "104000000000004"
	JunHandmadePageID = "104000000000005"

	BearBakeryIGID = "17841400000000001" // business account @bearbakery.tw
	YuSelectIGID   = "17841400000000003" // creator account @yu.select
	AnnFloristIGID = "17841400000000004" // business account @annflorist.tw

	LINEChannelID      = "2000000001"
	LINEBotUserID      = "Ub0a5e1c2d3f4a5b6c7d8e9f0a1b2c3d4"
	LINEBasicID        = "@bearbakery"
	LINELoginChannelID = "2000000002"
	LIFFID             = "2000000002-BearBkry"

	WhatsAppPhoneNumberID = "109000000000001"
	WhatsAppWABAID        = "102000000000001"
	WhatsAppSystemUserID  = "61500000000001"
)

// Seeded LINE user ids (U + 32 hex), friends of the seeded official account unless noted.
const (
	LINEUserXiaoming = "U1f0a3c5e7d9b2468ace13579bdf02468" // 王小明, friend
	LINEUserYijun    = "U2e1b4d6f8a0c3579bdf24680ace13579" // 陳怡君, friend
	LINEUserZhihao   = "U3d2c5e7a9b1d468ace02468bdf13579a" // 李志豪, blocked the account
	LINEUserAlice    = "U4c3d6f8b0a2e579bdf13579ace02468b" // Alice Chen, never added the account
)

// FacebookUser is a fake Facebook account offered on the OAuth dialog.
type FacebookUser struct {
	Key      string     `json:"key"` // short handle: mei, jun, kai, yu, ann
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Declines []string   `json:"declines,omitempty"` // scopes this user un-ticks on the dialog
	Roles    []PageRole `json:"roles"`
}

// PageRole is a user's set of tasks on one Page.
type PageRole struct {
	PageID string   `json:"page_id"`
	Tasks  []string `json:"tasks"`
}

// Page is a fake Facebook Page.
type Page struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Category string `json:"category"`
	// InstagramID is the linked Instagram business account (Graph's instagram_business_account).
	InstagramID string `json:"instagram_id,omitempty"`
	// ConnectedInstagramID is an Instagram account linked to the Page that is not a business
	// account (Graph's connected_instagram_account without instagram_business_account).
	ConnectedInstagramID string `json:"connected_instagram_id,omitempty"`
}

// InstagramAccount is a fake Instagram professional account.
type InstagramAccount struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	Name        string `json:"name"`
	AccountType string `json:"account_type"` // BUSINESS or MEDIA_CREATOR
	PageID      string `json:"page_id"`
}

// LINEAccount is a fake LINE official account with its Messaging API and LINE Login channels.
type LINEAccount struct {
	ChannelID          string `json:"channel_id"`
	ChannelSecret      string `json:"channel_secret"`
	AccessToken        string `json:"access_token"`
	BotUserID          string `json:"bot_user_id"`
	BasicID            string `json:"basic_id"`
	DisplayName        string `json:"display_name"`
	ChatMode           string `json:"chat_mode"`
	MarkAsReadMode     string `json:"mark_as_read_mode"`
	LoginChannelID     string `json:"login_channel_id"`
	LoginChannelSecret string `json:"login_channel_secret"`
	LIFFID             string `json:"liff_id"`
}

// LINEUser is a fake LINE user; Friendship is keyed by the official account's bot user id.
type LINEUser struct {
	UserID        string                `json:"user_id"`
	DisplayName   string                `json:"display_name"`
	StatusMessage string                `json:"status_message,omitempty"`
	Language      string                `json:"language,omitempty"`
	Friendship    map[string]Friendship `json:"friendship"`
}

// RichMenu is a rich menu that exists on a LINE channel.
type RichMenu struct {
	ID          string `json:"id"`
	ChannelID   string `json:"channel_id"`
	Name        string `json:"name"`
	ChatBarText string `json:"chat_bar_text"`
	Colour      string `json:"colour,omitempty"` // how the simulator paints it
}

// WhatsAppNumber is a fake WhatsApp Business phone number with its system-user token.
type WhatsAppNumber struct {
	PhoneNumberID      string `json:"phone_number_id"`
	WABAID             string `json:"waba_id"`
	WABAName           string `json:"waba_name"`
	DisplayPhoneNumber string `json:"display_phone_number"` // "+886 2 2700 1234"
	VerifiedName       string `json:"verified_name"`
	QualityRating      string `json:"quality_rating"`
	AccessToken        string `json:"access_token"`
	SystemUserID       string `json:"system_user_id"`
	// Status is the number's Cloud API status when the control panel took it out of service
	// (DISCONNECTED, BANNED); empty means CONNECTED.
	Status string `json:"status,omitempty"`
}

// serving is the status the phone-number node reports.
func (n *WhatsAppNumber) serving() string {
	if n.Status == "" {
		return "CONNECTED"
	}
	return n.Status
}

// Customer is a fake person who talks to the businesses, with one id per channel.
type Customer struct {
	Key        string     `json:"key"`
	Name       string     `json:"name"`
	Identities []Identity `json:"identities"`
}

// Identity is a customer's id on one account: PSID (facebook, per Page), IGSID (instagram,
// per IG account), LINE userId (per provider), wa_id (whatsapp).
type Identity struct {
	Platform   Platform `json:"platform"`
	AccountID  string   `json:"account_id"`
	ExternalID string   `json:"external_id"`
}

// state is everything the World persists.
type state struct {
	Version        int                    `json:"version"`
	Users          []*FacebookUser        `json:"facebook_users"`
	Pages          []*Page                `json:"pages"`
	Instagram      []*InstagramAccount    `json:"instagram_accounts"`
	LINE           []*LINEAccount         `json:"line_accounts"`
	LINEUsers      []*LINEUser            `json:"line_users"`
	RichMenus      []*RichMenu            `json:"rich_menus"`
	WhatsApp       []*WhatsAppNumber      `json:"whatsapp_numbers"`
	Customers      []*Customer            `json:"customers"`
	Grants         map[string]*grant      `json:"grants"`        // by Facebook user id
	Codes          map[string]*authCode   `json:"codes"`         // by code
	Tokens         map[string]*token      `json:"tokens"`        // by token value
	Subscriptions  map[string][]string    `json:"subscriptions"` // Page/WABA id → fields; absent = app not installed
	Conversations  map[string][]Message   `json:"conversations"` // by convKey
	LastInbound    map[string]time.Time   `json:"last_inbound"`  // by convKey
	RetryKeys      map[string]*retryKey   `json:"retry_keys"`    // by channel id + key
	ReplyTokens    map[string]*replyToken `json:"reply_tokens"`
	UserRichMenus  map[string]string      `json:"user_rich_menus"` // channel id + user id → rich menu id
	Transients     map[string]*transient  `json:"transients"`      // by Target.String()
	AppRateLimited bool                   `json:"app_rate_limited"`
}

func (s *state) ensureMaps() {
	if s.Grants == nil {
		s.Grants = map[string]*grant{}
	}
	if s.Codes == nil {
		s.Codes = map[string]*authCode{}
	}
	if s.Tokens == nil {
		s.Tokens = map[string]*token{}
	}
	if s.Subscriptions == nil {
		s.Subscriptions = map[string][]string{}
	}
	if s.Conversations == nil {
		s.Conversations = map[string][]Message{}
	}
	if s.LastInbound == nil {
		s.LastInbound = map[string]time.Time{}
	}
	if s.RetryKeys == nil {
		s.RetryKeys = map[string]*retryKey{}
	}
	if s.ReplyTokens == nil {
		s.ReplyTokens = map[string]*replyToken{}
	}
	if s.UserRichMenus == nil {
		s.UserRichMenus = map[string]string{}
	}
	if s.Transients == nil {
		s.Transients = map[string]*transient{}
	}
}

// derive makes a stable pseudo-random string for seeded secrets, so a fresh sandbox always
// has the same LINE secret and tokens and a README can tell newcomers where to find them.
func derive(label string, n int, alphabet string) string {
	out := make([]byte, 0, n)
	for counter := uint32(0); len(out) < n; counter++ {
		var c [4]byte
		binary.BigEndian.PutUint32(c[:], counter)
		sum := sha256.Sum256(append([]byte("omnilink-sandbox/"+label+"/"), c[:]...))
		for _, b := range sum {
			if len(out) == n {
				break
			}
			out = append(out, alphabet[int(b)%len(alphabet)])
		}
	}
	return string(out)
}

func seed(now time.Time) *state {
	st := &state{Version: stateVersion}
	st.ensureMaps()

	st.Users = []*FacebookUser{
		{Key: "mei", ID: MeiUserID, Name: "林美玲", Roles: []PageRole{{BearBakeryPageID, allTasks}}},
		{Key: "jun", ID: JunUserID, Name: "張俊宏", Roles: []PageRole{{BearBakeryPageID, editorTasks}, {JunHandmadePageID, allTasks}}},
		{Key: "kai", ID: KaiUserID, Name: "陳冠凱", Roles: []PageRole{{KaiCoffeePageID, allTasks}}},
		{Key: "yu", ID: YuUserID, Name: "王小雨", Roles: []PageRole{{YuSelectPageID, allTasks}}},
		{Key: "ann", ID: AnnUserID, Name: "黃安安", Declines: []string{"instagram_manage_messages"},
			Roles: []PageRole{{AnnFloristPageID, allTasks}}},
	}
	st.Pages = []*Page{
		{ID: BearBakeryPageID, Name: "小熊烘焙坊 Bear Bakery", Category: "Bakery", InstagramID: BearBakeryIGID},
		{ID: KaiCoffeePageID, Name: "阿凱咖啡 Kai's Coffee", Category: "Coffee Shop"},
		{ID: YuSelectPageID, Name: "小雨選物 Yu Select", Category: "Shopping & Retail", ConnectedInstagramID: YuSelectIGID},
		{ID: AnnFloristPageID, Name: "安安花坊 Ann's Florist", Category: "Florist", InstagramID: AnnFloristIGID},
		{ID: JunHandmadePageID, Name: "俊宏手作 Jun Handmade", Category: "Arts & Crafts Store"},
	}
	st.Instagram = []*InstagramAccount{
		{ID: BearBakeryIGID, Username: "bearbakery.tw", Name: "小熊烘焙坊 Bear Bakery", AccountType: "BUSINESS", PageID: BearBakeryPageID},
		{ID: YuSelectIGID, Username: "yu.select", Name: "小雨 Yu", AccountType: "MEDIA_CREATOR", PageID: YuSelectPageID},
		{ID: AnnFloristIGID, Username: "annflorist.tw", Name: "安安花坊 Ann's Florist", AccountType: "BUSINESS", PageID: AnnFloristPageID},
	}

	line := &LINEAccount{
		ChannelID:          LINEChannelID,
		ChannelSecret:      derive("line/channel-secret", 32, "0123456789abcdef"),
		AccessToken:        derive("line/channel-token", 172, base62+"+/") + "=",
		BotUserID:          LINEBotUserID,
		BasicID:            LINEBasicID,
		DisplayName:        "小熊烘焙坊 Bear Bakery",
		ChatMode:           "chat",
		MarkAsReadMode:     "auto",
		LoginChannelID:     LINELoginChannelID,
		LoginChannelSecret: derive("line/login-secret", 32, "0123456789abcdef"),
		LIFFID:             LIFFID,
	}
	st.LINE = []*LINEAccount{line}
	st.Tokens[line.AccessToken] = &token{
		Value: line.AccessToken, Kind: kindLINEChannel, AccountID: line.ChannelID,
		Scopes: []string{"P"}, IssuedAt: now, ExpiresAt: now.AddDate(10, 0, 0), LongLived: true,
	}
	st.RichMenus = []*RichMenu{
		{ID: "richmenu-" + derive("line/richmenu/default", 32, "0123456789abcdef"), ChannelID: LINEChannelID, Name: "預設選單 Default", ChatBarText: "選單", Colour: "#8a8f98"},
		{ID: "richmenu-" + derive("line/richmenu/member", 32, "0123456789abcdef"), ChannelID: LINEChannelID, Name: "會員選單 Members", ChatBarText: "會員專區", Colour: "#06c755"},
		{ID: "richmenu-" + derive("line/richmenu/vip", 32, "0123456789abcdef"), ChannelID: LINEChannelID, Name: "VIP 選單 VIP", ChatBarText: "VIP 專屬", Colour: "#c9a227"},
	}
	friend := func(f Friendship) map[string]Friendship { return map[string]Friendship{LINEBotUserID: f} }
	st.LINEUsers = []*LINEUser{
		{UserID: LINEUserXiaoming, DisplayName: "王小明", StatusMessage: "今天也要吃麵包 🍞", Language: "zh-TW", Friendship: friend(FriendshipFriend)},
		{UserID: LINEUserYijun, DisplayName: "陳怡君", StatusMessage: "", Language: "zh-TW", Friendship: friend(FriendshipFriend)},
		{UserID: LINEUserZhihao, DisplayName: "李志豪", Language: "zh-TW", Friendship: friend(FriendshipBlocked)},
		{UserID: LINEUserAlice, DisplayName: "Alice Chen", Language: "en", Friendship: friend(FriendshipNone)},
	}

	wa := &WhatsAppNumber{
		PhoneNumberID:      WhatsAppPhoneNumberID,
		WABAID:             WhatsAppWABAID,
		WABAName:           "小熊烘焙坊 Bear Bakery",
		DisplayPhoneNumber: "+886 2 2700 1234",
		VerifiedName:       "小熊烘焙坊 Bear Bakery",
		QualityRating:      "GREEN",
		AccessToken:        "EAAS" + derive("whatsapp/system-user-token", 180, base62),
		SystemUserID:       WhatsAppSystemUserID,
	}
	st.WhatsApp = []*WhatsAppNumber{wa}
	st.Tokens[wa.AccessToken] = &token{
		Value: wa.AccessToken, Kind: kindSystemUser, UserID: wa.SystemUserID, AccountID: wa.PhoneNumberID,
		Scopes:   []string{"whatsapp_business_management", "whatsapp_business_messaging", "business_management"},
		IssuedAt: now, LongLived: true,
	}

	id := func(p Platform, account, ext string) Identity { return Identity{p, account, ext} }
	st.Customers = []*Customer{
		{Key: "xiaoming", Name: "王小明", Identities: []Identity{
			id(PlatformFacebook, BearBakeryPageID, "25000000000000001"),
			id(PlatformInstagram, BearBakeryIGID, "17842000000000001"),
			id(PlatformLINE, LINEBotUserID, LINEUserXiaoming),
			id(PlatformWhatsApp, WhatsAppPhoneNumberID, "886912345001"),
			id(PlatformFacebook, KaiCoffeePageID, "25000000000000011"),
			id(PlatformFacebook, AnnFloristPageID, "25000000000000021"),
			id(PlatformInstagram, AnnFloristIGID, "17842000000000021"),
			id(PlatformFacebook, JunHandmadePageID, "25000000000000031"),
		}},
		{Key: "yijun", Name: "陳怡君", Identities: []Identity{
			id(PlatformFacebook, BearBakeryPageID, "25000000000000002"),
			id(PlatformInstagram, BearBakeryIGID, "17842000000000002"),
			id(PlatformLINE, LINEBotUserID, LINEUserYijun),
			id(PlatformWhatsApp, WhatsAppPhoneNumberID, "886922345002"),
		}},
		{Key: "zhihao", Name: "李志豪", Identities: []Identity{
			id(PlatformFacebook, BearBakeryPageID, "25000000000000003"),
			id(PlatformLINE, LINEBotUserID, LINEUserZhihao),
		}},
		{Key: "alice", Name: "Alice Chen", Identities: []Identity{
			id(PlatformInstagram, BearBakeryIGID, "17842000000000004"),
			id(PlatformLINE, LINEBotUserID, LINEUserAlice),
			id(PlatformWhatsApp, WhatsAppPhoneNumberID, "886933345004"),
		}},
	}
	return st
}

// FacebookUsers lists the fake Facebook users for the OAuth dialog.
func (w *World) FacebookUsers() []FacebookUser {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]FacebookUser, 0, len(w.st.Users))
	for _, u := range w.st.Users {
		out = append(out, cloneUser(u))
	}
	return out
}

// FacebookUser finds a fake Facebook user by id or key ("mei").
func (w *World) FacebookUser(idOrKey string) (FacebookUser, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	u := w.st.user(idOrKey)
	if u == nil {
		return FacebookUser{}, false
	}
	return cloneUser(u), true
}

// Pages lists every fake Facebook Page.
func (w *World) Pages() []Page {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Page, 0, len(w.st.Pages))
	for _, p := range w.st.Pages {
		out = append(out, *p)
	}
	return out
}

// InstagramAccounts lists every fake Instagram account.
func (w *World) InstagramAccounts() []InstagramAccount {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]InstagramAccount, 0, len(w.st.Instagram))
	for _, a := range w.st.Instagram {
		out = append(out, *a)
	}
	return out
}

// LINEAccounts lists the fake LINE official accounts with their secrets and tokens.
func (w *World) LINEAccounts() []LINEAccount {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]LINEAccount, 0, len(w.st.LINE))
	for _, a := range w.st.LINE {
		out = append(out, *a)
	}
	return out
}

// LINEAccount finds an official account by channel id, bot user id or basic id.
func (w *World) LINEAccount(id string) (LINEAccount, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	a := w.st.lineAccount(id)
	if a == nil {
		return LINEAccount{}, false
	}
	return *a, true
}

// LINEUsers lists the fake LINE users.
func (w *World) LINEUsers() []LINEUser {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]LINEUser, 0, len(w.st.LINEUsers))
	for _, u := range w.st.LINEUsers {
		c := *u
		c.Friendship = make(map[string]Friendship, len(u.Friendship))
		for k, v := range u.Friendship {
			c.Friendship[k] = v
		}
		out = append(out, c)
	}
	return out
}

// RichMenus lists the rich menus of a LINE channel (channel id or bot user id).
func (w *World) RichMenus(accountID string) []RichMenu {
	w.mu.Lock()
	defer w.mu.Unlock()
	a := w.st.lineAccount(accountID)
	var out []RichMenu
	for _, m := range w.st.RichMenus {
		if a != nil && m.ChannelID == a.ChannelID {
			out = append(out, *m)
		}
	}
	return out
}

// UserRichMenu returns the rich menu linked to a LINE user, or "".
func (w *World) UserRichMenu(accountID, lineUserID string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	a := w.st.lineAccount(accountID)
	if a == nil {
		return ""
	}
	return w.st.UserRichMenus[a.ChannelID+"|"+lineUserID]
}

// CurrentRichMenu is the rich menu a LINE user sees on an account: the one linked to them, or
// nil for the account's default.
func (w *World) CurrentRichMenu(accountID, lineUserID string) *RichMenu {
	w.mu.Lock()
	defer w.mu.Unlock()
	a := w.st.lineAccount(accountID)
	if a == nil {
		return nil
	}
	id := w.st.UserRichMenus[a.ChannelID+"|"+lineUserID]
	for _, m := range w.st.RichMenus {
		if id != "" && m.ID == id {
			c := *m
			return &c
		}
	}
	return nil
}

// WhatsAppNumbers lists the fake WhatsApp Business numbers with their tokens.
func (w *World) WhatsAppNumbers() []WhatsAppNumber {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]WhatsAppNumber, 0, len(w.st.WhatsApp))
	for _, n := range w.st.WhatsApp {
		out = append(out, *n)
	}
	return out
}

// Customers lists the fake customers and their ids on every account.
func (w *World) Customers() []Customer {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Customer, 0, len(w.st.Customers))
	for _, c := range w.st.Customers {
		cc := *c
		cc.Identities = slices.Clone(c.Identities)
		out = append(out, cc)
	}
	return out
}

// CustomerID returns a customer's id on an account, e.g. ("xiaoming", facebook, Bear Bakery)
// → the PSID the Page sees.
func (w *World) CustomerID(customerKey string, p Platform, accountID string) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	accountID = w.st.canonicalAccount(p, accountID)
	for _, c := range w.st.Customers {
		if c.Key != customerKey {
			continue
		}
		for _, id := range c.Identities {
			if id.Platform == p && id.AccountID == accountID {
				return id.ExternalID, true
			}
		}
	}
	return "", false
}

func cloneUser(u *FacebookUser) FacebookUser {
	c := *u
	c.Declines = slices.Clone(u.Declines)
	c.Roles = make([]PageRole, len(u.Roles))
	for i, r := range u.Roles {
		c.Roles[i] = PageRole{PageID: r.PageID, Tasks: slices.Clone(r.Tasks)}
	}
	return c
}

// Lookups below expect w.mu to be held.

func (s *state) user(idOrKey string) *FacebookUser {
	for _, u := range s.Users {
		if u.ID == idOrKey || u.Key == idOrKey {
			return u
		}
	}
	return nil
}

func (s *state) page(id string) *Page {
	for _, p := range s.Pages {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// customerOn finds the seeded customer with externalID on an account, or nil.
func (s *state) customerOn(p Platform, accountID, externalID string) *Customer {
	for _, c := range s.Customers {
		for _, id := range c.Identities {
			if id.Platform == p && id.AccountID == accountID && id.ExternalID == externalID {
				return c
			}
		}
	}
	return nil
}

func (s *state) instagram(id string) *InstagramAccount {
	for _, a := range s.Instagram {
		if a.ID == id {
			return a
		}
	}
	return nil
}

func (s *state) lineAccount(id string) *LINEAccount {
	for _, a := range s.LINE {
		if a.ChannelID == id || a.BotUserID == id || a.BasicID == id {
			return a
		}
	}
	return nil
}

func (s *state) lineAccountByLogin(loginChannelID string) *LINEAccount {
	for _, a := range s.LINE {
		if a.LoginChannelID == loginChannelID {
			return a
		}
	}
	return nil
}

func (s *state) lineUser(id string) *LINEUser {
	for _, u := range s.LINEUsers {
		if u.UserID == id {
			return u
		}
	}
	return nil
}

func (s *state) whatsapp(id string) *WhatsAppNumber {
	for _, n := range s.WhatsApp {
		if n.PhoneNumberID == id {
			return n
		}
	}
	return nil
}

func (s *state) waba(id string) []*WhatsAppNumber {
	var out []*WhatsAppNumber
	for _, n := range s.WhatsApp {
		if n.WABAID == id {
			out = append(out, n)
		}
	}
	return out
}

// role returns the tasks a user has on a Page, or nil.
func (s *state) role(userID, pageID string) []string {
	u := s.user(userID)
	if u == nil {
		return nil
	}
	for _, r := range u.Roles {
		if r.PageID == pageID {
			return r.Tasks
		}
	}
	return nil
}

// canonicalAccount maps aliases (LINE channel id or basic id) to the account id used in
// conversations and identities (the LINE bot user id).
func (s *state) canonicalAccount(p Platform, accountID string) string {
	if p == PlatformLINE {
		if a := s.lineAccount(accountID); a != nil {
			return a.BotUserID
		}
	}
	return accountID
}

// customerName finds the display name of an external id on an account.
func (s *state) customerName(p Platform, accountID, externalID string) string {
	if p == PlatformLINE {
		if u := s.lineUser(externalID); u != nil {
			return u.DisplayName
		}
	}
	for _, c := range s.Customers {
		for _, id := range c.Identities {
			if id.Platform == p && id.AccountID == accountID && id.ExternalID == externalID {
				return c.Name
			}
		}
	}
	return ""
}

// knownCustomer reports whether an external id belongs to someone on the account.
func (s *state) knownCustomer(p Platform, accountID, externalID string) bool {
	if p == PlatformLINE && s.lineUser(externalID) != nil {
		return true
	}
	for _, c := range s.Customers {
		for _, id := range c.Identities {
			if id.Platform == p && id.AccountID == accountID && id.ExternalID == externalID {
				return true
			}
		}
	}
	return false
}
