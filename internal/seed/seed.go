// Package seed fills an empty database with a demo team, so a new install has something to log into.
package seed

import (
	"context"
	"crypto/rand"
	"encoding/base64"

	"github.com/omnilink/omnilink/internal/accounts"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// AdminEmail is the seeded admin's login.
const AdminEmail = "admin@example.com"

// Result tells what was seeded; GeneratedPassword is set only when one was made up.
type Result struct {
	Seeded            bool
	TeamID            int64
	AdminID           int64
	GeneratedPassword string
}

// Demo seeds the demo team and its admin when the database has no team yet.
func Demo(ctx context.Context, st *store.Store, acc *accounts.Service, password string) (Result, error) {
	n, err := st.CountTeams(ctx)
	if err != nil || n > 0 {
		return Result{}, err
	}
	res := Result{Seeded: true}
	if password == "" {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		password = base64.RawURLEncoding.EncodeToString(b)
		res.GeneratedPassword = password
	}
	if errs := models.ValidatePassword(password); len(errs) > 0 {
		return Result{}, errs[0]
	}
	hash, err := acc.HashPassword(password)
	if err != nil {
		return Result{}, err
	}
	err = st.WithTx(ctx, func(tx *store.Store) error {
		team := &models.Team{Name: "小熊烘焙坊 Bear Bakery", Locale: "zh-TW", PlanStatus: models.PlanActive}
		if err := tx.CreateTeam(ctx, team); err != nil {
			return err
		}
		admin := &models.User{TeamID: team.ID, Email: AdminEmail, Name: "系統管理員", PasswordHash: hash, Role: models.RoleAdmin}
		if err := tx.CreateUser(ctx, admin); err != nil {
			return err
		}
		res.TeamID, res.AdminID = team.ID, admin.ID
		return nil
	})
	return res, err
}
