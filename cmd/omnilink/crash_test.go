package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// childEnv makes the test binary run the server instead of the tests.
const childEnv = "OMNILINK_TEST_CHILD"

const (
	crashPage       = "100000000000555"
	crashLineBot    = "Uc0ffee0c0ffee0c0ffee0c0ffee0c0f"
	crashLineSecret = "crash-test-line-channel-secret"
)

// child is the real omnilink server, run by this test binary re-executed.
type child struct {
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan struct{}
}

func startChild(t *testing.T, env []string, base string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(os.Args[0], "-test.run=^$"), done: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), env...)
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() { c.kill() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return c
			}
		}
		select {
		case <-c.done:
			t.Fatalf("the server exited at start-up:\n%s", c.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not become ready:\n%s", c.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *child) kill() {
	if c.cmd.Process != nil {
		_ = c.cmd.Process.Kill()
	}
	<-c.done
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// A kill -9 in the middle of a 2,000 events/s burst loses no acknowledged event: every delivery
// that got its 200 is stored, and after a restart every one of them is applied.
func TestKillDuringABurstLosesNoAcknowledgedEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server twice and sends a few thousand webhooks")
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	secret := base64.StdEncoding.EncodeToString(key)
	seed := testutil.NewIdleApp(t, func(c *config.Config) { c.SecretKey = secret })
	team := seed.Team("crash")
	page := seed.Channel(team.ID, models.Facebook, crashPage, models.Credentials{AccessToken: "page-token"})
	lineCh := seed.Channel(team.ID, models.LINE, crashLineBot, models.Credentials{AccessToken: "line-token", ChannelSecret: crashLineSecret})
	db := seed.SQL()

	addr := freeAddr(t)
	base := "http://" + addr
	env := []string{childEnv + "=serve", "DATABASE_URL=" + seed.Config.DatabaseURL, "OMNILINK_SECRET_KEY=" + secret,
		"OMNILINK_ADDR=" + addr, "OMNILINK_BASE_URL=" + base, "OMNILINK_PROVIDERS=sandbox", "OMNILINK_LOG_LEVEL=error",
		"META_APP_ID=", "META_APP_SECRET=", "SMTP_URL="}
	srv := startChild(t, env, base)

	// Every delivery is pre-signed; one in four goes to the LINE channel's URL.
	const rate, burst, killAt = 2000, 3 * time.Second, 1500 * time.Millisecond
	n := int(rate * burst / time.Second)
	type delivery struct {
		url, header, sig, mid string
		channelID             int64
		body                  []byte
	}
	ds := make([]delivery, n)
	now := time.Now().UnixMilli()
	for i := range ds {
		mid := fmt.Sprintf("crash%06d", i)
		if i%4 == 3 {
			body := fmt.Appendf(nil, `{"destination":"%s","events":[{"type":"message","message":{"type":"text","id":"%s","text":"hello"},"webhookEventId":"01CRASH%019d","deliveryContext":{"isRedelivery":false},"timestamp":%d,"source":{"type":"user","userId":"U%032x"},"replyToken":"r","mode":"active"}]}`,
				crashLineBot, mid, i, now, i%50)
			ds[i] = delivery{url: fmt.Sprintf("%s/webhooks/line/%d", base, lineCh.ID), header: line.SignatureHeader, sig: line.Sign(crashLineSecret, body), mid: mid, channelID: lineCh.ID, body: body}
			continue
		}
		body := fmt.Appendf(nil, `{"object":"page","entry":[{"id":"%s","time":%d,"messaging":[{"sender":{"id":"%d"},"recipient":{"id":"%s"},"timestamp":%d,"message":{"mid":"%s","text":"hello"}}]}]}`,
			crashPage, now, 7200000000000000+i%50, crashPage, now, mid)
		ds[i] = delivery{url: base + "/webhooks/meta", header: meta.SignatureHeader, sig: meta.Sign(config.SandboxAppSecret, body), mid: mid, channelID: page.ID, body: body}
	}

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	jobs := make(chan int, n)
	var mu sync.Mutex
	acked := map[string]int64{} // mid → channel
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for i := range jobs {
				d := ds[i]
				req, _ := http.NewRequest(http.MethodPost, d.url, bytes.NewReader(d.body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(d.header, d.sig)
				res, err := client.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					mu.Lock()
					acked[d.mid] = d.channelID
					mu.Unlock()
				}
			}
		})
	}
	start := time.Now()
	killed := false
	for i := range n {
		// Paced: request i leaves at its slot, so the load is ~rate/s whatever the answers do.
		if d := time.Until(start.Add(time.Duration(i) * time.Second / rate)); d > 0 {
			time.Sleep(d)
		}
		if !killed && time.Since(start) >= killAt {
			if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	<-srv.done
	mu.Lock()
	ackedN := len(acked)
	mu.Unlock()
	t.Logf("sent %d in %s, %d acknowledged before the kill at %s", n, time.Since(start).Round(time.Millisecond), ackedN, killAt)
	if ackedN < 100 || ackedN >= n {
		t.Fatalf("%d of %d acknowledged: the burst did not run into the kill as intended", ackedN, n)
	}

	ctx := context.Background()
	stored := func(q string) map[string]bool {
		rows, err := db.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]bool{}
		for rows.Next() {
			var mid string
			_ = rows.Scan(&mid)
			out[mid] = true
		}
		return out
	}
	// Stored: every acknowledged delivery's body is in webhook_events, before any restart.
	bodies := stored(`SELECT substring(encode(body, 'escape') from '(crash[0-9]{6})') FROM webhook_events`)
	for mid := range acked {
		if !bodies[mid] {
			t.Errorf("acknowledged delivery %s was not stored", mid)
		}
	}

	startChild(t, env, base) // the restart
	deadline := time.Now().Add(60 * time.Second)
	for {
		applied := stored(`SELECT platform_message_id FROM messages WHERE platform_message_id LIKE 'crash%'`)
		missing := 0
		for mid := range acked {
			if !applied[mid] {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d acknowledged events not applied 60s after the restart", missing)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var dup, failed int
	if err := db.QueryRow(ctx, `SELECT (SELECT count(*) - count(DISTINCT (channel_id, platform_message_id)) FROM messages),
		(SELECT count(*) FROM webhook_events WHERE error <> '')`).Scan(&dup, &failed); err != nil {
		t.Fatal(err)
	}
	if dup != 0 || failed != 0 {
		t.Errorf("%d duplicated messages, %d failed deliveries", dup, failed)
	}
}
