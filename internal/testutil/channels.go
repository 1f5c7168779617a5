package testutil

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/omnilink/omnilink/internal/channels"
	"github.com/omnilink/omnilink/internal/config"
	"github.com/omnilink/omnilink/models"
)

// NewIdleApp is NewApp without the background work (no webhook processor): the state a crash
// right after acknowledging deliveries leaves behind.
func NewIdleApp(t testing.TB, mutate ...func(*config.Config)) *TestApp {
	t.Helper()
	return newApp(t, false, nil, mutate...)
}

// Channel creates a live channel for a platform account straight in the database, its
// credentials sealed as the channels service seals them.
func (a *TestApp) Channel(teamID int64, p models.Platform, externalID string, creds models.Credentials) *models.Channel {
	a.t.Helper()
	ch := &models.Channel{TeamID: teamID, Platform: p, ExternalID: externalID, DisplayName: string(p) + " " + externalID, Status: models.ChannelActive}
	if err := channels.SealCredentials(a.Box, ch, creds); err != nil {
		a.t.Fatal(err)
	}
	if err := a.Store.CreateChannel(context.Background(), ch); err != nil {
		a.t.Fatal(err)
	}
	if got, err := a.Channels.Credentials(ch); err != nil || got != creds {
		a.t.Fatalf("channel %d: sealed credentials do not open with the channels service: %v", ch.ID, err)
	}
	return ch
}

// SQL opens a connection pool on the app's database for assertions; it closes with the test.
func (a *TestApp) SQL() *pgxpool.Pool {
	a.t.Helper()
	pool, err := pgxpool.New(context.Background(), a.Config.DatabaseURL)
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(pool.Close)
	return pool
}
