package auth

// PasswordForm is the page where someone chooses a password through an invitation or reset link.
type PasswordForm struct {
	Invite   bool   // an invitation (welcome text) rather than a reset
	Action   string // the link's own path
	Name     string
	Email    string
	TeamName string
	Errors   map[string]string
	Error    string
	Retyped  bool // a failed submit: passwords are never sent back, so say why the fields are empty
}

// ForgotForm is the forgot-password page, before or after it was sent.
type ForgotForm struct {
	Email  string
	Errors map[string]string
	Sent   bool
}

// LinkProblemVM explains why a link no longer works and what to do instead.
type LinkProblemVM struct {
	Title      string
	Message    string
	WhatToDo   string
	ActionHref string
	ActionText string
}
