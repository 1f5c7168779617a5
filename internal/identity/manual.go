package identity

import (
	"context"
	"errors"
	"strconv"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Event kinds sent to the team's webhook.
const (
	EventLinked      = "identity.linked"
	EventMerged      = "customer.merged"
	EventMergeUndone = "customer.merge_undone"
)

// Manual-merge refusals, shown to the user.
var (
	ErrMergeSelf       = apperr.Invalid("with", "customers.error_merge_self")
	ErrMergeNoContacts = apperr.Invalid("with", "customers.error_merge_empty")
	ErrMergeMemberNo   = apperr.Conflict("with", "customers.error_conflict_member")
	ErrMergeChannel    = apperr.Conflict("with", "customers.error_conflict_channel")
)

// MergePreview is what merging two customers would give, computed by the same rules as the merge.
type MergePreview struct {
	Survivor *models.Customer
	Absorbed *models.Customer
	MemberNo *string
	Contacts []store.CustomerContact
	Tags     []store.CustomerTag
	// Refusal is the rule that forbids the merge (nil when it may go ahead).
	Refusal *apperr.Error
	// HeldBy is the contact holding the channel both customers have an identity on.
	HeldBy *store.CustomerContact
}

// live loads one of the team's customers that has not been absorbed.
func (s *Customers) live(ctx context.Context, teamID, id int64) (*models.Customer, error) {
	cu, err := s.st.TeamCustomer(ctx, teamID, id)
	if err != nil {
		return nil, err
	}
	if cu.MergedInto != nil {
		return nil, store.ErrNotFound
	}
	return cu, nil
}

// Preview shows what merging customers a and b would do, or which rule refuses it.
func (s *Customers) Preview(ctx context.Context, teamID, a, b int64) (*MergePreview, error) {
	if a == b {
		return nil, ErrMergeSelf
	}
	x, err := s.live(ctx, teamID, a)
	if err != nil {
		return nil, err
	}
	y, err := s.live(ctx, teamID, b)
	if err != nil {
		return nil, err
	}
	sv, ab := survivorOf(*x, *y)
	p := &MergePreview{Survivor: &sv, Absorbed: &ab, MemberNo: sv.MemberNo}
	if p.MemberNo == nil {
		p.MemberNo = ab.MemberNo
	}
	if p.Contacts, err = s.st.TeamCustomersContacts(ctx, teamID, []int64{sv.ID, ab.ID}); err != nil {
		return nil, err
	}
	tags, err := s.st.TeamCustomersTags(ctx, teamID, []int64{sv.ID, ab.ID})
	if err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	for _, t := range tags {
		if !seen[t.TagID] {
			p.Tags = append(p.Tags, t)
		}
		seen[t.TagID] = true
	}
	counts := map[int64]int{}
	for _, c := range p.Contacts {
		counts[*c.CustomerID]++
	}
	switch {
	case counts[sv.ID] == 0 || counts[ab.ID] == 0:
		p.Refusal = ErrMergeNoContacts
	case sv.MemberNo != nil && ab.MemberNo != nil && *sv.MemberNo != *ab.MemberNo:
		p.Refusal = ErrMergeMemberNo
	default:
		f, err := s.st.TeamMergeFacts(ctx, teamID, sv.ID, ab.ID)
		if err != nil {
			return nil, err
		}
		if f.HeldBy != 0 {
			p.Refusal = ErrMergeChannel
			for i := range p.Contacts {
				if p.Contacts[i].ID == f.HeldBy {
					p.HeldBy = &p.Contacts[i]
				}
			}
		}
	}
	return p, nil
}

// Merge joins two of the team's customers by a person's decision, under the same rules (and
// the same locks) as a campaign link, audited and announced to the team's webhook.
func (s *Customers) Merge(ctx context.Context, actor *models.User, a, b int64) (Result, error) {
	if a == b {
		return Result{}, ErrMergeSelf
	}
	var res Result
	err := s.st.WithTx(ctx, func(tx *store.Store) error {
		var pick [2]int64
		for i, id := range []int64{a, b} {
			cu, err := tx.TeamCustomer(ctx, actor.TeamID, id)
			if err != nil {
				return err
			}
			if cu.MergedInto != nil {
				return store.ErrNotFound
			}
			ids, err := tx.CustomerContactIDs(ctx, actor.TeamID, id)
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				return ErrMergeNoContacts
			}
			pick[i] = ids[0]
		}
		now := s.now()
		var err error
		res, err = Link(ctx, tx, actor.TeamID, pick[0], pick[1], "user:"+strconv.FormatInt(actor.ID, 10), now)
		var ce *ConflictError
		if errors.As(err, &ce) {
			if ce.Kind == ConflictChannel {
				return ErrMergeChannel
			}
			return ErrMergeMemberNo
		}
		if err != nil || res.Outcome != Merged {
			return err
		}
		if s.events != nil {
			return s.events.MergeEvent(ctx, tx, EventMerged, actor.TeamID, res.MergeID, now)
		}
		return nil
	})
	if err == nil && s.notify != nil {
		s.notify.Notify()
	}
	return res, err
}

// UndoMerge undoes one of the team's merges by a person's decision and returns the customer
// whose page to show (the survivor, also when the undo is refused). Merges are undone newest first (ErrLaterMerge otherwise).
func (s *Customers) UndoMerge(ctx context.Context, actor *models.User, mergeID int64) (int64, error) {
	m, err := s.st.TeamMerge(ctx, actor.TeamID, mergeID)
	if err != nil {
		return 0, err
	}
	survivor := m.SurvivorID
	err = s.st.WithTx(ctx, func(tx *store.Store) error {
		now := s.now()
		if err := Undo(ctx, tx, actor.TeamID, mergeID, "user:"+strconv.FormatInt(actor.ID, 10), now); err != nil {
			return err
		}
		if s.events != nil {
			return s.events.MergeEvent(ctx, tx, EventMergeUndone, actor.TeamID, mergeID, now)
		}
		return nil
	})
	if err == nil && s.notify != nil {
		s.notify.Notify()
	}
	return survivor, err
}
