package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/views/modules"
)

// modulePreview answers the editor's live preview: the module as typed, on its platform. It
// writes nothing.
func (h *Handler) modulePreview(c echo.Context) error {
	r := req(c)
	ctx := c.Request().Context()
	id, in := parseModuleForm(c)
	if id != 0 {
		m, err := h.modules.Module(ctx, r.User.TeamID, id)
		if err != nil {
			return err
		}
		in.Platform = m.Platform
	}
	content, err := h.modules.PreviewContent(ctx, r.User.TeamID, in.Platform, in.Blocks)
	if err != nil {
		return err
	}
	list, err := h.modules.List(ctx, r.User.TeamID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, modules.Preview(h.barePage(c, "modules.title"), modules.NewPreview(in.Name, in.Platform, content, list)))
}

// moduleView is one module's preview alone (檢視預覽), as the campaign pickers link it.
func (h *Handler) moduleView(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r := req(c)
	ctx := c.Request().Context()
	m, err := h.modules.Module(ctx, r.User.TeamID, id)
	if err != nil {
		return err
	}
	content, err := h.modules.PreviewContent(ctx, r.User.TeamID, m.Platform, m.Blocks)
	if err != nil {
		return err
	}
	list, err := h.modules.List(ctx, r.User.TeamID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, modules.PreviewPage(h.page(c, "modules.preview"), idString(m.ID), modules.NewPreview(m.Name, m.Platform, content, list)))
}
