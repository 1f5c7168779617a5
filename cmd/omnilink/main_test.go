package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnilink/omnilink/internal/health"
	"github.com/omnilink/omnilink/internal/seed"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

func TestMain(m *testing.M) {
	// The crash test runs the real server in a child process: this binary, re-executed.
	if os.Getenv(childEnv) == "serve" {
		if err := serve(false); err != nil {
			fmt.Fprintln(os.Stderr, "omnilink child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(testutil.Main(m))
}

func TestMigrateAndSeedOnTheirOwn(t *testing.T) {
	url := testutil.BlankDatabaseURL(t)
	t.Setenv("DATABASE_URL", url)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	t.Setenv("OMNILINK_SECRET_KEY", base64.StdEncoding.EncodeToString(key))
	t.Setenv("OMNILINK_ADMIN_PASSWORD", "a-seeded-password")
	if err := migrate(); err != nil {
		t.Fatal(err)
	}
	if err := migrate(); err != nil {
		t.Fatalf("migrating twice: %v", err)
	}
	if err := seedCmd(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.UserByEmailSystem(context.Background(), seed.AdminEmail)
	if err != nil || u.Role != "admin" {
		t.Fatalf("seeded admin: %+v %v", u, err)
	}
	if err := seedCmd(); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.CountTeams(context.Background()); n != 1 {
		t.Fatalf("seeding twice made %d teams", n)
	}
}

func TestCommandsRefuseMissingConfiguration(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	if err := migrate(); err == nil {
		t.Fatal("migrate without DATABASE_URL")
	}
	t.Setenv("OMNILINK_SECRET_KEY", "")
	if err := seedCmd(); err == nil {
		t.Fatal("seed without configuration")
	}
}

// `omnilink health` next to `make run` uses the server's settings: the key make run keeps in
// ./var/secret.key counts whether or not DATABASE_URL is set, as it does for make run.
func TestHealthUsesTheServersSecretKey(t *testing.T) {
	url := testutil.BlankDatabaseURL(t)
	t.Chdir(t.TempDir())
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	key := base64.StdEncoding.EncodeToString(raw)
	if err := os.MkdirAll("var", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("var", "secret.key"), []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DATABASE_URL", url)
	t.Setenv("OMNILINK_SECRET_KEY", "")
	if err := healthCmd(); err != nil {
		t.Fatalf("health next to make run with DATABASE_URL set: %v", err)
	}
	if got := os.Getenv("OMNILINK_SECRET_KEY"); got != key {
		t.Fatal("health did not use the key make run keeps")
	}
}

// When the checks could not open the stored credentials, the closing line says so and names the
// key, instead of blaming the server or the platforms.
func TestHealthClosingLineNamesTheRealCause(t *testing.T) {
	unknown := health.Verdict{State: models.VerdictUnknown, Detail: "stored credentials cannot be opened (check OMNILINK_SECRET_KEY)", Unopenable: true}
	rep := health.SweepReport{Checked: 2, Unknown: 2, Results: []health.Result{
		{Channel: models.Channel{ID: 1, Platform: models.LINE}, Verdict: unknown},
		{Channel: models.Channel{ID: 2, Platform: models.Facebook}, Verdict: unknown},
	}}
	var b strings.Builder
	printHealth(&b, rep, true)
	if out := b.String(); !strings.Contains(out, "2 channels' stored credentials cannot be opened with this OMNILINK_SECRET_KEY") || strings.Contains(out, "running server") {
		t.Fatalf("closing line:\n%s", out)
	}
	rep.Results[0].Verdict.Unopenable, rep.Results[1].Verdict.Unopenable = false, false
	b.Reset()
	printHealth(&b, rep, true)
	if out := b.String(); !strings.Contains(out, "served by the running server") {
		t.Fatalf("sandbox closing line:\n%s", out)
	}
}
