package health_test

import (
	"context"
	"slices"
	"testing"

	"github.com/omnilink/omnilink/internal/sandbox"
	"github.com/omnilink/omnilink/models"
)

// The team's alert settings decide who is emailed: members holding an alert role (admins and
// supervisors by default; disabled and still-invited members never), plus the extra addresses.
func TestAlertGoesToAlertRolesAndExtraAddresses(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sup := e.app.User(e.team.ID, models.RoleSupervisor, "sup@bear.test")
	mkt := e.app.User(e.team.ID, models.RoleMarketer, "mkt@bear.test")
	off := e.app.User(e.team.ID, models.RoleSupervisor, "off@bear.test")
	if _, err := e.app.Accounts.SetDisabled(ctx, e.admin, off.ID, true); err != nil {
		t.Fatal(err)
	}
	invited := &models.User{TeamID: e.team.ID, Email: "invited@bear.test", Name: "Invited", Role: models.RoleSupervisor, PasswordHash: "unusable", InvitePending: true}
	if err := e.app.Store.CreateUser(ctx, invited); err != nil {
		t.Fatal(err)
	}
	settings := models.AlertSettings{Roles: models.RoleList{models.RoleAdmin, models.RoleSupervisor}, Addresses: []string{"oncall@agency.test"}}
	if err := e.app.Accounts.SaveAlertSettings(ctx, e.admin, settings); err != nil {
		t.Fatal(err)
	}

	ch := e.instagram()
	e.breakToken("page:"+sandbox.BearBakeryIGID, sandbox.CauseExpired)
	if r := resultFor(t, e.sweep(nil), ch); !r.Transition.AlertQueued {
		t.Fatalf("no alert queued: %+v", r.Transition)
	}
	msgs := e.mails()
	if len(msgs) != 1 {
		t.Fatalf("%d emails, want 1", len(msgs))
	}
	to := msgs[0].To
	for _, want := range []string{e.admin.Email, sup.Email, "oncall@agency.test"} {
		if !slices.Contains(to, want) {
			t.Errorf("%s did not receive the alert (to %v)", want, to)
		}
	}
	for _, not := range []string{mkt.Email, off.Email, invited.Email} {
		if slices.Contains(to, not) {
			t.Errorf("%s received the alert (to %v)", not, to)
		}
	}

	// With only supervisors chosen, the admin is no longer emailed about the recovery either.
	if err := e.app.Accounts.SaveAlertSettings(ctx, e.admin, models.AlertSettings{Roles: models.RoleList{models.RoleSupervisor}}); err != nil {
		t.Fatal(err)
	}
	e.repair("page:" + sandbox.BearBakeryIGID)
	if r := resultFor(t, e.sweep(nil), ch); !r.Transition.Closed {
		t.Fatalf("not recovered: %+v", r.Transition)
	}
	msgs = e.mails()
	if len(msgs) != 2 || !slices.Equal(msgs[1].To, []string{sup.Email}) {
		t.Fatalf("recovery email to %v, want only the supervisor", msgs[len(msgs)-1].To)
	}
}

// A new team alerts admins and supervisors until it chooses otherwise.
func TestNewTeamAlertsAdminsAndSupervisors(t *testing.T) {
	e := newEnv(t)
	team, err := e.app.Store.TeamSystem(context.Background(), e.team.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(team.AlertRoles, models.DefaultAlertRoles) {
		t.Fatalf("new team's alert roles = %v", team.AlertRoles)
	}
}
