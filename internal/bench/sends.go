package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/omnilink/omnilink/internal/automation"
	"github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/internal/crypto"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/messaging"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/outbox"
	"github.com/omnilink/omnilink/internal/pace"
	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

const (
	sendLatency    = 50 * time.Millisecond     // injected into every sandbox API call
	sendRecipients = 10000                     // half on one LINE channel, half on one Page
	sendWorkers    = outbox.DefaultConcurrency // deliveries in flight at once in the one process (OUTBOX_CONCURRENCY)
	journeyRuns    = 10000
)

// sendWorld is the sandbox with the Bear Bakery LINE account and Page, 5,000 LINE friends and
// 5,000 Messenger customers whose 24-hour window is open.
func sendWorld(ctx context.Context, n int) (*sandbox.World, string, []string, []string, error) {
	seedState := &memState{}
	w0, err := sandbox.New(sandbox.Options{Persist: seedState})
	if err != nil {
		return nil, "", nil, nil, err
	}
	client := &http.Client{Transport: w0.InProcessTransport("/api")}
	mc := meta.New(meta.Config{AppID: w0.AppID(), AppSecret: w0.AppSecret(), GraphURL: "http://sandbox.bench/api/graph", HTTPClient: client})
	pageToken, err := mintPageToken(ctx, w0, mc, "mei", sandbox.BearBakeryPageID)
	if err != nil {
		return nil, "", nil, nil, err
	}
	snap, err := w0.Snapshot()
	if err != nil {
		return nil, "", nil, nil, err
	}
	var st map[string]any
	if err := json.Unmarshal(snap, &st); err != nil {
		return nil, "", nil, nil, err
	}
	now := time.Now().UTC()
	inbound, _ := st["last_inbound"].(map[string]any)
	if inbound == nil {
		inbound = map[string]any{}
		st["last_inbound"] = inbound
	}
	var lineUsers, psids []string
	for i := 0; i < n/2; i++ {
		uid := fmt.Sprintf("U%032x", 0xbe0c0000+i)
		lineUsers = append(lineUsers, uid)
		st["line_users"] = append(st["line_users"].([]any), map[string]any{"user_id": uid, "display_name": fmt.Sprintf("Bench %d", i),
			"friendship": map[string]any{sandbox.LINEBotUserID: string(sandbox.FriendshipFriend)}})
		psid := fmt.Sprintf("7%015d", i)
		psids = append(psids, psid)
		st["customers"] = append(st["customers"].([]any), map[string]any{"key": fmt.Sprintf("bench%d", i), "name": fmt.Sprintf("Bench %d", i),
			"identities": []any{map[string]any{"platform": "facebook", "account_id": sandbox.BearBakeryPageID, "external_id": psid}}})
		inbound["facebook|"+sandbox.BearBakeryPageID+"|"+psid] = now.Format(time.RFC3339Nano)
	}
	big, err := json.Marshal(st)
	if err != nil {
		return nil, "", nil, nil, err
	}
	// Graph usage is not what this measures: the allowance is set out of the way.
	w, err := sandbox.New(sandbox.Options{Persist: &memState{data: big, saves: 1}, Latency: sendLatency, UsageLimit: 10_000_000})
	if err != nil {
		return nil, "", nil, nil, err
	}
	w.KeepInMemory()
	return w, pageToken, lineUsers, psids, nil
}

