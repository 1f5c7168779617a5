package automation_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/automation"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/models"
)

func (e *env) journey(trigger *models.Tag, steps ...models.StepInput) *models.Journey {
	e.t.Helper()
	ctx := context.Background()
	j, err := e.tags.SaveJourney(ctx, e.admin, 0, models.JourneyInput{Name: "歡迎旅程", TriggerTagID: trigger.ID, Enabled: true})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, s := range steps {
		if err := e.tags.AddStep(ctx, e.admin, j.ID, s); err != nil {
			e.t.Fatalf("step %+v: %v", s, err)
		}
	}
	j, _ = e.app.Store.TeamJourney(ctx, e.team.ID, j.ID)
	return j
}

// withStep appends a step straight in the database, for steps the form cannot make yet.
func (e *env) withStep(j *models.Journey, st models.JourneyStep) {
	e.t.Helper()
	j.Steps = append(j.Steps, st)
	if err := e.app.Store.SaveJourney(context.Background(), j); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) tick(s *automation.Scheduler) int {
	e.t.Helper()
	n, err := s.Tick(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) pushedTexts(userID string) []string {
	var out []string
	for _, m := range e.world.Conversation(sandbox.PlatformLINE, sandbox.LINEChannelID, userID) {
		if m.Direction == sandbox.Outbound {
			out = append(out, m.Text)
		}
	}
	return out
}

func (e *env) runs(journeyID int64) []models.JourneyRun {
	e.t.Helper()
	var out []models.JourneyRun
	rows, err := e.app.SQL().Query(context.Background(), `SELECT id, status, step FROM journey_runs WHERE journey_id = $1 ORDER BY id`, journeyID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var r models.JourneyRun
		if err := rows.Scan(&r.ID, &r.Status, &r.Step); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestJourneyWaitsAMinuteThenSends(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	trigger := e.tag("已綁定")
	fb := e.app.SandboxChannel(e.team.ID, e.world, e.meta, models.Facebook, sandbox.BearBakeryPageID, "mei")
	j := e.journey(trigger,
		models.StepInput{Kind: models.StepWait, Wait: "1", Unit: models.UnitMinutes},
		models.StepInput{Kind: models.StepSendText, ChannelID: e.lineCh.ID, Text: "歡迎加入會員！"},
		models.StepInput{Kind: models.StepSendText, ChannelID: fb.ID, Text: "FB 上見"},
	)
	// Bot modules are not wired here: the step is recorded as skipped, never faked.
	e.withStep(j, models.JourneyStep{Kind: models.StepSendModule, ChannelID: e.lineCh.ID, ModuleID: 42})
	sched := e.tags.Scheduler(automation.SchedulerOptions{})
	ming := e.contact(e.lineCh, sandbox.LINEUserXiaoming)

	e.apply(ming, trigger)
	if n := e.tick(sched); n != 1 {
		t.Fatalf("advanced %d runs, want 1", n)
	}
	e.clock.Advance(59 * time.Second)
	if n := e.tick(sched); n != 0 {
		t.Fatalf("advanced %d runs before the wait ended", n)
	}
	e.drain()
	if got := e.pushedTexts(sandbox.LINEUserXiaoming); len(got) != 0 {
		t.Fatalf("sent before the wait: %v", got)
	}
	e.clock.Advance(time.Second)
	if n := e.tick(sched); n != 1 {
		t.Fatalf("advanced %d runs after the wait, want 1", n)
	}
	e.drain()
	if got := e.pushedTexts(sandbox.LINEUserXiaoming); len(got) != 1 || got[0] != "歡迎加入會員！" {
		t.Fatalf("sandbox got %v", got)
	}
	runs := e.runs(j.ID)
	if len(runs) != 1 || runs[0].Status != models.RunDone {
		t.Fatalf("runs %+v", runs)
	}
	_, steps, counts, err := e.tags.JourneyRuns(ctx, e.team.ID, j.ID)
	if err != nil || len(steps) != 4 || counts[models.RunDone] != 1 {
		t.Fatalf("steps %+v counts %v %v", steps, counts, err)
	}
	want := []struct {
		outcome models.StepOutcome
		reason  string
	}{{models.StepDone, ""}, {models.StepDone, ""}, {models.StepSkipped, models.SkipNoContactOnChannel}, {models.StepSkipped, models.SkipModulesUnavailable}}
	for i, w := range want {
		if steps[i].Outcome != w.outcome || steps[i].Reason != w.reason {
			t.Errorf("step %d: %s %q, want %s %q", i+1, steps[i].Outcome, steps[i].Reason, w.outcome, w.reason)
		}
	}
}

func TestOneRunPerContactAndJourney(t *testing.T) {
	e := newEnv(t)
	trigger, again := e.tag("已綁定"), e.tag("再次")
	j := e.journey(trigger, models.StepInput{Kind: models.StepWait, Wait: "1", Unit: models.UnitDays},
		models.StepInput{Kind: models.StepRemoveTag, TagID: trigger.ID})
	// A rule starting the same journey on another tag must not start a second run either.
	if _, err := e.tags.SaveRule(context.Background(), e.admin, again.ID, models.RuleInput{Action: models.RuleStartJourney, JourneyID: j.ID}); err != nil {
		t.Fatal(err)
	}
	sched := e.tags.Scheduler(automation.SchedulerOptions{})
	ming := e.contact(e.lineCh, sandbox.LINEUserXiaoming)
	e.apply(ming, trigger)
	e.tick(sched)
	e.remove(ming, trigger)
	e.apply(ming, trigger)
	e.apply(ming, again)
	e.tick(sched)
	if runs := e.runs(j.ID); len(runs) != 1 || runs[0].Status != models.RunRunning {
		t.Fatalf("runs %+v, want one running", runs)
	}
	// Once done, the tag (removed by the journey's last step) may start a new run.
	e.clock.Advance(24 * time.Hour)
	e.tick(sched)
	if n := e.count(`SELECT count(*) FROM contact_tags WHERE contact_id = $1 AND tag_id = $2`, ming.ID, trigger.ID); n != 0 {
		t.Fatal("remove-tag step did not remove the tag")
	}
	e.apply(ming, trigger)
	if runs := e.runs(j.ID); len(runs) != 2 || runs[0].Status != models.RunDone || runs[1].Status != models.RunRunning {
		t.Fatalf("runs %+v", runs)
	}
	if n := e.count(`SELECT count(*) FROM contact_tags WHERE contact_id = $1 AND tag_id = $2 AND source = 'user'`, ming.ID, trigger.ID); n != 1 {
		t.Fatal("reapplied tag missing")
	}
}

// A tag put on a customer reaches each identity; the customer hears the journey once.
func TestOneRunPerCustomerAndJourney(t *testing.T) {
	e := newEnv(t)
	trigger := e.tag("已綁定")
	j := e.journey(trigger, models.StepInput{Kind: models.StepWait, Wait: "1", Unit: models.UnitDays})
	ming := e.contact(e.lineCh, sandbox.LINEUserXiaoming)
	other := e.contact(e.lineCh, sandbox.LINEUserYijun)
	e.app.SQL().Exec(context.Background(), `UPDATE contacts SET customer_id = (SELECT customer_id FROM contacts WHERE id = $1) WHERE id = $2`, ming.ID, other.ID)
	e.apply(ming, trigger)
	e.apply(other, trigger)
	if runs := e.runs(j.ID); len(runs) != 1 {
		t.Fatalf("runs %+v, want one for the customer", runs)
	}
}

func TestAJourneyStepAddingATagRecordsTheJourney(t *testing.T) {
	e := newEnv(t)
	trigger, vip := e.tag("已綁定"), e.tag("VIP")
	j := e.journey(trigger, models.StepInput{Kind: models.StepAddTag, TagID: vip.ID})
	e.menuRule(vip, e.menus()["VIP"], "")
	ming := e.contact(e.lineCh, sandbox.LINEUserXiaoming)
	e.apply(ming, trigger)
	e.tick(e.tags.Scheduler(automation.SchedulerOptions{}))
	e.drain()
	if n := e.count(`SELECT count(*) FROM contact_tags WHERE contact_id = $1 AND tag_id = $2 AND source = 'journey' AND source_id = $3`, ming.ID, vip.ID, j.ID); n != 1 {
		t.Fatal("tag not applied by the journey")
	}
	if e.userMenu(sandbox.LINEUserXiaoming) != e.menus()["VIP"] {
		t.Fatal("the journey's tag did not switch the rich menu")
	}
}

func TestANewSchedulerPicksUpDueRuns(t *testing.T) {
	e := newEnv(t)
	trigger := e.tag("已綁定")
	j := e.journey(trigger, models.StepInput{Kind: models.StepWait, Wait: "2", Unit: models.UnitHours},
		models.StepInput{Kind: models.StepSendText, ChannelID: e.lineCh.ID, Text: "兩小時後見"})
	ming := e.contact(e.lineCh, sandbox.LINEUserXiaoming)
	e.apply(ming, trigger)
	e.tick(e.tags.Scheduler(automation.SchedulerOptions{}))
	// The process stops; a new one (new service, new scheduler) starts two hours later.
	restarted := e.newTags()
	e.clock.Advance(2 * time.Hour)
	if n := e.tick(restarted.Scheduler(automation.SchedulerOptions{})); n != 1 {
		t.Fatalf("new scheduler advanced %d runs", n)
	}
	e.drain()
	if got := e.pushedTexts(sandbox.LINEUserXiaoming); len(got) != 1 || got[0] != "兩小時後見" {
		t.Fatalf("sandbox got %v", got)
	}
	if runs := e.runs(j.ID); runs[0].Status != models.RunDone {
		t.Fatalf("runs %+v", runs)
	}
}

func TestSchedulersOnSeveralReplicasAdvanceEachRunOnce(t *testing.T) {
	e := newEnv(t)
	trigger := e.tag("已綁定")
	j := e.journey(trigger, models.StepInput{Kind: models.StepAddTag, TagID: e.tag("已歡迎").ID})
	ctx := context.Background()
	var contacts []int64
	for i := 0; i < 40; i++ {
		id, _, err := e.app.Store.UpsertContact(ctx, storeActivity(e, "U"+strings.Repeat("0", 31)+string(rune('a'+i%26))+itoaPad(i)))
		if err != nil {
			t.Fatal(err)
		}
		contacts = append(contacts, id)
	}
	for _, id := range contacts {
		if err := e.tags.Apply(ctx, e.admin, id, trigger.ID); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	total := make([]int, 4)
	for i := range total {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			n, err := e.newTags().Scheduler(automation.SchedulerOptions{Batch: 3}).Tick(ctx)
			if err != nil {
				t.Error(err)
			}
			total[i] = n
		}(i)
	}
	wg.Wait()
	sum := 0
	for _, n := range total {
		sum += n
	}
	if sum != len(contacts) {
		t.Fatalf("advanced %d runs across replicas, want %d (%v)", sum, len(contacts), total)
	}
	if n := e.count(`SELECT count(*) FROM journey_run_steps s JOIN journey_runs r ON r.id = s.run_id WHERE r.journey_id = $1`, j.ID); n != len(contacts) {
		t.Fatalf("%d steps recorded", n)
	}
}

func storeActivity(e *env, ext string) storeContact {
	now := e.clock.Now()
	return storeContact{TeamID: e.team.ID, ChannelID: e.lineCh.ID, ExternalUserID: ext, Name: ext[:6], InboundAt: &now}
}

func itoaPad(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }

func TestJourneyFormsRefuseOtherTeamsIDsAndBadInput(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	other := e.app.Team("Other")
	stranger := e.app.User(other.ID, models.RoleMarketer, "x@other.test")
	theirTag, _ := e.tags.Create(ctx, stranger, models.TagInput{Name: "別人的"})
	ours := e.tag("已綁定")
	if _, err := e.tags.SaveJourney(ctx, e.admin, 0, models.JourneyInput{Name: "x", TriggerTagID: theirTag.ID, Enabled: true}); !errors.Is(err, apperr.ErrNotFound) {
		t.Fatalf("their trigger tag: %v", err)
	}
	j := e.journey(ours)
	if err := e.tags.AddStep(ctx, stranger, j.ID, models.StepInput{Kind: models.StepWait, Wait: "1", Unit: models.UnitMinutes}); !errors.Is(err, apperr.ErrNotFound) {
		t.Fatalf("their journey: %v", err)
	}
	if err := e.tags.AddStep(ctx, e.admin, j.ID, models.StepInput{Kind: models.StepAddTag, TagID: theirTag.ID}); !errors.Is(err, apperr.ErrNotFound) {
		t.Fatalf("their tag in a step: %v", err)
	}
	if err := e.tags.AddStep(ctx, e.admin, j.ID, models.StepInput{Kind: models.StepSendModule, ChannelID: e.lineCh.ID, ModuleID: 5}); !errors.Is(err, apperr.ErrNotFound) {
		t.Fatalf("unknown module: %v", err)
	}
	err := e.tags.AddStep(ctx, e.admin, j.ID, models.StepInput{Kind: models.StepWait, Wait: "91", Unit: models.UnitDays})
	var p models.FieldProblems
	if !errors.As(err, &p) || p["wait"].Key != "journeys.error.wait_range" {
		t.Fatalf("too long a wait: %v", err)
	}
	err = e.tags.AddStep(ctx, e.admin, j.ID, models.StepInput{Kind: models.StepSendText})
	if !errors.As(err, &p) || p["channel_id"].Key == "" || p["text"].Key == "" {
		t.Fatalf("empty send step: %v", err)
	}
	if j, _ := e.app.Store.TeamJourney(ctx, e.team.ID, j.ID); len(j.Steps) != 0 {
		t.Fatalf("steps written: %+v", j.Steps)
	}
}
