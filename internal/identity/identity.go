// Package identity puts a team's contacts (one identity on one channel) under one customer:
// linking two contacts merges their customers by the identity rules, and a merge can be undone
// from the snapshot it keeps. It runs inside the caller's transaction and knows nothing of HTTP.
package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/omnilink/omnilink/internal/apperr"
	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/models"
)

// Outcome is what a link did.
type Outcome string

// Link outcomes.
const (
	Merged        Outcome = "merged"         // two customers became one
	AlreadyLinked Outcome = "already_linked" // they were one customer already: nothing changed
)

// Result is a successful link.
type Result struct {
	Outcome    Outcome
	CustomerID int64 // the customer both contacts now belong to
	MergeID    int64 // the merge written, when Outcome is Merged
}

// ConflictKind says which identity rule refused a link.
type ConflictKind string

// Conflict kinds.
const (
	ConflictMemberNo ConflictKind = "member_no" // both customers carry different member numbers
	ConflictChannel  ConflictKind = "channel"   // both hold a different identity on one channel
)

// ConflictError is a link the identity rules refuse; nothing was written.
type ConflictError struct {
	Kind ConflictKind
	// HeldBy is the contact that already holds the channel (ConflictChannel).
	HeldBy int64
}

// Error describes the conflict, for logs.
func (e *ConflictError) Error() string {
	if e.Kind == ConflictChannel {
		return "identity: the customer already has another identity on that channel (contact " + strconv.FormatInt(e.HeldBy, 10) + ")"
	}
	return "identity: the customers carry different member numbers"
}

// ErrContactNotFound is a contact that is not the team's.
var ErrContactNotFound = errors.New("identity: contact not found")

// Link puts contacts a and b under one customer inside tx. Customers are locked in id order,
// so concurrent links of overlapping customers serialise and never deadlock on each other.
// actor names who asked ("campaign:7", "user:3") for the merge record and the audit log.
func Link(ctx context.Context, tx *store.Store, teamID, a, b int64, actor string, now time.Time) (Result, error) {
	if a == b {
		return Result{}, fmt.Errorf("identity: cannot link a contact to itself")
	}
	// Lock the contacts' customers (in id order), then read the contacts' customers again under
	// the lock: a merge we waited for may have moved a contact, and then we go round again.
	for range 5 {
		locked, err := tx.LockTeamContactsCustomers(ctx, teamID, []int64{a, b})
		if err != nil {
			return Result{}, err
		}
		// The merge's facts are read with the contacts' customers, for the pair the lock found:
		// they count only if the contacts still belong to exactly that pair.
		var survivor, absorbed models.Customer
		if len(locked) == 2 {
			survivor, absorbed = survivorOf(locked[0], locked[1])
		}
		owners, facts, err := tx.TeamLinkFacts(ctx, teamID, []int64{a, b}, survivor.ID, absorbed.ID)
		if err != nil {
			return Result{}, err
		}
		ca, okA := owners[a]
		cb, okB := owners[b]
		if !okA || !okB {
			return Result{}, ErrContactNotFound
		}
		if ca == 0 || cb == 0 {
			// A contact made before customers existed gets its own first.
			for id, c := range map[int64]int64{a: ca, b: cb} {
				if c == 0 {
					if _, err := tx.EnsureTeamContactCustomer(ctx, teamID, id); err != nil {
						return Result{}, err
					}
				}
			}
			continue
		}
		if ca == cb {
			return Result{Outcome: AlreadyLinked, CustomerID: ca}, nil
		}
		if len(locked) != 2 || !slices.ContainsFunc(locked, func(c models.Customer) bool { return c.ID == ca }) ||
			!slices.ContainsFunc(locked, func(c models.Customer) bool { return c.ID == cb }) {
			continue
		}
		return merge(ctx, tx, teamID, survivor, absorbed, facts, actor, now)
	}
	return Result{}, errors.New("identity: customers kept changing while linking")
}

