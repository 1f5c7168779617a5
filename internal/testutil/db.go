// Package testutil gives tests their real parts: a Postgres database per test, the app behind a real
// HTTP server, an SMTP catcher and a browser.
package testutil

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/omnilink/omnilink/internal/pgcluster"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/migrations"
)

// AdminURLEnv names the variable that points tests at a running cluster's maintenance database.
// make test starts one cluster and sets it; without it each test binary starts its own.
const AdminURLEnv = "OMNILINK_TEST_ADMIN_URL"

var (
	clusterOnce sync.Once
	cluster     *pgcluster.Cluster
	adminURL    string
	clusterErr  error

	templateOnce sync.Once
	templateName string
	templateErr  error
)

// Main runs a package's tests and stops the private cluster it may have started.
func Main(m *testing.M) int {
	code := m.Run()
	if cluster != nil {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testutil:", err)
		}
		_ = os.RemoveAll(cluster.Dir)
	}
	return code
}

func admin(t testing.TB) string {
	clusterOnce.Do(func() {
		if u := os.Getenv(AdminURLEnv); u != "" {
			adminURL = u
			return
		}
		dir, err := os.MkdirTemp("", "omnilink-pg-")
		if err != nil {
			clusterErr = err
			return
		}
		_ = os.Chmod(dir, 0o755)
		cluster, clusterErr = pgcluster.Ensure(context.Background(), dir, pgcluster.Options{Fast: true})
		if clusterErr == nil {
			adminURL = cluster.URL("postgres")
		}
	})
	if clusterErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no test database: %v", clusterErr)
		}
		t.Skipf("no test database (install postgresql or set %s): %v", AdminURLEnv, clusterErr)
	}
	return adminURL
}

// migrationsHash names the template after the migrations' contents, so a changed migration
// gets a fresh template instead of a stale one.
func migrationsHash() string {
	h := sha256.New()
	entries, _ := fs.ReadDir(migrations.FS, ".")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, n := range names {
		b, _ := fs.ReadFile(migrations.FS, n)
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// template makes (once per cluster, guarded by an advisory lock across test binaries) a migrated database to copy.
func template(t testing.TB, adminURL string) string {
	templateOnce.Do(func() {
		ctx := context.Background()
		templateName = "omnilink_tmpl_" + migrationsHash()
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			templateErr = err
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(424242)"); err != nil {
			templateErr = err
			return
		}
		defer conn.Exec(ctx, "SELECT pg_advisory_unlock(424242)")
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", templateName).Scan(&exists); err != nil {
			templateErr = err
			return
		}
		if exists {
			return
		}
		building := templateName + "_build"
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)")
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+building); err != nil {
			templateErr = err
			return
		}
		if err := store.Migrate(ctx, withDB(adminURL, building)); err != nil {
			templateErr = fmt.Errorf("migrate template: %w", err)
			return
		}
		// Renaming after migration means no binary ever copies a half-migrated template.
		_, templateErr = conn.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+templateName)
	})
	if templateErr != nil {
		t.Fatalf("test template database: %v", templateErr)
	}
	return templateName
}

// DatabaseURL creates an empty, migrated database for this test and drops it afterwards.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	au := admin(t)
	return createDatabase(t, au, "TEMPLATE "+template(t, au))
}

// BlankDatabaseURL creates a database with no tables at all, for tests of migrating itself.
func BlankDatabaseURL(t testing.TB) string {
	t.Helper()
	return createDatabase(t, admin(t), "")
}

func createDatabase(t testing.TB, au, tmplClause string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, au)
	if err != nil {
		t.Fatalf("connect admin: %v", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	var lastErr error
	for range 20 {
		// Copying fails while another session briefly touches the template; retry.
		if _, lastErr = conn.Exec(ctx, "CREATE DATABASE "+name+" "+tmplClause); lastErr == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if lastErr != nil {
		t.Fatalf("create test database: %v", lastErr)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), au)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return withDB(au, name)
}

// Store opens a Store on a fresh test database.
func Store(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(DatabaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// ArtifactsDir returns the folder where tests save screenshots and other evidence.
func ArtifactsDir(t testing.TB) string {
	dir := os.Getenv("OMNILINK_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "omnilink-test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func withDB(url, db string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return url
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, db)
}
