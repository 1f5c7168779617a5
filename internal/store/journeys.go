package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/omnilink/omnilink/models"
)

// TeamJourneys lists a team's journeys by name.
func (s *Store) TeamJourneys(ctx context.Context, teamID int64) ([]models.Journey, error) {
	var out []models.Journey
	err := s.q(ctx).Where("team_id = ?", teamID).Order("lower(name), id").Find(&out).Error
	return out, err
}

// TeamJourney loads one of the team's journeys.
func (s *Store) TeamJourney(ctx context.Context, teamID, id int64) (*models.Journey, error) {
	return first[models.Journey](s.q(ctx).Where("team_id = ? AND id = ?", teamID, id))
}

// JourneySystem loads a journey by id alone (the scheduler).
func (s *Store) JourneySystem(ctx context.Context, id int64) (*models.Journey, error) {
	return first[models.Journey](s.q(ctx).Where("id = ?", id))
}

// SaveJourney inserts or updates a journey.
func (s *Store) SaveJourney(ctx context.Context, j *models.Journey) error {
	return s.q(ctx).Save(j).Error
}

// DeleteTeamJourney deletes one of the team's journeys with its runs.
func (s *Store) DeleteTeamJourney(ctx context.Context, teamID, id int64) error {
	return affected(s.q(ctx).Where("team_id = ? AND id = ?", teamID, id).Delete(&models.Journey{}))
}

// EnabledJourneysForTriggers lists the team's enabled journeys triggered by any of the tags,
// plus those named in ids (started by tag rules).
func (s *Store) EnabledJourneysForTriggers(ctx context.Context, teamID int64, tagIDs, ids []int64) ([]models.Journey, error) {
	var out []models.Journey
	if len(tagIDs) == 0 && len(ids) == 0 {
		return out, nil
	}
	if tagIDs == nil {
		tagIDs = []int64{0}
	}
	if ids == nil {
		ids = []int64{0}
	}
	err := s.q(ctx).Where("team_id = ? AND enabled AND (trigger_tag_id IN ? OR id IN ?)", teamID, tagIDs, ids).Order("id").Find(&out).Error
	return out, err
}

// StartJourneyRun starts a run unless the contact already has one running in that journey;
// started is false then.
func (s *Store) StartJourneyRun(ctx context.Context, r *models.JourneyRun) (started bool, err error) {
	res := s.q(ctx).Clauses(clause.OnConflict{
		Columns:     []clause.Column{{Name: "journey_id"}, {Name: "contact_id"}},
		TargetWhere: clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "status = 'running'"}}},
		DoNothing:   true,
	}).Create(r)
	return res.RowsAffected == 1, res.Error
}

// TeamCustomerRunsJourney reports whether any identity of the contact's customer has a run of
// the journey in progress: a journey speaks to a customer, whichever identity a tag reached.
func (s *Store) TeamCustomerRunsJourney(ctx context.Context, teamID, journeyID, contactID int64) (bool, error) {
	var running bool
	err := s.q(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM journey_runs r JOIN contacts c ON c.id = r.contact_id
		WHERE r.team_id = ? AND r.journey_id = ? AND r.status = 'running'
		  AND c.customer_id = (SELECT customer_id FROM contacts WHERE team_id = ? AND id = ?))`,
		teamID, journeyID, teamID, contactID).Scan(&running).Error
	return running, err
}

// ClaimDueJourneyRuns locks up to limit running runs whose next step is due; runs another
// transaction holds are skipped, so replicas never advance the same run.
func (s *Store) ClaimDueJourneyRuns(ctx context.Context, now time.Time, limit int) ([]models.JourneyRun, error) {
	var out []models.JourneyRun
	err := s.q(ctx).Raw(`SELECT * FROM journey_runs WHERE status = 'running' AND next_step_at <= ?
		ORDER BY next_step_at, id LIMIT ? FOR UPDATE SKIP LOCKED`, now, limit).Scan(&out).Error
	return out, err
}

// SaveJourneyRun writes a run's progress.
func (s *Store) SaveJourneyRun(ctx context.Context, r *models.JourneyRun) error {
	return s.q(ctx).Save(r).Error
}

// RecordJourneyStep records what a step of a run did; a repeat of the same step is ignored.
func (s *Store) RecordJourneyStep(ctx context.Context, st *models.JourneyRunStep) error {
	return s.q(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(st).Error
}

// JourneyRunView is a run with its contact's name, for the journey page.
type JourneyRunView struct {
	models.JourneyRun
	ContactName string
	ExternalID  string
}

// TeamJourneyRuns lists the latest runs of one of the team's journeys.
func (s *Store) TeamJourneyRuns(ctx context.Context, teamID, journeyID int64, limit int) ([]JourneyRunView, error) {
	var out []JourneyRunView
	err := s.q(ctx).Raw(`SELECT r.*, c.name AS contact_name, c.external_user_id AS external_id
		FROM journey_runs r JOIN contacts c ON c.id = r.contact_id
		WHERE r.team_id = ? AND r.journey_id = ? ORDER BY r.started_at DESC, r.id DESC LIMIT ?`, teamID, journeyID, limit).Scan(&out).Error
	return out, err
}

// TeamJourneyRunSteps lists the recorded steps of the given runs of the team.
func (s *Store) TeamJourneyRunSteps(ctx context.Context, teamID int64, runIDs []int64) ([]models.JourneyRunStep, error) {
	var out []models.JourneyRunStep
	if len(runIDs) == 0 {
		return out, nil
	}
	err := s.q(ctx).Raw(`SELECT s.* FROM journey_run_steps s JOIN journey_runs r ON r.id = s.run_id
		WHERE r.team_id = ? AND s.run_id IN ? ORDER BY s.run_id, s.step`, teamID, runIDs).Scan(&out).Error
	return out, err
}

// JourneyRunCounts counts a journey's runs by status.
func (s *Store) JourneyRunCounts(ctx context.Context, teamID, journeyID int64) (map[models.RunStatus]int64, error) {
	var rows []struct {
		Status models.RunStatus
		N      int64
	}
	err := s.q(ctx).Raw(`SELECT status, count(*) AS n FROM journey_runs WHERE team_id = ? AND journey_id = ? GROUP BY status`, teamID, journeyID).Scan(&rows).Error
	out := map[models.RunStatus]int64{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, err
}

// TeamModuleExists reports whether the team has a bot module with this id. Bot modules are
// kept in bot_modules; while that table does not exist no id matches.
func (s *Store) TeamModuleExists(ctx context.Context, teamID, id int64) (bool, error) {
	var table *string
	if err := s.q(ctx).Raw(`SELECT to_regclass('bot_modules')::text`).Scan(&table).Error; err != nil || table == nil {
		return false, err
	}
	var ok bool
	err := s.q(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM bot_modules WHERE team_id = ? AND id = ?)`, teamID, id).Scan(&ok).Error
	return ok, err
}
