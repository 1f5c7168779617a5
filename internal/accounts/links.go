package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/i18n"
	"github.com/omnilink/omnilink/internal/mail"
	"github.com/omnilink/omnilink/internal/outbox"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Mail is what the service needs to send invitations and reset links through the outbox.
type Mail struct {
	// Compose renders an account email in its recipient's language.
	Compose func(ctx context.Context, e models.AccountEmail) (mail.Message, error)
	// BaseURL is the public origin the links point at (OMNILINK_BASE_URL).
	BaseURL string
	// Notify wakes the outbox after an email was queued; optional.
	Notify func()
}

// SetMail connects the service to the outbox's email delivery.
func (s *Service) SetMail(m Mail) { s.mail = m }

// Errors of account links: each says what happened, and the page says what to do next.
var (
	ErrLinkUnknown = &apperr.Error{Status: http.StatusNotFound, Key: "link.unknown"}
	ErrLinkUsed    = &apperr.Error{Status: http.StatusGone, Key: "link.used"}
	ErrLinkExpired = &apperr.Error{Status: http.StatusGone, Key: "link.expired"}
	ErrLinkRevoked = &apperr.Error{Status: http.StatusGone, Key: "link.revoked"}
)

// tokenBytes is the size of a link's secret: 128 random bits.
const tokenBytes = 16

// newLinkToken returns a fresh secret for a link and the hash to store.
func newLinkToken() (token, hash string) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashLinkToken(token)
}

// unknowable is a random secret that is never shown to anyone: the password of a member who has
// not chosen one yet.
func unknowable() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashLinkToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// wellFormed tells a token we could have issued from anything else (so junk never reaches a query).
func wellFormed(token string) bool {
	b, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil && len(b) == tokenBytes
}

// linkPath is where a link of each purpose opens.
func linkPath(p models.TokenPurpose) string {
	if p == models.TokenInvite {
		return "/invite/"
	}
	return "/password/reset/"
}

// checkToken says whether a loaded link may still be used at now.
func checkToken(t *models.UserToken, purpose models.TokenPurpose, now time.Time) error {
	switch {
	case t.Purpose != purpose:
		return ErrLinkUnknown
	case t.UsedAt != nil:
		return ErrLinkUsed
	case t.RevokedAt != nil:
		return ErrLinkRevoked
	case !now.Before(t.ExpiresAt):
		return ErrLinkExpired
	}
	return nil
}

// LinkUser returns the person a link is for, or why the link can no longer be used; it changes
// nothing, so opening the page does not spend the link.
func (s *Service) LinkUser(ctx context.Context, purpose models.TokenPurpose, token string) (*models.User, error) {
	if !wellFormed(token) {
		return nil, ErrLinkUnknown
	}
	t, err := s.st.UserTokenByHashSystem(ctx, hashLinkToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrLinkUnknown
	}
	if err != nil {
		return nil, err
	}
	if err := checkToken(t, purpose, s.now()); err != nil {
		return nil, err
	}
	u, err := s.st.UserByIDSystem(ctx, t.UserID)
	if err != nil {
		return nil, err
	}
	if u.Disabled() {
		return nil, ErrLinkRevoked
	}
	return u, nil
}

