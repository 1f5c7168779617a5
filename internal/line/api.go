package line

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"
)

// BotInfo describes the LINE Official Account behind a channel token.
type BotInfo struct {
	UserID         string `json:"userId"`
	BasicID        string `json:"basicId"`
	PremiumID      string `json:"premiumId"`
	DisplayName    string `json:"displayName"`
	PictureURL     string `json:"pictureUrl"`
	ChatMode       string `json:"chatMode"`       // chat or bot
	MarkAsReadMode string `json:"markAsReadMode"` // auto or manual
}

// BotInfo reads GET /v2/bot/info, the cheapest proof that a channel token works.
func (c *Client) BotInfo(ctx context.Context, channelToken string) (BotInfo, error) {
	var b BotInfo
	if err := c.do(ctx, request{method: http.MethodGet, path: "/v2/bot/info", token: channelToken}, &b); err != nil {
		return BotInfo{}, err
	}
	if b.UserID == "" {
		return BotInfo{}, errors.New("line: bot info without userId")
	}
	return b, nil
}

// TokenInfo is what LINE says about an access token.
type TokenInfo struct {
	ClientID  string        // the channel id the token belongs to
	ExpiresIn time.Duration // time left
	Scope     string
}

type tokenAnswer struct {
	ClientID  string `json:"client_id"`
	ExpiresIn int64  `json:"expires_in"`
	Scope     string `json:"scope"`
}

func (a tokenAnswer) info() TokenInfo {
	sec := min(max(a.ExpiresIn, 0), int64(100*365*24*3600))
	return TokenInfo{ClientID: a.ClientID, ExpiresIn: time.Duration(sec) * time.Second, Scope: a.Scope}
}

// VerifyChannelToken checks a short- or long-lived channel access token with
// POST /v2/oauth/verify.
func (c *Client) VerifyChannelToken(ctx context.Context, channelToken string) (TokenInfo, error) {
	if channelToken == "" {
		return TokenInfo{}, errors.New("line: empty channel token")
	}
	var a tokenAnswer
	err := c.do(ctx, request{method: http.MethodPost, path: "/v2/oauth/verify",
		form: url.Values{"access_token": {channelToken}}}, &a)
	return a.info(), err
}

// VerifyAccessToken checks a v2.1 channel access token or a LIFF / LINE Login access
// token with GET /oauth2/v2.1/verify. It is called directly because the SDK sends the
// wrong query key for it.
func (c *Client) VerifyAccessToken(ctx context.Context, accessToken string) (TokenInfo, error) {
	if accessToken == "" {
		return TokenInfo{}, errors.New("line: empty access token")
	}
	var a tokenAnswer
	err := c.do(ctx, request{method: http.MethodGet, path: "/oauth2/v2.1/verify",
		query: url.Values{"access_token": {accessToken}}}, &a)
	if err == nil && a.ExpiresIn <= 0 {
		err = &APIError{Status: http.StatusBadRequest, Code: "invalid_request", Message: "access token expired"}
	}
	return a.info(), err
}

// SentMessage identifies a message LINE accepted.
type SentMessage struct {
	ID         string `json:"id"`
	QuoteToken string `json:"quoteToken"`
}

// SendResult is the answer to a push or reply.
type SendResult struct {
	SentMessages []SentMessage
	// AlreadyAccepted is true when LINE answered 409 to a push whose retry key it had
	// already accepted: the messages went out earlier, so the push counts as done.
	AlreadyAccepted bool
	// AcceptedRequestID is the X-Line-Accepted-Request-Id of a 409: the request that was
	// accepted first.
	AcceptedRequestID string
}

// MaxMessages is how many messages one push or reply may carry.
const MaxMessages = 5

// retryKeyPattern is the UUID form LINE requires for X-Line-Retry-Key.
var retryKeyPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func checkMessages(messages []any) error {
	if len(messages) == 0 || len(messages) > MaxMessages {
		return fmt.Errorf("line: need 1 to %d messages, got %d", MaxMessages, len(messages))
	}
	for i, m := range messages {
		if m == nil {
			return fmt.Errorf("line: message %d is nil", i)
		}
	}
	return nil
}

