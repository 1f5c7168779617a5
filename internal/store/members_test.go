package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// Every team-scoped member query refuses another team's id.
func TestMemberQueriesAreTeamScoped(t *testing.T) {
	st := testutil.Store(t)
	ctx := context.Background()
	a := &models.Team{Name: "A", Locale: "zh-TW", PlanStatus: models.PlanActive}
	b := &models.Team{Name: "B", Locale: "zh-TW", PlanStatus: models.PlanActive}
	for _, tm := range []*models.Team{a, b} {
		if err := st.CreateTeam(ctx, tm); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(a.AlertRoles, models.DefaultAlertRoles) {
		t.Fatalf("a new team's alert roles: %v", a.AlertRoles)
	}
	sup := &models.User{TeamID: a.ID, Email: "sup@a.test", Name: "S", PasswordHash: "h", Role: models.RoleSupervisor}
	invited := &models.User{TeamID: a.ID, Email: "new@a.test", Name: "N", PasswordHash: "h", Role: models.RoleSupervisor, InvitePending: true}
	for _, u := range []*models.User{sup, invited} {
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	for name, err := range map[string]error{
		"LockTeamUser":      func() error { _, err := st.LockTeamUser(ctx, b.ID, sup.ID); return err }(),
		"UpdateUserName":    st.UpdateUserName(ctx, b.ID, sup.ID, "Hijacked"),
		"SetUserInvited":    st.SetUserInvited(ctx, b.ID, invited.ID, now),
		"DeletePendingUser": st.DeletePendingUser(ctx, b.ID, invited.ID),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s with another team's id: %v, want ErrNotFound", name, err)
		}
	}
	if err := st.DeletePendingUser(ctx, a.ID, sup.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting a member who joined: %v", err)
	}
	got, err := st.TeamAlertEmails(ctx, b.ID, models.Roles)
	if err != nil || len(got) != 0 {
		t.Fatalf("another team's alert emails: %v %v", got, err)
	}
	got, _ = st.TeamAlertEmails(ctx, a.ID, []models.Role{models.RoleSupervisor})
	if !slices.Equal(got, []string{"sup@a.test"}) {
		t.Fatalf("alert emails %v, want only the supervisor who joined", got)
	}
	if u, _ := st.UserByIDSystem(ctx, sup.ID); u.Name != "S" {
		t.Fatal("a cross-team rename went through")
	}
}
