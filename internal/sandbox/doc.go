// Package sandbox is the provider emulator: fake Facebook users, Pages, Instagram accounts,
// a LINE official account and a WhatsApp number, speaking the platforms' wire protocols
// (reference/protocols.md) over real HTTP. With OMNILINK_PROVIDERS=sandbox the server mounts
// it under /sandbox/…, and every test uses it as the fake platforms; the real clients in
// internal/meta and internal/line reach it through their configurable base URLs.
//
// # Mount layout
//
// World.APIHandler serves, relative to its mount point:
//
//	/graph/{version}/…   Graph API and WhatsApp Cloud API → META_GRAPH_URL = {origin}{mount}/graph
//	/line/…              LINE Messaging API + LINE Login  → LINE_API_URL   = {origin}{mount}/line
//	/pictures/{id}.svg   avatars the APIs link to
//
// The OAuth dialog page (/dialog/oauth, META_DIALOG_URL) is not served here; it is built on
// FacebookUsers, CheckDialog, DefaultGrant, Authorize and Deny by internal/sandbox/ui, which
// also drives the control panel, the customer simulator and the mailbox. InProcessTransport
// serves APIHandler without a network, for seeding before the HTTP server listens.
//
// # Seeded world
//
// A fresh World (no saved state) always has the same ids, exported as constants:
//
//   - mei (林美玲, MeiUserID) has every task on 小熊烘焙坊 Bear Bakery (BearBakeryPageID),
//     whose Instagram business account is @bearbakery.tw (BearBakeryIGID).
//   - jun (張俊宏) is an editor of Bear Bakery (no MANAGE task) and owns 俊宏手作 Jun Handmade:
//     two Pages, for paging and "re-authorise with a different Facebook user".
//   - kai (陳冠凱) has 阿凱咖啡 Kai's Coffee, without Instagram.
//   - yu (王小雨) has 小雨選物 Yu Select, whose Instagram @yu.select is a creator account.
//   - ann (黃安安) has 安安花坊 Ann's Florist with @annflorist.tw, and declines
//     instagram_manage_messages on the dialog (DefaultGrant leaves it out).
//   - LINE: official account @bearbakery (LINEChannelID, LINEBotUserID, LINELoginChannelID,
//     LIFFID); its channel secret, access token and login secret come from LINEAccounts.
//     Users 王小明 and 陳怡君 are friends, 李志豪 blocked it, Alice Chen never added it.
//   - WhatsApp: +886 2 2700 1234 (WhatsAppPhoneNumberID, WhatsAppWABAID); the system-user
//     token comes from WhatsAppNumbers.
//   - Customers (Customers, CustomerID) with a PSID per Page, IGSID per IG account, LINE
//     userId and wa_id, so the same person can be linked across channels.
//
// Facebook tokens are minted at run time: a dialog grant (Authorize) gives a code, the code a
// short-lived user token, fb_exchange_token a long-lived one, me/accounts the Page tokens.
//
// # Creator accounts
//
// Graph has no account-type field on the IG user node in the Facebook Login flavour. The
// emulator models a creator account the way Graph exposes a linked account that is not a
// business account: the Page's instagram_business_account field is absent while
// connected_instagram_account{id,username} is present. A client detects it by asking for
// both fields in me/accounts. As a sandbox-only aid, the IG node also answers
// fields=account_type with BUSINESS or MEDIA_CREATOR (live Graph rejects that field, so
// production code must not depend on it), and the simulator refuses messages to it.
//
// # Behaviour worth knowing
//
//   - Graph errors use {"error":{message,type,code,error_subcode,is_transient,fbtrace_id}}:
//     HTTP 400 for OAuth/parameter errors and throttles (4 app, 17 user, 32 Page), 403 for
//     missing permissions (10 for messaging scopes, 200 otherwise), 500 for codes 1 and 2.
//   - Graph bodies are encoded like Meta's: non-ASCII as \uXXXX and "/" as "\/".
//   - Every Graph response has X-App-Usage; Page and system-user calls add
//     X-Business-Use-Case-Usage. Usage is a per-token sliding-window count (Options.UsageLimit,
//     Options.UsageWindow, SetUsageLimit); a full window throttles.
//   - Messenger sends outside 24 h answer 10/2018278 (Instagram 10/2534022) unless tagged
//     HUMAN_AGENT (7 days) or, on Messenger, another message tag. WhatsApp free-form sends
//     outside 24 h answer 131047 synchronously (the live API may report it in a status webhook).
//   - LINE pushes to users who blocked or never added the account answer 200 and are logged
//     with Delivered=false. Reply tokens live one minute and work once.
//   - X-Line-Retry-Key is remembered per channel for 24 hours: a repeat answers 409 with the
//     first request's sentMessages and X-Line-Accepted-Request-Id, and delivers nothing.
//   - SetTransientFailure with FailLateAnswer carries the next call out (delivers, remembers
//     its retry key) and holds the answer until the client gives up, as a timeout after the
//     platform accepted does; a client still waiting after HangLimit gets the real answer.
//   - Control operations (BreakToken, RevokePermission, Repair, UnsubscribeApp,
//     SetTransientFailure) act on a Target; damage applies to tokens that exist at that moment,
//     so a new dialog grant issues working tokens.
package sandbox