// useLink sets a password through a link: it checks the password and the link, then in one
// transaction stores the hash, spends the link, and revokes every other link of the person.
// more runs in the same transaction for what differs between purposes.
func (s *Service) useLink(ctx context.Context, purpose models.TokenPurpose, token, password string, more func(tx *store.Store, u *models.User) error) (*models.User, error) {
	if key := models.PasswordProblem(password); key != "" {
		return nil, apperr.Invalid("password", key)
	}
	// A cheap look first, so junk tokens never cost a bcrypt hash.
	if _, err := s.LinkUser(ctx, purpose, token); err != nil {
		return nil, err
	}
	hash, err := s.HashPassword(password)
	if err != nil {
		return nil, err
	}
	var u *models.User
	err = s.st.WithTx(ctx, func(tx *store.Store) error {
		now := s.now()
		t, err := tx.LockUserTokenByHashSystem(ctx, hashLinkToken(token))
		if errors.Is(err, store.ErrNotFound) {
			return ErrLinkUnknown
		}
		if err != nil {
			return err
		}
		if err := checkToken(t, purpose, now); err != nil {
			return err
		}
		if u, err = tx.LockUserForLinkSystem(ctx, t.UserID); err != nil {
			return err
		}
		if u.Disabled() {
			return ErrLinkRevoked
		}
		if err := tx.SetUserPasswordSystem(ctx, u.ID, hash); err != nil {
			return err
		}
		u.PasswordHash, u.InvitePending = hash, false
		if err := tx.MarkUserTokenUsedSystem(ctx, t.ID, now); err != nil {
			return err
		}
		if err := tx.RevokeUserTokensSystem(ctx, u.ID, "", now); err != nil {
			return err
		}
		if err := tx.ClearLoginFailures(ctx, u.Email); err != nil {
			return err
		}
		if err := tx.TouchLoginSystem(ctx, u.ID, now); err != nil {
			return err
		}
		return more(tx, u)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// errAnswered rolls back a link whose email was already queued under the same key.
var errAnswered = errors.New("accounts: already answered")

// issueLink revokes the user's older links of the purpose, stores a new one and queues its email
// in tx, so the email goes out exactly when the link exists. key names the email in the outbox
// (empty: one per link); when an email with key exists, errAnswered undoes the link.
func (s *Service) issueLink(ctx context.Context, tx *store.Store, u *models.User, team *models.Team, inviter *models.User, purpose models.TokenPurpose, now time.Time, key string) error {
	if s.mail.Compose == nil {
		return errors.New("accounts: no email composer configured")
	}
	if err := tx.RevokeUserTokensSystem(ctx, u.ID, purpose, now); err != nil {
		return err
	}
	life, kind := models.ResetLifetime, models.EmailReset
	if purpose == models.TokenInvite {
		life, kind = models.InviteLifetime, models.EmailInvite
	}
	token, hash := newLinkToken()
	t := &models.UserToken{UserID: u.ID, Purpose: purpose, TokenHash: hash, CreatedAt: now, ExpiresAt: now.Add(life)}
	if err := tx.CreateUserToken(ctx, t); err != nil {
		return err
	}
	e := models.AccountEmail{Kind: kind, Locale: u.EffectiveLocale(team), To: u.Email, Name: u.Name, TeamName: team.Name,
		Link: strings.TrimRight(s.mail.BaseURL, "/") + linkPath(purpose) + token, ExpiresAt: t.ExpiresAt, TimeZone: team.TimeZone}
	if inviter != nil {
		e.InviterName = inviter.Name
	}
	msg, err := s.mail.Compose(ctx, e)
	if err != nil {
		return fmt.Errorf("accounts: render %s email: %w", kind, err)
	}
	msg.To = []string{u.Email}
	if key == "" {
		key = fmt.Sprintf("account.%s.%d", purpose, t.ID)
	}
	created, err := outbox.EnqueueEmail(ctx, tx, now, key, u.TeamID, msg)
	if err == nil && !created {
		return errAnswered
	}
	return err
}

// notify wakes the outbox, when the service was given a way to.
func (s *Service) notify() {
	if s.mail.Notify != nil {
		s.mail.Notify()
	}
}

// RenderFunc renders an account email's subject, text and HTML in a localizer's language.
type RenderFunc func(ctx context.Context, loc *i18n.Localizer, e models.AccountEmail) (subject, text, html string, err error)

// NewComposer renders account emails in each recipient's language.
func NewComposer(bundle *i18n.Bundle, render RenderFunc) func(context.Context, models.AccountEmail) (mail.Message, error) {
	return func(ctx context.Context, e models.AccountEmail) (mail.Message, error) {
		subject, text, html, err := render(ctx, bundle.For(e.Locale), e)
		if err != nil {
			return mail.Message{}, err
		}
		return mail.Message{Subject: subject, Text: text, HTML: html}, nil
	}
}
