package accounts_test

import (
	"context"
	"os"
	"regexp"
	"testing"

	"github.com/omnilink/omnilink/internal/accounts"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

// A forgot-password request handled twice (the outbox retries after a crash) sends one email
// and leaves one live link.
func TestResetRequestAnsweredOnce(t *testing.T) {
	a := testutil.NewIdleApp(t)
	ctx := context.Background()
	team := a.Team("T")
	a.User(team.ID, models.RoleAgent, "u@t.test")
	if err := a.Accounts.RequestPasswordReset(ctx, " U@t.test ", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	db := a.SQL()
	var it models.OutboxItem
	if err := db.QueryRow(ctx, "SELECT id, payload FROM outbox WHERE kind = $1", accounts.KindResetRequest).Scan(&it.ID, &it.Payload); err != nil {
		t.Fatal(err)
	}
	handle := a.Accounts.ResetRequestHandler()
	for range 2 {
		if err := handle(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	var emails, live int
	if err := db.QueryRow(ctx, "SELECT (SELECT count(*) FROM outbox WHERE kind = 'email'), (SELECT count(*) FROM user_tokens WHERE used_at IS NULL AND revoked_at IS NULL)").Scan(&emails, &live); err != nil {
		t.Fatal(err)
	}
	if emails != 1 || live != 1 {
		t.Fatalf("%d emails and %d live links after answering one request twice", emails, live)
	}
	// The link in the one email is the live one.
	var payload string
	if err := db.QueryRow(ctx, "SELECT payload FROM outbox WHERE kind = 'email'").Scan(&payload); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`/password/reset/([A-Za-z0-9_-]{22})`).FindStringSubmatch(payload)
	if m == nil {
		t.Fatalf("no link in %s", payload)
	}
	if _, err := a.Accounts.LinkUser(ctx, models.TokenReset, m[1]); err != nil {
		t.Fatalf("the emailed link does not work: %v", err)
	}
}
