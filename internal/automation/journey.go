package automation

import (
	"context"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Journeys lists the team's journeys.
func (t *Tags) Journeys(ctx context.Context, teamID int64) ([]models.Journey, error) {
	return t.st.TeamJourneys(ctx, teamID)
}

// Journey loads one of the team's journeys.
func (t *Tags) Journey(ctx context.Context, teamID, id int64) (*models.Journey, error) {
	return t.st.TeamJourney(ctx, teamID, id)
}

// Channels lists the team's connected channels (for step pickers).
func (t *Tags) Channels(ctx context.Context, teamID int64) ([]models.Channel, error) {
	list, err := t.st.TeamChannels(ctx, teamID)
	out := list[:0]
	for _, ch := range list {
		if ch.Status != models.ChannelDisconnected {
			out = append(out, ch)
		}
	}
	return out, err
}

// SaveJourney creates a journey (id 0) or changes its name, trigger tag and switch; a trigger
// tag of another team is a 404.
func (t *Tags) SaveJourney(ctx context.Context, actor *models.User, id int64, in models.JourneyInput) (*models.Journey, error) {
	if errs := in.Validate(); len(errs) > 0 {
		return nil, errs
	}
	var j *models.Journey
	err := t.st.WithTx(ctx, func(tx *store.Store) error {
		if _, err := tx.TeamTag(ctx, actor.TeamID, in.TriggerTagID); err != nil {
			return err
		}
		if id == 0 {
			j = &models.Journey{TeamID: actor.TeamID, CreatedBy: &actor.ID, CreatedAt: t.now(), Steps: models.JourneySteps{}}
		} else {
			var err error
			if j, err = tx.TeamJourney(ctx, actor.TeamID, id); err != nil {
				return err
			}
		}
		j.Name, j.TriggerTagID, j.Enabled, j.UpdatedAt = in.Name, &in.TriggerTagID, in.Enabled, t.now()
		return tx.SaveJourney(ctx, j)
	})
	return j, err
}

// DeleteJourney deletes one of the team's journeys with its runs.
func (t *Tags) DeleteJourney(ctx context.Context, actor *models.User, id int64) error {
	return t.st.DeleteTeamJourney(ctx, actor.TeamID, id)
}

// AddStep appends a step; the channel, tag or module it names must be the team's (404).
func (t *Tags) AddStep(ctx context.Context, actor *models.User, journeyID int64, in models.StepInput) error {
	step, errs := in.Validate()
	if len(errs) > 0 {
		return errs
	}
	return t.st.WithTx(ctx, func(tx *store.Store) error {
		j, err := tx.TeamJourney(ctx, actor.TeamID, journeyID)
		if err != nil {
			return err
		}
		if len(j.Steps) >= models.MaxJourneySteps {
			errs := models.FieldProblems{}
			errs.Add("kind", "journeys.error.too_many_steps", "Max", models.MaxJourneySteps)
			return errs
		}
		switch step.Kind {
		case models.StepSendText, models.StepSendModule:
			ch, err := tx.Channel(ctx, actor.TeamID, step.ChannelID)
			if err != nil {
				return err
			}
			if ch.Status == models.ChannelDisconnected {
				return apperr.ErrNotFound
			}
			if step.Kind == models.StepSendModule {
				if err := t.checkModule(ctx, tx, actor.TeamID, step.ModuleID); err != nil {
					return err
				}
			}
		case models.StepAddTag, models.StepRemoveTag:
			if _, err := tx.TeamTag(ctx, actor.TeamID, step.TagID); err != nil {
				return err
			}
		}
		j.Steps = append(j.Steps, step)
		j.UpdatedAt = t.now()
		return tx.SaveJourney(ctx, j)
	})
}

// checkModule refuses another team's bot module with a 404. Bot modules live in their own
// table; until it exists no module id can be checked, so none is accepted.
func (t *Tags) checkModule(ctx context.Context, tx *store.Store, teamID, moduleID int64) error {
	ok, err := tx.TeamModuleExists(ctx, teamID, moduleID)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.ErrNotFound
	}
	return nil
}

// DeleteStep removes the step at index (0-based). Runs past it keep their place by index.
func (t *Tags) DeleteStep(ctx context.Context, actor *models.User, journeyID int64, index int) error {
	return t.st.WithTx(ctx, func(tx *store.Store) error {
		j, err := tx.TeamJourney(ctx, actor.TeamID, journeyID)
		if err != nil {
			return err
		}
		if index < 0 || index >= len(j.Steps) {
			return apperr.ErrNotFound
		}
		j.Steps = append(j.Steps[:index:index], j.Steps[index+1:]...)
		j.UpdatedAt = t.now()
		return tx.SaveJourney(ctx, j)
	})
}

// JourneyRuns lists a journey's latest runs with their recorded steps.
func (t *Tags) JourneyRuns(ctx context.Context, teamID, journeyID int64) ([]store.JourneyRunView, []models.JourneyRunStep, map[models.RunStatus]int64, error) {
	runs, err := t.st.TeamJourneyRuns(ctx, teamID, journeyID, 100)
	if err != nil {
		return nil, nil, nil, err
	}
	ids := make([]int64, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	steps, err := t.st.TeamJourneyRunSteps(ctx, teamID, ids)
	if err != nil {
		return nil, nil, nil, err
	}
	counts, err := t.st.JourneyRunCounts(ctx, teamID, journeyID)
	return runs, steps, counts, err
}

// startRun starts a contact's run of a journey unless one is running for the contact or another
// identity of its customer (a tag put on a customer reaches every identity, and the customer
// should hear the journey once); its first step is due now.
func (t *Tags) startRun(ctx context.Context, tx *store.Store, j *models.Journey, contactID int64) error {
	if running, err := tx.TeamCustomerRunsJourney(ctx, j.TeamID, j.ID, contactID); err != nil || running {
		return err
	}
	now := t.now()
	_, err := tx.StartJourneyRun(ctx, &models.JourneyRun{TeamID: j.TeamID, JourneyID: j.ID, ContactID: contactID,
		Status: models.RunRunning, NextStepAt: &now, StartedAt: now, UpdatedAt: now})
	return err
}
