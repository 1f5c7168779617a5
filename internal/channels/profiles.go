package channels

import (
	"context"
	"errors"
	"log/slog"
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

// profileBatch bounds one round; a platform that is slow to answer holds no more than this.
const profileBatch = 50

// ReadPending reads the profiles of up to one batch of waiting contacts and returns how many
// it named. A profile the platform will not give (no consent yet, blocked, unknown user) is
// not asked again; a platform that is down or throttling is asked again next round, and a
// channel whose authorisation broke waits for the health monitor's verdict and its repair.
func (p *Profiles) ReadPending(ctx context.Context) (int, error) {
	list, err := p.st.ContactsAwaitingProfileSystem(ctx, profileBatch)
	if err != nil {
		return 0, err
	}
	named := 0
	skip := map[int64]bool{} // channels refusing this round
	for _, c := range list {
		if skip[c.Channel.ID] {
			continue
		}
		prof, err := p.svc.ContactProfile(ctx, &c.Channel, c.ExternalUserID)
		if err != nil {
			switch profileClass(c.Channel.Platform, err) {
			case platform.ClassTransient, platform.ClassAuthBroken:
				skip[c.Channel.ID] = true
				p.log.Info("contact profile not read now", "channel", c.Channel.ID, "error", err.Error())
				continue
			}
			// Anything else is the platform's answer for this person: none to give.
			prof = meta.UserProfile{}
		}
		if err := p.st.SaveContactProfileSystem(ctx, c.ContactID, prof.Name, prof.PictureURL, p.now()); err != nil {
			return named, err
		}
		if prof.Name != "" {
			named++
		}
	}
	return named, nil
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
