package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/omnilink/omnilink/internal/pgcluster"
)

// devPort is the private cluster's port; one fixed port lets a second make run find it again.
const devPort = 54329

// devEnvironment prepares what make run needs when nothing is configured: a private Postgres
// under ./var/pg (kept between runs, stopped on exit) and a secret key kept in ./var/secret.key,
// so sessions and encrypted tokens survive restarts.
func devEnvironment(ctx context.Context) (cleanup func(), err error) {
	cleanup = func() {}
	if err := os.MkdirAll("var", 0o755); err != nil {
		return cleanup, err
	}
	if err := useDevSecret(true); err != nil {
		return cleanup, err
	}
	if os.Getenv("DATABASE_URL") != "" {
		return cleanup, nil
	}
	c, err := pgcluster.Ensure(ctx, filepath.Join("var", "pg"), pgcluster.Options{Port: devPort})
	if err != nil {
		return cleanup, fmt.Errorf("private database: %w", err)
	}
	if err := c.CreateDatabase(ctx, "omnilink"); err != nil {
		return cleanup, err
	}
	os.Setenv("DATABASE_URL", c.URL("omnilink"))
	fmt.Printf("using the private database in ./var/pg on port %d (stopped when omnilink exits)\n", c.Port)
	return func() {
		if err := c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the private database:", err)
		}
	}, nil
}

// devSecretPath is where make run keeps its generated OMNILINK_SECRET_KEY.
var devSecretPath = filepath.Join("var", "secret.key")

// useDevSecret sets OMNILINK_SECRET_KEY from ./var/secret.key when it is unset, whatever
// DATABASE_URL says, since make run does the same. Only create (make run itself) makes a new
// key: any other command with a fresh key could not open the tokens sealed with the old one.
func useDevSecret(create bool) error {
	if os.Getenv("OMNILINK_SECRET_KEY") != "" {
		return nil
	}
	if !create {
		if _, err := os.Stat(devSecretPath); err != nil {
			return nil
		}
	}
	key, err := devSecret(devSecretPath)
	if err != nil {
		return err
	}
	return os.Setenv("OMNILINK_SECRET_KEY", key)
}

func devSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	key := base64.StdEncoding.EncodeToString(b)
	return key, os.WriteFile(path, []byte(key+"\n"), 0o600)
}
