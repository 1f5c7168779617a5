package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// Bad text in every member form is a 422 with the field's message, keeps what else was typed,
// and writes nothing: never a 500 from the database or bcrypt.

func TestInviteBadInput(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	c := a.Client()
	c.Login("boss@t.test", testutil.Password)
	good := url.Values{"email": {"new@t.test"}, "name": {"王小明"}, "role": {"agent"}, "locale": {"zh-TW"}}
	with := func(kv ...string) url.Values {
		f := url.Values{}
		for k, v := range good {
			f[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	emailMsg, nameLen, nameText := "有效的電子郵件", "姓名需為 1 到 100 個字", "姓名含有無法使用的字元"
	cases := []struct {
		name   string
		form   url.Values
		status int
		msgs   []string
		kept   string // a value that must be shown again
	}{
		{"NUL in email", with("email", "a\x00b@t.test"), 422, []string{emailMsg}, "王小明"},
		{"invalid UTF-8 in email", with("email", "a\xffb@t.test"), 422, []string{emailMsg}, "王小明"},
		{"control character in email", with("email", "a\x07@t.test"), 422, []string{emailMsg}, "王小明"},
		{"not an email", with("email", "a@b@c"), 422, []string{emailMsg}, "王小明"},
		{"NUL in name", with("name", "王\x00小明"), 422, []string{nameText}, `value="new@t.test"`},
		{"invalid UTF-8 in name", with("name", "王\xff"), 422, []string{nameText}, `value="new@t.test"`},
		{"newline in name", with("name", "王\n小明"), 422, []string{nameText}, `value="new@t.test"`},
		{"name too long", with("name", strings.Repeat("名", 101)), 422, []string{nameLen}, `value="new@t.test"`},
		{"blank name", with("name", "   "), 422, []string{nameLen}, `value="new@t.test"`},
		{"unknown role", with("role", "superuser"), 422, []string{"有效的角色"}, `value="new@t.test"`},
		{"unknown language", with("locale", "fr"), 422, []string{"不支援這個語言"}, `value="new@t.test"`},
		{"every error at once", with("email", "x\x00", "name", "\xfe", "role", "root"), 422, []string{emailMsg, nameText, "有效的角色"}, ""},
		{"email taken", with("email", "BOSS@t.test"), 409, []string{"已經有帳號"}, "王小明"},
	}
	before := fingerprint(t, a)
	for _, tc := range cases {
		r := c.Submit("/users/invite", "/users/invite", tc.form)
		if r.Status != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, r.Status, tc.status)
		}
		for _, m := range tc.msgs {
			if !strings.Contains(r.Body, m) {
				t.Errorf("%s: no message %q", tc.name, m)
			}
		}
		if tc.kept != "" && !strings.Contains(r.Body, tc.kept) {
			t.Errorf("%s: the form lost %q", tc.name, tc.kept)
		}
		if strings.ContainsRune(r.Body, 0) {
			t.Errorf("%s: a NUL byte was sent back to the browser", tc.name)
		}
	}
	if fingerprint(t, a) != before {
		t.Fatal("a refused invitation wrote something")
	}
}

func TestChoosePasswordBadInput(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	admin := a.Client()
	admin.Login("boss@t.test", testutil.Password)
	link := invite(t, a, admin, "p@t.test", "P", "agent", "zh-TW", 0)
	tooLong, short, text, mismatch := "最多 72 位元組", "至少需要 10 個字元", "密碼含有無法使用的字元", "兩次輸入的密碼不一致"
	cases := []struct {
		name, password, confirm, msg string
	}{
		{"73 ASCII bytes", strings.Repeat("a", 73), "", tooLong},
		{"128 bytes", strings.Repeat("b", 128), "", tooLong},
		{"25 Chinese characters (75 bytes)", strings.Repeat("密", 25), "", tooLong},
		{"NUL", "long-enough\x00pw", "", text},
		{"invalid UTF-8", "long-enough\xffpw", "", text},
		{"too short", "short", "", short},
		{"not the same twice", "long-enough-pw", "long-enough-pX", mismatch},
	}
	before := fingerprint(t, a)
	c := a.Client()
	for _, tc := range cases {
		confirm := tc.confirm
		if confirm == "" {
			confirm = tc.password
		}
		r := c.Submit(link, link, url.Values{"password": {tc.password}, "password_confirm": {confirm}})
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, tc.msg) || !strings.Contains(r.Body, `id="password-retype"`) {
			t.Errorf("%s: %d, want 422 with %q and the retype note", tc.name, r.Status, tc.msg)
		}
		if strings.Contains(r.Body, tc.password) {
			t.Errorf("%s: the password was sent back", tc.name)
		}
	}
	if fingerprint(t, a) != before {
		t.Fatal("a refused password wrote something")
	}
	// 72 bytes exactly (24 Chinese characters) is allowed, and works for signing in.
	pw := strings.Repeat("密", 24)
	if r := c.Submit(link, link, url.Values{"password": {pw}, "password_confirm": {pw}}); r.Status != http.StatusSeeOther {
		t.Fatalf("72-byte password: %d", r.Status)
	}
	a.Client().Login("p@t.test", pw)
}