// Push sends messages to a user, group or room. retryKey (a UUID, optional) makes the
// push idempotent: a retry with the same key reports AlreadyAccepted instead of sending
// twice.
func (c *Client) Push(ctx context.Context, channelToken, to string, messages []any, retryKey string) (SendResult, error) {
	if to == "" {
		return SendResult{}, errors.New("line: empty push recipient")
	}
	if err := checkMessages(messages); err != nil {
		return SendResult{}, err
	}
	r := request{method: http.MethodPost, path: "/v2/bot/message/push", token: channelToken,
		body: map[string]any{"to": to, "messages": messages}}
	if retryKey != "" {
		if !retryKeyPattern.MatchString(retryKey) {
			return SendResult{}, errors.New("line: retry key must be a UUID")
		}
		// With the retry key the push is safe to repeat, and the nil Idempotency-Key (never
		// sent) tells Go's transport so: a keep-alive connection LINE closed as the push went
		// out is then retried at once instead of failing the delivery into a backoff.
		r.header = http.Header{"X-Line-Retry-Key": {retryKey}, "Idempotency-Key": nil}
	}
	resp, err := c.send(ctx, r)
	if err != nil {
		return SendResult{}, err
	}
	var a struct {
		SentMessages []SentMessage `json:"sentMessages"`
	}
	switch {
	case resp.status == http.StatusConflict && retryKey != "":
		_ = decodeLenient(resp.body, &a) // the 409 may list the earlier sentMessages
		return SendResult{SentMessages: a.SentMessages, AlreadyAccepted: true,
			AcceptedRequestID: resp.header.Get("X-Line-Accepted-Request-Id")}, nil
	case resp.status < 200 || resp.status > 299:
		return SendResult{}, parseAPIError(resp, channelToken)
	}
	if err := decodeLenient(resp.body, &a); err != nil {
		return SendResult{}, fmt.Errorf("line: decode push answer: %w", err)
	}
	return SendResult{SentMessages: a.SentMessages}, nil
}

// Reply answers a webhook event with its single-use, short-lived reply token.
func (c *Client) Reply(ctx context.Context, channelToken, replyToken string, messages []any) (SendResult, error) {
	if replyToken == "" {
		return SendResult{}, errors.New("line: empty reply token")
	}
	if err := checkMessages(messages); err != nil {
		return SendResult{}, err
	}
	var a struct {
		SentMessages []SentMessage `json:"sentMessages"`
	}
	err := c.do(ctx, request{method: http.MethodPost, path: "/v2/bot/message/reply", token: channelToken,
		body: map[string]any{"replyToken": replyToken, "messages": messages}}, &a)
	if err != nil {
		return SendResult{}, err
	}
	return SendResult{SentMessages: a.SentMessages}, nil
}

// Profile is a LINE user's public profile as seen by the bot.
type Profile struct {
	UserID        string `json:"userId"`
	DisplayName   string `json:"displayName"`
	PictureURL    string `json:"pictureUrl"`
	StatusMessage string `json:"statusMessage"`
	Language      string `json:"language"`
}

// Profile reads a user's profile. A user who is not a friend, has blocked the account
// or is unknown gives an error matching ErrNotFound.
func (c *Client) Profile(ctx context.Context, channelToken, userID string) (Profile, error) {
	seg, err := pathSegment("user id", userID)
	if err != nil {
		return Profile{}, err
	}
	var p Profile
	if err := c.do(ctx, request{method: http.MethodGet, path: "/v2/bot/profile/" + seg, token: channelToken}, &p); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// LinkRichMenu shows richMenuID to one user, overriding the default rich menu.
func (c *Client) LinkRichMenu(ctx context.Context, channelToken, userID, richMenuID string) error {
	u, err := pathSegment("user id", userID)
	if err != nil {
		return err
	}
	m, err := pathSegment("rich menu id", richMenuID)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodPost, path: "/v2/bot/user/" + u + "/richmenu/" + m, token: channelToken}, nil)
}

// UnlinkRichMenu returns a user to the default rich menu.
func (c *Client) UnlinkRichMenu(ctx context.Context, channelToken, userID string) error {
	u, err := pathSegment("user id", userID)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: "/v2/bot/user/" + u + "/richmenu", token: channelToken}, nil)
}

// TextMessage is a LINE text message.
type TextMessage struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// NewText returns a text message.
func NewText(text string) TextMessage { return TextMessage{Type: "text", Text: text} }

// FlexMessage is a LINE Flex Message; Contents is a bubble or carousel.
type FlexMessage struct {
	Type     string `json:"type"`
	AltText  string `json:"altText"`
	Contents any    `json:"contents"`
}

// NewFlex returns a Flex Message with the fallback text shown in notifications.
func NewFlex(altText string, contents any) FlexMessage {
	return FlexMessage{Type: "flex", AltText: altText, Contents: contents}
}
