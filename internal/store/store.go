// Package store holds every database query; one Store method per query, grouped by aggregate.
//
// A method that serves a team takes teamID right after ctx and filters by it, so another team's
// id finds nothing (ErrNotFound) and changes nothing. A method without teamID serves no one team
// and says so in its name: …ForSweep for the health monitor's walk over every channel, …System
// for the rest (login, sessions, webhook routing, workers, links whose secret is the scope); its
// caller must already hold the team it acts for. Queue mechanics (Claim/Complete/Retry/Fail of
// outbox, webhook events and journey runs) and Create/Save of a model carrying its TeamID keep
// their plain names.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for goose
	"github.com/pressly/goose/v3"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/migrations"
)

// ErrNotFound is returned when a row does not exist or belongs to another team.
var ErrNotFound = apperr.ErrNotFound

// Store wraps the database handle.
type Store struct {
	db *gorm.DB
}

// Open connects to Postgres with GORM over pgx, with a pool of 20 connections.
func Open(url string) (*Store, error) { return OpenPool(url, 20) }

// OpenPool connects to Postgres with GORM over pgx, with a pool of conns connections.
func OpenPool(url string, conns int) (*Store, error) {
	db, err := gorm.Open(postgres.Open(url), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		TranslateError:         false,
	})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	// As many idle connections as open ones: with fewer, a burst of webhooks closes connections
	// after each request and opens new ones (a Postgres process each) for the next.
	sqlDB.SetMaxOpenConns(conns)
	sqlDB.SetMaxIdleConns(conns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	return &Store{db: db}, nil
}

// Close releases the connection pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// WithTx runs fn in one transaction; fn's Store sees only that transaction.
func (s *Store) WithTx(ctx context.Context, fn func(tx *Store) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&Store{db: tx})
	})
}

func (s *Store) q(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// conn is the pool or the transaction this Store runs on. The statements every link runs use
// it directly, with $n placeholders and column-by-column scans: gorm's statement building and
// reflective scan cost more than those statements themselves.
func (s *Store) conn() gorm.ConnPool { return s.db.Statement.ConnPool }

// placeholders lists n numbered parameters from $first, for an IN list: a list of parameters
// keeps the statement's generic plan, where an array parameter had it planned at every call.
func placeholders(first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(first+i))
	}
	return b.String()
}

// anyOf is ids as query arguments.
func anyOf(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// Migrate applies every pending migration.
func Migrate(ctx context.Context, url string) error {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		return err
	}
	res, err := p.Up(ctx)
	for _, r := range res {
		slog.Debug("migration applied", "version", r.Source.Version, "file", r.Source.Path)
	}
	return err
}

// notFound turns GORM's missing-row error into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}

// isUniqueViolation reports a unique-constraint failure, optionally on a named constraint.
func isUniqueViolation(err error, constraint string) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "23505" {
		return constraint == "" || pg.ConstraintName == constraint
	}
	return false
}

// noKeyUpdate locks rows as FOR NO KEY UPDATE rather than FOR UPDATE: no locked row that other
// rows reference has its key changed, and the weaker lock does not wait for (nor stall) the inserts elsewhere whose
// foreign keys share-lock the same parent row, such as a busy channel's contacts and sends.
var noKeyUpdate = clause.Locking{Strength: "NO KEY UPDATE"}

// first loads one row or returns ErrNotFound.
func first[T any](db *gorm.DB) (*T, error) {
	var v T
	if err := db.Take(&v).Error; err != nil {
		return nil, notFound(err)
	}
	return &v, nil
}

// affected returns ErrNotFound when an update touched no row (missing or another team's).
func affected(res *gorm.DB) error {
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}
