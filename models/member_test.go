package models_test

import (
	"strings"
	"testing"

	"github.com/omnilink/omnilink/models"
)

func TestTextRules(t *testing.T) {
	for _, tc := range []struct {
		what, got, want string
	}{
		{"plain email", models.EmailProblem("mei@bear.test"), ""},
		{"email with NUL", models.EmailProblem("m\x00@bear.test"), "error.email_invalid"},
		{"email not UTF-8", models.EmailProblem(models.NormalizeEmail("M\xff@bear.test")), "error.email_invalid"},
		{"email with a name part", models.EmailProblem("Mei <mei@bear.test>"), "error.email_invalid"},
		{"email too long", models.EmailProblem(strings.Repeat("a", 250) + "@b.tw"), "error.email_invalid"},
		{"name", models.NameProblem("林美玲"), ""},
		{"name of 100", models.NameProblem(strings.Repeat("林", 100)), ""},
		{"name of 101", models.NameProblem(strings.Repeat("林", 101)), "error.name_length"},
		{"empty name", models.NameProblem(""), "error.name_length"},
		{"name with escape", models.NameProblem("a\x1b[2J"), "error.name_text"},
		{"name with DEL", models.NameProblem("a\x7f"), "error.name_text"},
		{"password of 10", models.PasswordProblem("0123456789"), ""},
		{"password of 9", models.PasswordProblem("012345678"), "error.password_length"},
		{"password of 72 bytes", models.PasswordProblem(strings.Repeat("密", 24)), ""},
		{"password of 73 bytes", models.PasswordProblem(strings.Repeat("a", 73)), "error.password_too_long"},
		{"password with NUL", models.PasswordProblem("0123456789\x00"), "error.password_text"},
		{"password not UTF-8", models.PasswordProblem("0123456789\xc3"), "error.password_text"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.what, tc.got, tc.want)
		}
	}
	if got := models.NormalizeEmail("  Mei@Bear.TEST "); got != "mei@bear.test" {
		t.Errorf("NormalizeEmail = %q", got)
	}
}

func TestAlertInputParse(t *testing.T) {
	a, fe, bad := models.AlertInput{Roles: []string{"supervisor", "admin", "supervisor"}, Addresses: "Ops@X.test\r\nops@x.test; b@x.test , "}.Parse()
	if len(fe) != 0 || len(bad) != 0 {
		t.Fatalf("problems: %v %v", fe, bad)
	}
	if len(a.Roles) != 2 || a.Roles[0] != models.RoleSupervisor || strings.Join(a.Addresses, ",") != "ops@x.test,b@x.test" {
		t.Fatalf("parsed %+v", a)
	}
	_, fe, bad = models.AlertInput{Addresses: "x@y.test nope"}.Parse()
	if !fe.Has("addresses") || len(bad) != 1 || bad[0] != "nope" {
		t.Fatalf("bad address: %v %v", fe, bad)
	}
	_, fe, _ = models.AlertInput{}.Parse()
	if !fe.Has("roles") {
		t.Fatal("nobody to alert was accepted")
	}
}
