package models

// Role is a user's single role within a team.
type Role string

// The five roles, most powerful first.
const (
	RoleAdmin          Role = "admin"
	RoleSupervisor     Role = "supervisor"
	RoleMarketer       Role = "marketer"
	RoleMarketingAgent Role = "marketing_agent"
	RoleAgent          Role = "agent"
)

// Roles lists every role in display order.
var Roles = []Role{RoleAdmin, RoleSupervisor, RoleMarketer, RoleMarketingAgent, RoleAgent}

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	for _, k := range Roles {
		if r == k {
			return true
		}
	}
	return false
}

// Capability is something a role may do in the console.
type Capability string

// Capabilities guarded by the permission table.
const (
	CapDashboard Capability = "dashboard"
	CapCampaigns Capability = "campaigns"
	CapChannels  Capability = "channels"
	CapUsers     Capability = "users"
	// CapTeamSettings is changing the team's own settings (name, time zone).
	CapTeamSettings Capability = "team_settings"
	CapTags         Capability = "tags"
	CapJourneys     Capability = "journeys"
	CapCustomers    Capability = "customers"
	// CapCustomerEdit changes customers: member numbers, tags, merges and their undo, imports.
	CapCustomerEdit Capability = "customer_edit"
	// CapWebhook sets the team's outbound webhook.
	CapWebhook Capability = "webhook"
)

// permissions is the one role × capability table; navigation and route guards both read it.
var permissions = map[Capability][]Role{
	CapDashboard:    Roles,
	CapCampaigns:    {RoleAdmin, RoleSupervisor, RoleMarketer, RoleMarketingAgent},
	CapChannels:     {RoleAdmin, RoleSupervisor},
	CapUsers:        {RoleAdmin},
	CapTeamSettings: {RoleAdmin},
	CapTags:         {RoleAdmin, RoleSupervisor, RoleMarketer, RoleMarketingAgent},
	CapJourneys:     {RoleAdmin, RoleSupervisor, RoleMarketer, RoleMarketingAgent},
	// Customer service (客服) works with customers too: list, profiles, replies.
	CapCustomers:    Roles,
	CapCustomerEdit: {RoleAdmin, RoleSupervisor, RoleMarketer, RoleMarketingAgent},
	CapWebhook:      {RoleAdmin, RoleSupervisor},
}

// Can reports whether role r holds capability c.
func (r Role) Can(c Capability) bool {
	for _, k := range permissions[c] {
		if k == r {
			return true
		}
	}
	return false
}

// CanGrant reports whether a user with role r may give another user the role target.
// Only holders of the users capability manage roles, and they may grant any role.
func (r Role) CanGrant(target Role) bool {
	return r.Can(CapUsers) && target.Valid()
}