// outboundSends measures messages/s through the outbox to 10,000 recipients (one LINE channel,
// one Page) against the sandbox over HTTP with 50 ms per call and the pacer on, and journey
// runs advancing one step.
func outboundSends(ctx context.Context, env *Env) ([]Table, error) {
	world, pageToken, lineUsers, psids, err := sendWorld(ctx, sendRecipients)
	if err != nil {
		return nil, fmt.Errorf("build the sandbox world: %w", err)
	}
	api := httptest.NewServer(world.APIHandler())
	defer api.Close()
	dbURL, err := env.Database(ctx)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(dbURL)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := crypto.NewBox(key)
	if err != nil {
		return nil, err
	}
	team := &models.Team{Name: "Bench", Locale: "zh-TW", PlanStatus: models.PlanActive}
	if err := st.CreateTeam(ctx, team); err != nil {
		return nil, err
	}
	la, _ := world.LINEAccount(sandbox.LINEChannelID)
	lineCh := &models.Channel{TeamID: team.ID, Platform: models.LINE, ExternalID: la.BotUserID, DisplayName: "Bench LINE", Status: models.ChannelActive}
	pageCh := &models.Channel{TeamID: team.ID, Platform: models.Facebook, ExternalID: sandbox.BearBakeryPageID, DisplayName: "Bench Page", Status: models.ChannelActive}
	for _, c := range []struct {
		ch    *models.Channel
		creds models.Credentials
	}{{lineCh, models.Credentials{AccessToken: la.AccessToken, ChannelSecret: la.ChannelSecret}}, {pageCh, models.Credentials{AccessToken: pageToken}}} {
		if err := channels.SealCredentials(box, c.ch, c.creds); err != nil {
			return nil, err
		}
		if err := st.CreateChannel(ctx, c.ch); err != nil {
			return nil, err
		}
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	insert := func(ch int64, ids []string) error {
		_, err := pool.Exec(ctx, `INSERT INTO contacts (team_id, channel_id, external_user_id, name, last_inbound_at, line_friendship)
			SELECT $1, $2, x, 'bench', now(), 'friend' FROM unnest($3::text[]) AS x`, team.ID, ch, ids)
		return err
	}
	if err := insert(lineCh.ID, lineUsers); err != nil {
		return nil, err
	}
	if err := insert(pageCh.ID, psids); err != nil {
		return nil, err
	}
	var contacts []int64
	rows, err := pool.Query(ctx, `SELECT id FROM contacts ORDER BY id`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		contacts = append(contacts, id)
	}
	rows.Close()
	// One broadcast to both audiences: sends to the LINE friends and the Page's customers are
	// queued alternately, as a campaign on both channels queues them.
	half := len(lineUsers)
	mixed := make([]int64, 0, len(contacts))
	for i := 0; i < half; i++ {
		mixed = append(mixed, contacts[i], contacts[half+i])
	}
	queueOrder := mixed

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: 2 * sendWorkers, MaxIdleConnsPerHost: 2 * sendWorkers}}
	chans := channels.New(channels.Deps{Store: st, Box: box})
	ob := outbox.New(st, outbox.Options{Log: quiet, Concurrency: sendWorkers})
	svc := messaging.New(messaging.Deps{Store: st, Credentials: chans, Line: line.New(line.Config{APIURL: api.URL + "/line", HTTPClient: hc}),
		MetaConfig: meta.Config{AppID: world.AppID(), AppSecret: world.AppSecret(), GraphURL: api.URL + "/graph", HTTPClient: hc}, Log: quiet}, messaging.Options{})
	svc.Register(ob)

	// Queue one text per recipient, as campaigns and journeys do (16 callers at once).
	queueStart := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(queueOrder) {
					return
				}
				err := st.WithTx(ctx, func(tx *store.Store) error {
					_, err := svc.Send(ctx, tx, messaging.SendRequest{TeamID: team.ID, ContactID: queueOrder[i], Content: models.TextContent("小熊烘焙坊新品上市"),
						IdempotencyKey: fmt.Sprintf("bench:%d", queueOrder[i]), Cause: "bench", Automated: true})
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return nil, fmt.Errorf("queue: %w", err)
	default:
	}
	queued := time.Since(queueStart)

	// One process's outbox, as the server runs it: one Drain with sendWorkers items in flight.
	deliverStart := time.Now()
	if _, err := ob.Drain(ctx); err != nil {
		return nil, fmt.Errorf("deliver: %w", err)
	}
	delivered := time.Since(deliverStart)
	t := Table{
		Title:  fmt.Sprintf("outbound sends (sandbox over HTTP, %s per call, pacer on, one outbox delivering %d at once)", sendLatency, sendWorkers),
		Header: []string{"channel", "limit/s", "sent", "not sent", "peak in 1 s", "messages/s"},
	}
	total := 0
	for _, ch := range []*models.Channel{lineCh, pageCh} {
		var sent, failed, peak int
		if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE outcome = 'sent'), count(*) FILTER (WHERE outcome <> 'sent')
			FROM message_sends s JOIN contacts c ON c.id = s.contact_id WHERE c.channel_id = $1`, ch.ID).Scan(&sent, &failed); err != nil {
			return nil, err
		}
		if err := pool.QueryRow(ctx, `SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM messages WHERE channel_id = $1 AND direction = 'out'
			GROUP BY date_trunc('second', created_at)) x`, ch.ID).Scan(&peak); err != nil {
			return nil, err
		}
		total += sent
		t.Rows = append(t.Rows, []string{string(ch.Platform), fmt.Sprint(pace.Rates[ch.Platform].PerSecond), fmt.Sprint(sent), fmt.Sprint(failed),
			fmt.Sprint(peak), fmt.Sprintf("%.0f", float64(sent)/delivered.Seconds())})
	}
	t.Rows = append(t.Rows, []string{"total", "", fmt.Sprint(total), "", "", fmt.Sprintf("%.0f", float64(total)/delivered.Seconds())})
	t.Notes = append(t.Notes,
		fmt.Sprintf("queueing %d sends (render, guard, window, message_sends row, outbox row; 16 callers): %s, %.0f/s", len(contacts), queued.Round(time.Millisecond), float64(len(contacts))/queued.Seconds()),
		fmt.Sprintf("delivery: %s; target ≥ 500 messages/s in total with no channel above its limit ('peak in 1 s' counts recorded messages per wall-clock second)", delivered.Round(time.Millisecond)),
		"sends to the two channels are queued alternately (one broadcast to both audiences); the Page's pacer holds it to its limit while LINE sends go on",
		fmt.Sprintf("the outbox claims due items with SKIP LOCKED as slots free up and delivers %d at once, recording deliveries in batches; %d × (1 / %s) bounds the rate at %d/s", sendWorkers, sendWorkers, sendLatency, int(float64(sendWorkers)/sendLatency.Seconds())))

	jt, err := journeyBench(ctx, pool, st, svc, team.ID, lineCh.ID, contacts[:len(lineUsers)])
	if err != nil {
		return nil, fmt.Errorf("journeys: %w", err)
	}
	return []Table{t, jt}, nil
}

// journeyBench starts 10,000 runs of a one-step journey (send a text on LINE: render, guard,
// window, queue) and times schedulers advancing them all, alone and four at once.
func journeyBench(ctx context.Context, pool *pgxpool.Pool, st *store.Store, svc *messaging.Service, teamID, channelID int64, lineContacts []int64) (Table, error) {
	t := Table{
		Title:  fmt.Sprintf("journeys (%d runs advancing one step: a LINE text queued through messaging)", journeyRuns),
		Header: []string{"schedulers", "runs advanced", "duration", "runs/s"},
	}
	tags := automation.NewTags(automation.TagsDeps{Store: st, Messaging: svc, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for round, schedulers := range []int{1, 4} {
		j := &models.Journey{TeamID: teamID, Name: fmt.Sprintf("bench %d", round), Enabled: true,
			Steps: models.JourneySteps{{Kind: models.StepSendText, ChannelID: channelID, Text: "歡迎！"}}}
		if err := st.SaveJourney(ctx, j); err != nil {
			return t, err
		}
		// 10,000 runs: one per LINE contact per journey, over as many journeys as that takes.
		for made, k := 0, 0; made < journeyRuns; k++ {
			jj := j
			if k > 0 {
				jj = &models.Journey{TeamID: teamID, Name: fmt.Sprintf("bench %d.%d", round, k), Enabled: true, Steps: j.Steps}
				if err := st.SaveJourney(ctx, jj); err != nil {
					return t, err
				}
			}
			batch := lineContacts[:min(len(lineContacts), journeyRuns-made)]
			if _, err := pool.Exec(ctx, `INSERT INTO journey_runs (team_id, journey_id, contact_id, status, step, next_step_at, started_at)
				SELECT $1, $2, c, 'running', 0, now(), now() FROM unnest($3::bigint[]) AS c`, teamID, jj.ID, batch); err != nil {
				return t, err
			}
			made += len(batch)
		}
		start := time.Now()
		var wg sync.WaitGroup
		var advanced atomic.Int64
		errs := make(chan error, schedulers)
		for s := 0; s < schedulers; s++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := tags.Scheduler(automation.SchedulerOptions{Batch: 50}).Tick(ctx)
				advanced.Add(int64(n))
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		d := time.Since(start)
		select {
		case err := <-errs:
			return t, err
		default:
		}
		t.Rows = append(t.Rows, []string{fmt.Sprint(schedulers), fmt.Sprint(advanced.Load()), d.Round(time.Millisecond).String(),
			fmt.Sprintf("%.0f", float64(advanced.Load())/d.Seconds())})
	}
	t.Notes = append(t.Notes, "each scheduler claims 50 due runs per transaction with FOR UPDATE SKIP LOCKED; a run is advanced by exactly one of them",
		"the queued texts are not delivered here (the outbound table above measures delivery)")
	return t, nil
}
