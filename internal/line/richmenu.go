package line

import (
	"context"
	"errors"
	"net/http"
)

// RichMenu is a rich menu as LINE lists it.
type RichMenu struct {
	RichMenuID  string         `json:"richMenuId"`
	Name        string         `json:"name"`
	ChatBarText string         `json:"chatBarText"`
	Selected    bool           `json:"selected"`
	Size        RichMenuSize   `json:"size"`
	Areas       []RichMenuArea `json:"areas"`
}

// RichMenuSize is a rich menu's image size in pixels.
type RichMenuSize struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

// RichMenuArea is one tappable area; its action is kept as LINE sent it.
type RichMenuArea struct {
	Bounds map[string]int `json:"bounds"`
	Action map[string]any `json:"action"`
}

// RichMenuList lists the channel's rich menus (GET /v2/bot/richmenu/list).
func (c *Client) RichMenuList(ctx context.Context, channelToken string) ([]RichMenu, error) {
	var out struct {
		RichMenus []RichMenu `json:"richmenus"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/v2/bot/richmenu/list", token: channelToken}, &out); err != nil {
		return nil, err
	}
	return out.RichMenus, nil
}

// UserRichMenu returns the rich menu linked to a user, or "" when the user sees the default.
func (c *Client) UserRichMenu(ctx context.Context, channelToken, userID string) (string, error) {
	u, err := pathSegment("user id", userID)
	if err != nil {
		return "", err
	}
	var out struct {
		RichMenuID string `json:"richMenuId"`
	}
	err = c.do(ctx, request{method: http.MethodGet, path: "/v2/bot/user/" + u + "/richmenu", token: channelToken}, &out)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return out.RichMenuID, err
}

// IsRichMenuMissing reports whether err is LINE's answer to linking a rich menu that does not
// exist (404 "richmenu not found").
func IsRichMenuMissing(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound && ae.Message == "richmenu not found"
}
