package channels

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/omnilink/omnilink/internal/line"
	"github.com/omnilink/omnilink/internal/meta"
	"github.com/omnilink/omnilink/internal/platform"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// ContactProfile reads a customer's name and picture from the channel's platform: the
// Messenger or Instagram user profile (Page token) or the LINE profile. WhatsApp webhooks
// carry the name already, so it has no profile to read.
func (s *Service) ContactProfile(ctx context.Context, ch *models.Channel, userID string) (meta.UserProfile, error) {
	if ch.Platform == models.WhatsApp {
		return meta.UserProfile{}, nil
	}
	c, err := s.Credentials(ch)
	if err != nil {
		return meta.UserProfile{}, err
	}
	switch ch.Platform {
	case models.Facebook:
		return s.meta.MessengerUserProfile(ctx, c.AccessToken, userID)
	case models.Instagram:
		return s.meta.InstagramUserProfile(ctx, c.AccessToken, userID)
	}
	p, err := s.line.Profile(ctx, c.AccessToken, userID)
	return meta.UserProfile{Name: p.DisplayName, PictureURL: p.PictureURL}, err
}

// Profiles names the contacts webhooks make without a name (Messenger, Instagram and LINE
// events carry none), reading each one's profile once, soon after its first message.
type Profiles struct {
	st    *store.Store
	svc   *Service
	log   *slog.Logger
	now   func() time.Time
	every time.Duration
	wake  chan struct{}
}

// NewProfiles builds the reader; every is how often it looks without being woken.
func NewProfiles(st *store.Store, svc *Service, log *slog.Logger, now func() time.Time, every time.Duration) *Profiles {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Profiles{st: st, svc: svc, log: log, now: now, every: every, wake: make(chan struct{}, 1)}
}

// Notify wakes the reader: new contacts may be waiting.
func (p *Profiles) Notify() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run reads pending profiles until ctx ends.
func (p *Profiles) Run(ctx context.Context) {
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		if _, err := p.ReadPending(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("reading contact profiles failed", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-p.wake:
		}
	}
}

// A round reads at most profileBatch profiles, profilePerChannel of one channel; a failed read
// is tried again after profileRetry, profileTries times in all.
const (
	profileBatch      = 50
	profilePerChannel = 10
	profileRetry      = 10 * time.Minute
	profileTries      = 5
	profileNameMax    = 200
)

// ReadPending reads the profiles of up to one batch of waiting contacts and returns how many
// it named. A profile the platform will not give (no consent yet, blocked, unknown user) is
// not asked again; a platform that is down, throttling or refusing the token is asked again
// later, a few times, and a channel whose authorisation broke waits for its repair.
func (p *Profiles) ReadPending(ctx context.Context) (int, error) {
	now := p.now()
	list, err := p.st.ContactsAwaitingProfileSystem(ctx, now, profilePerChannel, profileBatch)
	if err != nil {
		return 0, err
	}
	named := 0
	refused := map[int64]bool{} // channels refusing this round
	var later []int64
	for _, c := range list {
		if refused[c.Channel.ID] {
			later = append(later, c.ContactID)
			continue
		}
		prof, err := p.svc.ContactProfile(ctx, &c.Channel, c.ExternalUserID)
		if err != nil {
			switch profileClass(c.Channel.Platform, err) {
			case platform.ClassTransient, platform.ClassAuthBroken:
				refused[c.Channel.ID] = true
				later = append(later, c.ContactID)
				p.log.Info("contact profile not read now", "channel", c.Channel.ID, "error", err.Error())
				continue
			}
			// Anything else is the platform's answer for this person: none to give.
			prof = meta.UserProfile{}
		}
		name := cleanName(prof.Name)
		if err := p.st.SaveContactProfileSystem(ctx, c.ContactID, name, prof.PictureURL, p.now()); err != nil {
			p.log.Warn("contact profile not saved", "contact", c.ContactID, "error", err.Error())
			later = append(later, c.ContactID)
			continue
		}
		if name != "" {
			named++
		}
	}
	return named, p.st.PostponeContactProfilesSystem(ctx, later, now.Add(profileRetry), now, profileTries)
}

// cleanName keeps a platform's name storable: no NUL, no control characters, a bounded length.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if r := []rune(strings.TrimSpace(s)); len(r) > profileNameMax {
		return string(r[:profileNameMax])
	}
	return strings.TrimSpace(s)
}

// profileClass sorts a failed read; an error that is not the platform's answer (our own
// credentials, a transport failure) counts as transient, so the contact is asked again.
func profileClass(pf models.Platform, err error) platform.Class {
	var ge *meta.GraphError
	var le *line.APIError
	switch {
	case errors.Is(err, line.ErrNotFound):
		return platform.ClassRecipientUnavailable
	case pf == models.LINE && errors.As(err, &le):
		return line.Classify(err).Class
	case pf != models.LINE && errors.As(err, &ge):
		if ge.Code == 100 && ge.Subcode == 33 {
			// The person, not the account, cannot be seen: not ours to retry.
			return platform.ClassRecipientUnavailable
		}
		return meta.Classify(err).Class
	}
	return platform.ClassTransient
}
