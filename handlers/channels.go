package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	chsvc "github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
	"github.com/omnilink/omnilink/views/channels"
	healthviews "github.com/omnilink/omnilink/views/health"
	"github.com/omnilink/omnilink/views/layout"
)

// This file holds what the channel actions share; each action has its own channel_*.go file.

// Channels is the channel-integration service the console needs.
type Channels interface {
	List(ctx context.Context, teamID int64) ([]models.Channel, error)
	Channel(ctx context.Context, teamID, id int64) (*models.Channel, error)
	StartOAuth(ctx context.Context, actor *models.User, sessionHash string, purpose models.Platform, channelID *int64, rerequest bool) (chsvc.Start, error)
	CompleteOAuth(ctx context.Context, actor *models.User, sessionHash string, cb chsvc.Callback) (*models.OAuthState, error)
	Dialog(ctx context.Context, actor *models.User, sessionHash string) (*models.OAuthState, error)
	Dismiss(ctx context.Context, actor *models.User, stateID string) error
	Connect(ctx context.Context, actor *models.User, stateID string, accountIDs []string) (chsvc.ConnectResult, error)
	Disconnect(ctx context.Context, actor *models.User, id int64) error
	ConnectLine(ctx context.Context, actor *models.User, in chsvc.LineInput, existingID *int64) (*models.Channel, error)
	ConnectWhatsApp(ctx context.Context, actor *models.User, in chsvc.WhatsAppInput, existingID *int64) (*models.Channel, error)
	Authorizers(ctx context.Context, teamID int64, ids []int64) (map[int64]string, error)
}

// sessionHash binds OAuth states to this browser session without storing the session id itself.
func sessionHash(c echo.Context) string {
	s := req(c).Session
	if s == nil || s.ID == "" {
		return ""
	}
	h := sha256.Sum256([]byte("oauth:" + s.ID))
	return hex.EncodeToString(h[:])
}

// channelRows builds the list rows: each channel with its health verdict and who authorised it.
func (h *Handler) channelRows(ctx context.Context, loc *i18n.Localizer, teamID int64, list []models.Channel) ([]channels.Row, error) {
	var ids []int64
	for _, ch := range list {
		if ch.AuthorizedBy != nil {
			ids = append(ids, *ch.AuthorizedBy)
		}
	}
	names, err := h.channels.Authorizers(ctx, teamID, ids)
	if err != nil {
		return nil, err
	}
	verdicts := map[int64]models.HealthVerdict{}
	if h.health != nil {
		reps, err := h.health.TeamReports(ctx, teamID)
		if err != nil {
			return nil, err
		}
		for id, rep := range reps {
			verdicts[id] = rep.Health.Verdict
		}
	}
	rows := make([]channels.Row, 0, len(list))
	for i := range list {
		ch := &list[i]
		var by string
		if ch.AuthorizedBy != nil {
			by = names[*ch.AuthorizedBy]
		}
		rows = append(rows, channels.NewRow(loc, ch, verdicts[ch.ID], by))
	}
	return rows, nil
}

// channelRow builds one channel's row with its health verdict and who authorised it.
func (h *Handler) channelRow(ctx context.Context, loc *i18n.Localizer, ch *models.Channel) (channels.Row, error) {
	rows, err := h.channelRows(ctx, loc, ch.TeamID, []models.Channel{*ch})
	if err != nil {
		return channels.Row{}, err
	}
	return rows[0], nil
}

// dialogFor is the Facebook Login dialog of this browser session, or nil when none is open.
// ticked keeps the accounts chosen in a submit being shown again.
func (h *Handler) dialogFor(c echo.Context, ticked []string) (*channels.DialogVM, error) {
	r := req(c)
	ctx := c.Request().Context()
	st, err := h.channels.Dialog(ctx, r.User, sessionHash(c))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return channels.NewDialogVM(r.Loc, st, h.authorizerName(ctx, r.User.TeamID, st.AuthorizationID), ticked), nil
}

// authorizerName is the Facebook user behind an authorisation, or "" when unknown.
func (h *Handler) authorizerName(ctx context.Context, teamID int64, id *int64) string {
	if id == nil {
		return ""
	}
	names, err := h.channels.Authorizers(ctx, teamID, []int64{*id})
	if err != nil {
		return ""
	}
	return names[*id]
}

// platformName is the localised kind of account, for messages that name a channel.
func platformName(loc *i18n.Localizer, p models.Platform) string {
	return healthviews.PlatformName(loc, p)
}

// withoutBannerOf drops the broken-channel banner of the channel a page is about: the page
// itself says what is wrong, once.
func withoutBannerOf(p *layout.Page, channelID int64) *layout.Page {
	href := healthviews.ReauthorizeURL(channelID)
	kept := p.Banners[:0]
	for _, b := range p.Banners {
		if b.ActionHref != href {
			kept = append(kept, b)
		}
	}
	p.Banners = kept
	return p
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }

// formErrors places every field error beside its form field; what concerns no field shown goes
// above the form.
func formErrors(loc *i18n.Localizer, ae *apperr.Error, fields ...string) (map[string]string, string) {
	out := map[string]string{}
	var top string
	for _, fe := range ae.FieldErrors() {
		shown := false
		for _, f := range fields {
			if fe.Field == f {
				if _, dup := out[f]; !dup {
					out[f] = loc.TMap(fe.Key, fe.Args)
				}
				shown = true
			}
		}
		if !shown && top == "" {
			top = loc.TMap(fe.Key, fe.Args)
		}
	}
	if len(out) == 0 && top == "" {
		top = loc.TMap(ae.Key, ae.Args)
	}
	if len(out) == 0 {
		out = nil
	}
	return out, top
}

// pathChannel loads the signed-in team's channel named by :id; another team's id is not found.
func (h *Handler) pathChannel(c echo.Context) (*models.Channel, error) {
	id, err := pathID(c)
	if err != nil {
		return nil, err
	}
	return h.channels.Channel(c.Request().Context(), req(c).User.TeamID, id)
}
