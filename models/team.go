// Package models holds the data types, enums and pure validation rules; it does no I/O.
package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// PlanStatus tells whether a team's subscription is running.
type PlanStatus string

// Plan states.
const (
	PlanActive PlanStatus = "active"
	PlanEnded  PlanStatus = "ended"
)

// Team is a tenant: every other row belongs to exactly one team.
type Team struct {
	ID                 int64
	Name               string
	Locale             string
	PlanStatus         PlanStatus
	NotificationEmails StringList `gorm:"type:jsonb"` // extra addresses for channel alerts
	AlertRoles         RoleList   `gorm:"type:jsonb"` // roles that receive channel alerts
	TimeZone           TimeZone   `gorm:"default:Asia/Taipei"`
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// StringList is a list of strings kept in a jsonb column.
type StringList []string

// Value encodes the list as a JSON array; nil becomes [].
func (l StringList) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(l))
	return string(b), err
}

// Scan decodes a JSON array.
func (l *StringList) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*l = nil
		return nil
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return fmt.Errorf("StringList: cannot scan %T", src)
	}
	return json.Unmarshal(b, (*[]string)(l))
}
