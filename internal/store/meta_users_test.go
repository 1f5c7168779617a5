package store_test

import (
	"context"
	"testing"

	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// The Facebook user to reauthorise with comes from the team's own working channels of the other
// platform, else from the channel's own authoriser; another team's channels and users never count.
func TestFacebookUsersToUseAreTeamScoped(t *testing.T) {
	st := testutil.Store(t)
	ctx := context.Background()
	var teams []*models.Team
	for _, name := range []string{"A", "B"} {
		tm := &models.Team{Name: name, Locale: "zh-TW", PlanStatus: models.PlanActive}
		if err := st.CreateTeam(ctx, tm); err != nil {
			t.Fatal(err)
		}
		teams = append(teams, tm)
	}
	auth := func(teamID int64, fbID, name string) *models.MetaAuthorization {
		a := &models.MetaAuthorization{TeamID: teamID, FBUserID: fbID, FBUserName: name, AccessToken: "sealed"}
		if err := st.UpsertMetaAuthorization(ctx, a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	channel := func(teamID int64, p models.Platform, ext string, by *models.MetaAuthorization, status models.ChannelStatus) *models.Channel {
		ch := &models.Channel{TeamID: teamID, Platform: p, ExternalID: ext, Status: status, AuthorizedBy: &by.ID}
		if err := st.CreateChannel(ctx, ch); err != nil {
			t.Fatal(err)
		}
		return ch
	}
	mei, kai := auth(teams[0].ID, "1", "林美玲"), auth(teams[0].ID, "2", "陳冠凱")
	other := auth(teams[1].ID, "3", "Other team's user")
	page := channel(teams[0].ID, models.Facebook, "p1", mei, models.ChannelActive)
	ig := channel(teams[0].ID, models.Instagram, "ig1", kai, models.ChannelInvalid)
	channel(teams[1].ID, models.Facebook, "p2", other, models.ChannelActive)
	otherIG := channel(teams[1].ID, models.Instagram, "ig2", other, models.ChannelInvalid)

	users, err := st.TeamFacebookUsersToUse(ctx, teams[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if users[ig.ID] != "林美玲" || users[page.ID] != "林美玲" || users[otherIG.ID] != "" {
		t.Fatalf("users to use: %v", users)
	}
	for _, activeOnly := range []bool{false, true} {
		list, err := st.TeamMetaAuthorizers(ctx, teams[0].ID, models.Facebook, activeOnly)
		if err != nil || len(list) != 1 || list[0].ID != mei.ID {
			t.Fatalf("Page authorisers (active only %v): %+v %v", activeOnly, list, err)
		}
	}
	if list, _ := st.TeamMetaAuthorizers(ctx, teams[0].ID, models.Instagram, true); len(list) != 0 {
		t.Fatalf("a broken channel's authoriser binds a reauthorisation: %+v", list)
	}
	if list, _ := st.TeamMetaAuthorizers(ctx, teams[1].ID, models.Instagram, false); len(list) != 1 || list[0].ID != other.ID {
		t.Fatalf("team B's Instagram authorisers: %+v", list)
	}
}
