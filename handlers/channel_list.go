package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/views/channels"
)

// channelList is the channels page (通訊渠道 > 串接社群通訊渠道), with any open Facebook Login dialog.
func (h *Handler) channelList(c echo.Context) error {
	dialog, err := h.dialogFor(c, nil)
	if err != nil {
		return err
	}
	return h.renderChannelList(c, http.StatusOK, dialog)
}

// renderChannelList renders the channels page with the given dialog and status.
func (h *Handler) renderChannelList(c echo.Context, status int, dialog *channels.DialogVM) error {
	r := req(c)
	ctx := c.Request().Context()
	list, err := h.channels.List(ctx, r.User.TeamID)
	if err != nil {
		return err
	}
	rows, err := h.channelRows(ctx, r.Loc, r.User.TeamID, list)
	if err != nil {
		return err
	}
	return render(c, status, channels.List(h.page(c, "channels.title"), channels.NewListVM(rows, dialog)))
}
