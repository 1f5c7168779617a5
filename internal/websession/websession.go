// Package websession stores console sessions in Postgres behind gorilla/sessions, so a session
// can be ended from the server: at logout, when a user is disabled, and when its id rotates at login.
package websession

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"github.com/omnilink/omnilink/internal/store"
)

// Keys stored in a session's values.
const (
	KeyUserID  = "uid"
	KeyCreated = "created"
)

// DefaultTouchEvery is how often a request moves a session's last_seen_at.
const DefaultTouchEvery = 5 * time.Minute

// Store is a gorilla/sessions Store backed by the sessions table.
type Store struct {
	st       *store.Store
	codec    securecookie.Codec
	secure   bool
	idle     time.Duration
	absolute time.Duration
	touch    time.Duration
	now      func() time.Time
}

// Options configures lifetimes and cookie security.
type Options struct {
	HashKey  []byte // signs the cookie, so a tampered cookie never reaches the database
	Secure   bool
	Idle     time.Duration
	Absolute time.Duration
	// TouchEvery is how stale last_seen_at may grow before a request moves it: idle expiry is
	// measured from the last request, give or take this much, at one write per interval.
	TouchEvery time.Duration
	Now        func() time.Time
}

// New builds a Store.
func New(st *store.Store, o Options) *Store {
	if o.Idle == 0 {
		o.Idle = 12 * time.Hour
	}
	if o.Absolute == 0 {
		o.Absolute = 7 * 24 * time.Hour
	}
	if o.TouchEvery == 0 {
		o.TouchEvery = DefaultTouchEvery
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	codec := securecookie.New(o.HashKey, nil)
	codec.MaxAge(int(o.Absolute.Seconds()))
	return &Store{st: st, codec: codec, secure: o.Secure, idle: o.Idle, absolute: o.Absolute, touch: o.TouchEvery, now: o.Now}
}

// Get returns the request's cached session.
func (s *Store) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the cookie, or starts an empty one; an invalid or expired
// cookie quietly yields a new session.
func (s *Store) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	sess.Options = s.options(int(s.absolute.Seconds()))
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	var token string
	if err := s.codec.Decode(name, c.Value, &token); err != nil {
		return sess, nil
	}
	now := s.now()
	row, err := s.st.Session(r.Context(), hashToken(token), now)
	if errors.Is(err, store.ErrNotFound) {
		return sess, nil
	}
	if err != nil {
		return sess, err
	}
	if now.Sub(row.LastSeenAt) > s.idle || now.Sub(row.CreatedAt) > s.absolute {
		_ = s.st.DeleteSession(r.Context(), row.ID)
		return sess, nil
	}
	if err := gob.NewDecoder(bytes.NewReader(row.Data)).Decode(&sess.Values); err != nil {
		return sess, nil
	}
	// Every request is activity; recording it at most once per interval keeps reads cheap.
	if now.Sub(row.LastSeenAt) >= s.touch {
		if err := s.st.TouchSession(r.Context(), row.ID, now); err != nil {
			return sess, err
		}
	}
	sess.ID = token
	sess.IsNew = false
	sess.Values[KeyCreated] = row.CreatedAt.Unix()
	return sess, nil
}

// Save writes the session and its cookie; MaxAge < 0 deletes both.
func (s *Store) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	ctx := r.Context()
	if sess.Options != nil && sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := s.st.DeleteSession(ctx, hashToken(sess.ID)); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", s.options(-1)))
		return nil
	}
	now := s.now()
	created := now
	if ts, ok := sess.Values[KeyCreated].(int64); ok && sess.ID != "" {
		created = time.Unix(ts, 0)
	}
	if sess.ID == "" {
		sess.ID = newToken()
		created = now
	}
	values := make(map[any]any, len(sess.Values))
	for k, v := range sess.Values {
		if k != KeyCreated {
			values[k] = v
		}
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(values); err != nil {
		return err
	}
	row := &store.SessionRow{ID: hashToken(sess.ID), Data: buf.Bytes(), CreatedAt: created, LastSeenAt: now, ExpiresAt: created.Add(s.absolute)}
	if uid, ok := sess.Values[KeyUserID].(int64); ok {
		row.UserID = &uid
	}
	if err := s.st.SaveSession(ctx, row); err != nil {
		return err
	}
	encoded, err := s.codec.Encode(sess.Name(), sess.ID)
	if err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(sess.Name(), encoded, s.options(int(s.absolute.Seconds()))))
	return nil
}

// Rotate ends the session's current id; the next Save issues a new one (used at login, against fixation).
func (s *Store) Rotate(ctx context.Context, sess *sessions.Session) error {
	if sess.ID != "" {
		if err := s.st.DeleteSession(ctx, hashToken(sess.ID)); err != nil {
			return err
		}
	}
	sess.ID = ""
	delete(sess.Values, KeyCreated)
	return nil
}

func (s *Store) options(maxAge int) *sessions.Options {
	return &sessions.Options{Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
}

func newToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}