func merge(ctx context.Context, tx *store.Store, teamID int64, survivor, absorbed models.Customer, f store.MergeFacts, actor string, now time.Time) (Result, error) {
	if survivor.MemberNo != nil && absorbed.MemberNo != nil && *survivor.MemberNo != *absorbed.MemberNo {
		return Result{}, &ConflictError{Kind: ConflictMemberNo}
	}
	if f.HeldBy != 0 {
		return Result{}, &ConflictError{Kind: ConflictChannel, HeldBy: f.HeldBy}
	}
	contacts, pointed := []int64(f.Contacts), []int64(f.Pointed)
	snap := models.JSONMap{"contacts": contacts, "merged_into_absorbed": pointed, "survivor_member_no": survivor.MemberNo,
		"absorbed_member_no": absorbed.MemberNo, "absorbed_display_name": absorbed.DisplayName, "survivor_display_name": survivor.DisplayName}
	m := &models.Merge{TeamID: teamID, SurvivorID: survivor.ID, AbsorbedID: absorbed.ID, Snapshot: snap, Actor: actor}
	var take *string
	if survivor.MemberNo == nil {
		take = absorbed.MemberNo
	}
	audit := &models.AuditEntry{TeamID: teamID, Action: "customer.merge", Target: "customer:" + strconv.FormatInt(survivor.ID, 10),
		Detail: models.JSONMap{"absorbed": absorbed.ID, "actor": actor, "contacts": contacts}, CreatedAt: now}
	if err := tx.MergeCustomers(ctx, m, take, absorbed.DisplayName, audit, now); err != nil {
		return Result{}, err
	}
	return Result{Outcome: Merged, CustomerID: survivor.ID, MergeID: m.ID}, nil
}

// survivorOf picks the customer that stays: the one with a member number, else the older.
func survivorOf(x, y models.Customer) (survivor, absorbed models.Customer) {
	switch {
	case x.MemberNo != nil && y.MemberNo == nil:
		return x, y
	case y.MemberNo != nil && x.MemberNo == nil:
		return y, x
	case y.CreatedAt.Before(x.CreatedAt):
		return y, x
	}
	return x, y
}

// Undo refusals, each with the reason shown to the user.
var (
	// ErrAlreadyUndone is a merge that was undone before.
	ErrAlreadyUndone = apperr.Conflict("", "customers.error_undone")
	// ErrLaterMerge is a merge a later merge of the same customers depends on; undo that first.
	ErrLaterMerge = apperr.Conflict("", "customers.error_later_merge")
	// ErrUndoMemberNo is an undo that would give a member number back while another customer holds it.
	ErrUndoMemberNo = apperr.Conflict("", "customers.error_undo_member")
)

// Undo restores a merge from its snapshot: the absorbed customer gets its contacts back (those
// still under the survivor) and the survivor its member number as it was.
func Undo(ctx context.Context, tx *store.Store, teamID, mergeID int64, actor string, now time.Time) error {
	m, err := tx.TeamMergeForUpdate(ctx, teamID, mergeID)
	if err != nil {
		return err
	}
	if m.UndoneAt != nil {
		return ErrAlreadyUndone
	}
	// Merges are undone newest first: a later merge of either customer still in place would
	// lose contacts it took over.
	later, err := tx.LaterLiveMergeOf(ctx, m)
	if err != nil {
		return err
	}
	if later != 0 {
		return ErrLaterMerge.With(map[string]any{"ID": later})
	}
	if _, err := tx.LockTeamCustomers(ctx, teamID, sortedPair(m.SurvivorID, m.AbsorbedID)); err != nil {
		return err
	}
	contacts, pointed := ids(m.Snapshot["contacts"]), ids(m.Snapshot["merged_into_absorbed"])
	var memberNo *string
	if s, ok := m.Snapshot["survivor_member_no"].(string); ok {
		memberNo = &s
	}
	if err := tx.UndoMerge(ctx, m, contacts, pointed, memberNo, now); err != nil {
		if errors.Is(err, store.ErrMemberNoTaken) {
			return ErrUndoMemberNo
		}
		return err
	}
	// A survivor that took the absorbed customer's name (having none) gives it back.
	if was, ok := m.Snapshot["survivor_display_name"].(string); ok && was == "" {
		if taken, _ := m.Snapshot["absorbed_display_name"].(string); taken != "" {
			if err := tx.RestoreTeamCustomerName(ctx, teamID, m.SurvivorID, taken, "", now); err != nil {
				return err
			}
		}
	}
	return tx.AddAudit(ctx, &models.AuditEntry{TeamID: teamID, Action: "customer.merge_undo", Target: "customer:" + strconv.FormatInt(m.SurvivorID, 10),
		Detail: models.JSONMap{"merge_id": m.ID, "absorbed": m.AbsorbedID, "actor": actor}, CreatedAt: now})
}

func sortedPair(a, b int64) []int64 {
	if a > b {
		return []int64{b, a}
	}
	return []int64{a, b}
}

// ids reads a JSON array of numbers back from a snapshot.
func ids(v any) []int64 {
	list, _ := v.([]any)
	out := make([]int64, 0, len(list))
	for _, x := range list {
		if f, ok := x.(float64); ok {
			out = append(out, int64(f))
		}
	}
	return out
}
