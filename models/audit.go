package models

import "time"

// AuditEntry records who changed what in a team.
type AuditEntry struct {
	ID          int64
	TeamID      int64
	ActorUserID *int64
	Action      string
	Target      string
	Detail      JSONMap `gorm:"type:jsonb"`
	CreatedAt   time.Time
}

// TableName keeps the table name singular, as the migration has it.
func (AuditEntry) TableName() string { return "audit_log" }
