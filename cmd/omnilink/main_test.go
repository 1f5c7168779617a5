package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"testing"

	"github.com/omnilink/omnilink/internal/seed"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/testutil"
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
	u, err := st.UserByEmail(context.Background(), seed.AdminEmail)
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
