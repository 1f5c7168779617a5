package teamhook

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/omnilink/omnilink/internal/store"
)

type eventCampaign struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type eventCustomer struct {
	ID         int64                `json:"id"`
	MemberNo   *string              `json:"member_no"`
	Identities []store.EventContact `json:"identities"`
	Tags       []string             `json:"tags"`
}

type eventActor struct {
	Campaign *eventCampaign `json:"campaign,omitempty"`
	UserID   int64          `json:"user_id,omitempty"`
}

func (s *Service) actor(ctx context.Context, tx *store.Store, teamID int64, actor string) eventActor {
	kind, id, _ := strings.Cut(actor, ":")
	n, _ := strconv.ParseInt(id, 10, 64)
	if kind == "campaign" {
		return eventActor{Campaign: s.campaign(ctx, tx, teamID, n)}
	}
	return eventActor{UserID: n}
}

func (s *Service) campaign(ctx context.Context, tx *store.Store, teamID, id int64) *eventCampaign {
	c := &eventCampaign{ID: id}
	if camp, err := tx.CampaignAny(ctx, teamID, id); err == nil {
		c.Name = camp.Name
	}
	return c
}

func (s *Service) customer(ctx context.Context, tx *store.Store, teamID, id int64) (eventCustomer, error) {
	out := eventCustomer{ID: id, Identities: []store.EventContact{}, Tags: []string{}}
	cu, err := tx.TeamCustomer(ctx, teamID, id)
	if err != nil {
		return out, err
	}
	out.MemberNo = cu.MemberNo
	if out.Identities, err = tx.TeamEventContacts(ctx, teamID, nil, []int64{id}); err != nil {
		return out, err
	}
	if out.Tags, err = tx.TeamCustomerTagNames(ctx, teamID, []int64{id}); err != nil {
		return out, err
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	return out, nil
}

// LinkEvent records identity.linked for a campaign link inside tx, then customer.merged when
// the link merged two customers.
func (s *Service) LinkEvent(ctx context.Context, tx *store.Store, teamID, campaignID, sourceContactID, targetContactID, mergeID int64, at time.Time) error {
	listening := false
	err := s.emit(ctx, tx, teamID, EventLinked, at, func() (any, error) {
		listening = true
		pair, err := tx.TeamEventContacts(ctx, teamID, []int64{sourceContactID, targetContactID}, nil)
		if err != nil {
			return nil, err
		}
		data := map[string]any{"campaign": s.campaign(ctx, tx, teamID, campaignID)}
		for _, c := range pair {
			if c.ID == sourceContactID {
				data["source"] = c
			} else {
				data["target"] = c
			}
			data["customer_id"] = c.CustomerID
		}
		if cid, ok := data["customer_id"].(int64); ok {
			tags, err := tx.TeamCustomerTagNames(ctx, teamID, []int64{cid})
			if err != nil {
				return nil, err
			}
			if tags == nil {
				tags = []string{}
			}
			data["tags"] = tags
		}
		return data, nil
	})
	if err != nil || mergeID == 0 || !listening {
		return err
	}
	return s.MergeEvent(ctx, tx, EventMerged, teamID, mergeID, at)
}

// MergeEvent records customer.merged or customer.merge_undone for a merge inside tx, with both
// customers as they are now and who acted.
func (s *Service) MergeEvent(ctx context.Context, tx *store.Store, kind string, teamID, mergeID int64, at time.Time) error {
	return s.emit(ctx, tx, teamID, kind, at, func() (any, error) {
		m, err := tx.TeamMerge(ctx, teamID, mergeID)
		if err != nil {
			return nil, err
		}
		survivor, err := s.customer(ctx, tx, teamID, m.SurvivorID)
		if err != nil {
			return nil, err
		}
		absorbed, err := s.customer(ctx, tx, teamID, m.AbsorbedID)
		if err != nil {
			return nil, err
		}
		return map[string]any{"merge_id": m.ID, "survivor": survivor, "absorbed": absorbed, "merged_by": s.actor(ctx, tx, teamID, m.Actor),
			"merged_at": m.CreatedAt.UTC().Format(time.RFC3339Nano), "absorbed_identity_ids": m.Snapshot["contacts"]}, nil
	})
}