func TestEditMemberName(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAdmin, "boss@t.test")
	m := a.User(team.ID, models.RoleMarketer, "m@t.test")
	c := a.Client()
	c.Login("boss@t.test", testutil.Password)
	edit := "/users/" + itoa(m.ID) + "/edit"
	if !strings.Contains(c.Get("/users").Body, `href="`+edit+`"`) {
		t.Fatal("the list has no edit link")
	}
	before := fingerprint(t, a)
	for name, bad := range map[string]string{"NUL": "林\x00美玲", "invalid UTF-8": "林\xc3", "control": "林\x1b[31m", "too long": strings.Repeat("x", 101), "blank": " \u3000 "} {
		r := c.Submit(edit, "/users/"+itoa(m.ID), url.Values{"name": {bad}})
		if r.Status != http.StatusUnprocessableEntity || !(strings.Contains(r.Body, "姓名需為") || strings.Contains(r.Body, "姓名含有")) {
			t.Errorf("%s name: %d", name, r.Status)
		}
	}
	if fingerprint(t, a) != before {
		t.Fatal("a refused name wrote something")
	}
	if r := c.Submit(edit, "/users/"+itoa(m.ID), url.Values{"name": {"  林美玲  "}}); r.Status != http.StatusSeeOther {
		t.Fatalf("rename: %d", r.Status)
	}
	if page := c.Get("/users"); !strings.Contains(page.Body, "」的姓名改為「林美玲」") {
		t.Error("the rename flash does not name the member")
	}
	u, _ := a.Store.UserByIDSystem(context.Background(), m.ID)
	if u.Name != "林美玲" {
		t.Fatalf("name %q", u.Name)
	}
	if !strings.Contains(c.Get("/users").Body, "林美玲") {
		t.Error("the list does not show the new name")
	}
}

func TestBadTextOnPublicForms(t *testing.T) {
	a := testutil.NewApp(t)
	team := a.Team("T")
	a.User(team.ID, models.RoleAgent, "u@t.test")
	before := fingerprint(t, a)
	for _, e := range []string{"a\x00@t.test", "a\xff@t.test", "not-an-email", strings.Repeat("a", 250) + "@t.test"} {
		c := a.Client()
		if r := forgot(t, c, e); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "有效的電子郵件") || strings.Contains(r.Body, `id="forgot-sent"`) {
			t.Errorf("forgot with %q: %d", e, r.Status)
		}
		if r := c.Submit("/login", "/login", url.Values{"email": {e}, "password": {"whatever-pw"}}); r.Status >= 500 {
			t.Errorf("login with %q: %d", e, r.Status)
		}
	}
	var requests int
	if err := a.SQL().QueryRow(context.Background(), "SELECT count(*) FROM password_reset_requests").Scan(&requests); err != nil || requests != 0 {
		t.Fatalf("malformed emails were recorded: %d %v", requests, err)
	}
	if fingerprint(t, a) != before {
		t.Fatal("bad text on a public form wrote something")
	}
}
