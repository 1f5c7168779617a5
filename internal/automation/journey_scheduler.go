package automation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/messaging"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// SchedulerOptions tune the journey scheduler; zero values take the defaults.
type SchedulerOptions struct {
	Batch        int           // runs claimed per transaction (default 50)
	PollInterval time.Duration // how often Run looks for due runs (default 5s)
	RetryAfter   time.Duration // delay before a run whose step hit a database error is tried again (default 1m)
}

// Scheduler advances journey runs whose next step is due. Runs are claimed in small batches
// with FOR UPDATE SKIP LOCKED, so any number of replicas may run one and each run is advanced
// by exactly one of them; progress is in the database, so a restart loses nothing.
type Scheduler struct {
	t   *Tags
	opt SchedulerOptions
}

// Scheduler builds a scheduler over the tag service.
func (t *Tags) Scheduler(opt SchedulerOptions) *Scheduler {
	if opt.Batch <= 0 {
		opt.Batch = 50
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = 5 * time.Second
	}
	if opt.RetryAfter <= 0 {
		opt.RetryAfter = time.Minute
	}
	return &Scheduler{t: t, opt: opt}
}

// Run advances due runs until ctx ends, polling, and at once after this process started a run.
func (s *Scheduler) Run(ctx context.Context) {
	tk := time.NewTicker(s.opt.PollInterval)
	defer tk.Stop()
	for {
		if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.t.log.Warn("journey round failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		case <-s.t.wake:
		}
	}
}

// Tick advances every run due now, batch by batch, and returns how many it advanced.
func (s *Scheduler) Tick(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		n, err := s.batch(ctx)
		total += n
		if err != nil || n == 0 {
			if total > 0 && s.t.notify != nil {
				s.t.notify.Notify()
			}
			return total, err
		}
	}
	return total, ctx.Err()
}

func (s *Scheduler) batch(ctx context.Context) (int, error) {
	n := 0
	err := s.t.st.WithTx(ctx, func(tx *store.Store) error {
		now := s.t.now()
		runs, err := tx.ClaimDueJourneyRuns(ctx, now, s.opt.Batch)
		if err != nil {
			return err
		}
		n = len(runs)
		for i := range runs {
			run := &runs[i]
			// A savepoint per run: one run's failure leaves the others' progress intact.
			err := tx.WithTx(ctx, func(sp *store.Store) error { return s.t.advance(ctx, sp, run) })
			if err != nil {
				s.t.log.Warn("journey step failed; will retry", "run_id", run.ID, "error", err)
				next := now.Add(s.opt.RetryAfter)
				run.NextStepAt, run.UpdatedAt = &next, now
				if err := tx.SaveJourneyRun(ctx, run); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return n, err
}

// advance runs a run's steps from where it stands until a wait or the end. Each step is
// recorded as done, or skipped with why; only database errors are returned.
func (t *Tags) advance(ctx context.Context, tx *store.Store, run *models.JourneyRun) error {
	now := t.now()
	j, err := tx.JourneySystem(ctx, run.JourneyID)
	if err != nil {
		return err
	}
	if !j.Enabled {
		run.Status, run.FinishedAt, run.NextStepAt, run.UpdatedAt = models.RunStopped, &now, nil, now
		return tx.SaveJourneyRun(ctx, run)
	}
	for run.Step < len(j.Steps) {
		idx, st := run.Step, j.Steps[run.Step]
		outcome, reason := models.StepDone, ""
		if st.Kind == models.StepWait {
			next := now.Add(time.Duration(st.Minutes) * time.Minute)
			run.Step++
			run.NextStepAt, run.UpdatedAt = &next, now
			if err := tx.RecordJourneyStep(ctx, &models.JourneyRunStep{RunID: run.ID, Step: idx, Kind: st.Kind, Outcome: outcome, At: now}); err != nil {
				return err
			}
			return tx.SaveJourneyRun(ctx, run)
		}
		outcome, reason, err = t.doStep(ctx, tx, j, run, idx, st)
		if err != nil {
			return err
		}
		if err := tx.RecordJourneyStep(ctx, &models.JourneyRunStep{RunID: run.ID, Step: idx, Kind: st.Kind, Outcome: outcome, Reason: reason, At: now}); err != nil {
			return err
		}
		run.Step++
	}
	run.Status, run.FinishedAt, run.NextStepAt, run.UpdatedAt = models.RunDone, &now, nil, now
	return tx.SaveJourneyRun(ctx, run)
}

// doStep performs one non-wait step. A reason is an i18n key under journeys.skip, optionally
// followed by "|" and a detail.
func (t *Tags) doStep(ctx context.Context, tx *store.Store, j *models.Journey, run *models.JourneyRun, idx int, st models.JourneyStep) (models.StepOutcome, string, error) {
	skip := func(key string, err error) (models.StepOutcome, string, error) {
		if err == nil {
			return models.StepSkipped, key, nil
		}
		if _, ok := apperr.From(err); ok {
			return models.StepSkipped, key + "|" + truncate(err.Error()), nil
		}
		return "", "", err
	}
	switch st.Kind {
	case models.StepSendText, models.StepSendModule:
		contact, err := tx.TeamContact(ctx, run.TeamID, run.ContactID)
		if err != nil {
			return "", "", err
		}
		target, err := tx.CustomerContactOnChannel(ctx, run.TeamID, contact, st.ChannelID)
		if errors.Is(err, store.ErrNotFound) {
			return skip(models.SkipNoContactOnChannel, nil)
		} else if err != nil {
			return "", "", err
		}
		key := fmt.Sprintf("journey:%d:run:%d:step:%d", j.ID, run.ID, idx)
		cause := "journey " + j.Name
		var res messaging.Result
		if st.Kind == models.StepSendModule {
			if t.modules == nil {
				return skip(models.SkipModulesUnavailable, nil)
			}
			res, err = t.modules.SendModule(ctx, tx, run.TeamID, target.ID, st.ModuleID, key, cause)
		} else {
			res, err = t.send.Send(ctx, tx, messaging.SendRequest{TeamID: run.TeamID, ContactID: target.ID,
				Content: models.TextContent(st.Text), IdempotencyKey: key, Cause: cause, Automated: true})
		}
		if err != nil {
			return skip(models.SkipSendRefused, err)
		}
		if res.Outcome != models.SendQueued && res.Outcome != models.SendSent {
			return models.StepSkipped, models.SkipSendRefused + "|" + string(res.Outcome), nil
		}
		return models.StepDone, "", nil
	case models.StepAddTag:
		_, err := t.add(ctx, tx, run.TeamID, run.ContactID, []int64{st.TagID}, models.TagByJourney, &j.ID)
		if err != nil {
			return skip(models.SkipTagGone, err)
		}
	case models.StepRemoveTag:
		if err := t.remove(ctx, tx, run.TeamID, run.ContactID, st.TagID); err != nil {
			return skip(models.SkipTagGone, err)
		}
	}
	return models.StepDone, "", nil
}
