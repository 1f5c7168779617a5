package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/automation"
	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
	tagviews "github.com/omnilink/omnilink/views/tags"
)

// TagService is what the tag and journey pages need (automation.Tags).
type TagService interface {
	List(ctx context.Context, teamID int64) ([]models.TagRow, error)
	Tag(ctx context.Context, teamID, id int64) (*models.Tag, error)
	Create(ctx context.Context, actor *models.User, in models.TagInput) (*models.Tag, error)
	Delete(ctx context.Context, actor *models.User, id int64) error
	TaggedContacts(ctx context.Context, teamID, tagID int64) ([]models.TaggedContact, error)
	ContactChoices(ctx context.Context, teamID int64) ([]store.ContactChoice, error)
	Apply(ctx context.Context, actor *models.User, contactID, tagID int64) error
	Remove(ctx context.Context, actor *models.User, contactID, tagID int64) error
	MenuChoices(ctx context.Context, teamID int64) ([]automation.MenuChoice, []models.Channel, error)
	Rules(ctx context.Context, teamID, tagID int64, choices []automation.MenuChoice, unavailable []models.Channel) ([]models.TagRule, error)
	SaveRule(ctx context.Context, actor *models.User, tagID int64, in models.RuleInput) (*models.TagRule, error)
	DeleteRule(ctx context.Context, actor *models.User, tagID, ruleID int64) error
	Channels(ctx context.Context, teamID int64) ([]models.Channel, error)
	Journeys(ctx context.Context, teamID int64) ([]models.Journey, error)
	Journey(ctx context.Context, teamID, id int64) (*models.Journey, error)
	SaveJourney(ctx context.Context, actor *models.User, id int64, in models.JourneyInput) (*models.Journey, error)
	DeleteJourney(ctx context.Context, actor *models.User, id int64) error
	AddStep(ctx context.Context, actor *models.User, journeyID int64, in models.StepInput) error
	DeleteStep(ctx context.Context, actor *models.User, journeyID int64, index int) error
	JourneyRuns(ctx context.Context, teamID, journeyID int64) ([]store.JourneyRunView, []models.JourneyRunStep, map[models.RunStatus]int64, error)
}

// tagList is the team's tags with the new-tag form.
func (h *Handler) tagList(c echo.Context) error {
	return h.renderTagList(c, http.StatusOK, "", nil)
}

func (h *Handler) renderTagList(c echo.Context, status int, name string, problems tagviews.Problems) error {
	r := req(c)
	rows, err := h.tags.List(c.Request().Context(), r.User.TeamID)
	if err != nil {
		return err
	}
	return render(c, status, tagviews.List(h.page(c, "tags.title"), tagviews.NewList(rows, name, problems)))
}

// translateProblems turns field problems into messages in the user's language.
func translateProblems(loc *i18n.Localizer, problems models.FieldProblems) map[string]string {
	out := map[string]string{}
	for f, p := range problems {
		out[f] = loc.TMap(p.Key, p.Args)
	}
	return out
}

// paramID reads a positive id from a path parameter; anything else is a 404.
func paramID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.ErrNotFound
	}
	return id, nil
}

// asProblems reports whether err carries field problems.
func asProblems(err error) (models.FieldProblems, bool) {
	var p models.FieldProblems
	ok := errors.As(err, &p)
	return p, ok
}
