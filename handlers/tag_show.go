package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	tagviews "github.com/omnilink/omnilink/views/tags"
)

// tagShow is one tag: its contacts, the picker to apply it, and its rules (checked against
// the rich menus LINE lists now).
func (h *Handler) tagShow(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	return h.renderTag(c, http.StatusOK, id, tagviews.RuleForm{}, nil)
}

func (h *Handler) renderTag(c echo.Context, status int, id int64, form tagviews.RuleForm, problems tagviews.Problems) error {
	r := req(c)
	ctx := c.Request().Context()
	team := r.User.TeamID
	tag, err := h.tags.Tag(ctx, team, id)
	if err != nil {
		return err
	}
	contacts, err := h.tags.TaggedContacts(ctx, team, id)
	if err != nil {
		return err
	}
	choices, err := h.tags.ContactChoices(ctx, team)
	if err != nil {
		return err
	}
	menus, unavailable, err := h.tags.MenuChoices(ctx, team)
	if err != nil {
		return err
	}
	rules, err := h.tags.Rules(ctx, team, id, menus, unavailable)
	if err != nil {
		return err
	}
	journeys, err := h.tags.Journeys(ctx, team)
	if err != nil {
		return err
	}
	chans, err := h.tags.Channels(ctx, team)
	if err != nil {
		return err
	}
	p := h.page(c, "tags.title")
	vm := tagviews.NewDetail(p.Zone, tag, contacts, choices, rules, menus, unavailable, journeys, chans, form, problems)
	p.Title = tag.Name
	return render(c, status, tagviews.Detail(p, vm))
}
