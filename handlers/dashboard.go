package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/views/dashboard"
)

// dashboard is the home page: one card per console area the role may open.
func (h *Handler) dashboard(c echo.Context) error {
	p := h.page(c, "dashboard.title")
	var cards []dashboard.Card
	for _, n := range p.Nav {
		if n.Href == "/" {
			continue
		}
		cards = append(cards, dashboard.Card{Title: p.T(n.Key), Note: p.T(n.NoteKey), Href: n.Href})
	}
	return render(c, http.StatusOK, dashboard.Index(p, cards))
}
