package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/omnilink/omnilink/models"
)

// TeamWebhook loads a team's outbound webhook setting (ErrNotFound when none).
func (s *Store) TeamWebhook(ctx context.Context, teamID int64) (*models.TeamWebhook, error) {
	return first[models.TeamWebhook](s.q(ctx).Where("team_id = ?", teamID))
}

// SaveTeamWebhook writes a team's outbound webhook setting.
func (s *Store) SaveTeamWebhook(ctx context.Context, w *models.TeamWebhook) error {
	return s.q(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(w).Error
}

// AddTeamWebhookDelivery records an event to post.
func (s *Store) AddTeamWebhookDelivery(ctx context.Context, d *models.TeamWebhookDelivery) error {
	return s.q(ctx).Create(d).Error
}

// TeamWebhookDeliverySystem loads a delivery for the worker.
func (s *Store) TeamWebhookDeliverySystem(ctx context.Context, id int64) (*models.TeamWebhookDelivery, error) {
	return first[models.TeamWebhookDelivery](s.q(ctx).Where("id = ?", id))
}

// PendingTeamWebhookDeliveriesUpTo lists a team's deliveries up to and including d that are
// neither delivered nor given up, oldest first.
func (s *Store) PendingTeamWebhookDeliveriesUpTo(ctx context.Context, d *models.TeamWebhookDelivery, limit int) ([]models.TeamWebhookDelivery, error) {
	var out []models.TeamWebhookDelivery
	err := s.q(ctx).Where("team_id = ? AND id <= ? AND delivered_at IS NULL AND given_up_at IS NULL", d.TeamID, d.ID).Order("id").Limit(limit).Find(&out).Error
	return out, err
}

// NoteTeamWebhookAttemptSystem records one attempt's outcome.
func (s *Store) NoteTeamWebhookAttemptSystem(ctx context.Context, id int64, status int, lastError string, at time.Time, delivered, givenUp bool) error {
	var deliveredAt, givenUpAt *time.Time
	if delivered {
		deliveredAt = &at
	} else if givenUp {
		givenUpAt = &at
	}
	return s.q(ctx).Exec(`UPDATE team_webhook_deliveries SET attempts = attempts + 1, last_status = ?, last_error = ?, attempted_at = ?,
		delivered_at = coalesce(delivered_at, ?::timestamptz), given_up_at = coalesce(given_up_at, ?::timestamptz) WHERE id = ?`,
		status, lastError, at, deliveredAt, givenUpAt, id).Error
}

// TeamWebhookDeliveries lists a team's latest deliveries, newest first.
func (s *Store) TeamWebhookDeliveries(ctx context.Context, teamID int64, limit int) ([]models.TeamWebhookDelivery, error) {
	var out []models.TeamWebhookDelivery
	err := s.q(ctx).Where("team_id = ?", teamID).Order("id DESC").Limit(limit).Find(&out).Error
	return out, err
}

// EventContact is an identity as an outbound event describes it.
type EventContact struct {
	ID             int64  `json:"id"`
	CustomerID     int64  `json:"customer_id"`
	Platform       string `json:"platform"`
	ChannelID      int64  `json:"channel_id"`
	ChannelAccount string `json:"channel_account_id"`
	ExternalUserID string `json:"external_user_id"`
	Name           string `json:"name"`
}

// TeamEventContacts loads contacts of a team for an event, by id or by customer.
func (s *Store) TeamEventContacts(ctx context.Context, teamID int64, contactIDs, customerIDs []int64) ([]EventContact, error) {
	var out []EventContact
	err := s.q(ctx).Raw(`SELECT ct.id, coalesce(ct.customer_id, 0) AS customer_id, ch.platform, ch.id AS channel_id, ch.external_id AS channel_account,
			ct.external_user_id, ct.name FROM contacts ct JOIN channels ch ON ch.id = ct.channel_id
		WHERE ct.team_id = ? AND (ct.id IN ? OR ct.customer_id IN ?) ORDER BY ct.id`, teamID, append(contactIDs, 0), append(customerIDs, 0)).Scan(&out).Error
	return out, err
}

// TeamCustomerTagNames lists the tag names on a customer's contacts.
func (s *Store) TeamCustomerTagNames(ctx context.Context, teamID int64, customerIDs []int64) ([]string, error) {
	var out []string
	err := s.q(ctx).Raw(`SELECT DISTINCT t.name FROM contact_tags x JOIN contacts ct ON ct.id = x.contact_id JOIN tags t ON t.id = x.tag_id
		WHERE x.team_id = ? AND ct.customer_id IN ? ORDER BY t.name`, teamID, append(customerIDs, 0)).Scan(&out).Error
	return out, err
}
