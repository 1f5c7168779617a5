package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/omnilink/omnilink/internal/store"
	"github.com/omnilink/omnilink/internal/testutil"
	"github.com/omnilink/omnilink/models"
)

// The scope test seeds team A with one row of everything, each under the id scopeID where the
// table allows it and each carrying scopeMarker, and team B with one user and nothing else.
const (
	scopeID     int64 = 424242
	scopeTeamB  int64 = 7
	scopeUserB  int64 = 8
	scopeMarker       = "SECRET-A"
)

// scopeSeed is team A's data. Channel scopeID is LINE; the campaign runs from the Facebook
// channel to it; contact scopeID is on the LINE channel and is the campaign's source contact.
const scopeSeed = `
INSERT INTO teams (id, name, locale, plan_status, notification_emails) VALUES
  (424242, 'SECRET-A team', 'en', 'active', '["secret-a-alerts@a.test"]');
INSERT INTO users (id, team_id, email, name, password_hash, role, invite_pending) VALUES
  (424242, 424242, 'secret-a@a.test', 'SECRET-A user', 'SECRET-A-hash', 'admin', false),
  (424243, 424242, 'secret-a-new@a.test', 'SECRET-A invitee', 'SECRET-A-hash', 'agent', true);
INSERT INTO user_tokens (id, user_id, purpose, token_hash, expires_at) VALUES
  (424242, 424242, 'invite', 'SECRET-A-token', now() + interval '1 day');
INSERT INTO meta_authorizations (id, team_id, fb_user_id, fb_user_name, access_token, expires_at, granted_scopes, declined_scopes) VALUES
  (424242, 424242, 'SECRET-A-fbuser', 'SECRET-A fb user', 'SECRET-A-access', now() + interval '3 days', '[]', '[]');
INSERT INTO channels (id, team_id, platform, external_id, display_name, authorized_by, credentials, settings, status, status_cause, status_message, failing_since, token_expires_at) VALUES
  (424242, 424242, 'line', 'U-SECRET-A', 'SECRET-A LINE', NULL, 'SECRET-A-cred', '{}', 'invalid', 'token_revoked', 'SECRET-A', now(), now() + interval '3 days'),
  (424243, 424242, 'facebook', 'SECRET-A-page', 'SECRET-A page', 424242, 'SECRET-A-cred', '{}', 'active', '', '', NULL, now() + interval '3 days'),
  (424244, 424242, 'instagram', 'SECRET-A-ig', 'SECRET-A ig', 424242, 'SECRET-A-cred', '{}', 'active', '', '', NULL, now() + interval '3 days'),
  (424245, 424242, 'whatsapp', 'SECRET-A-wa', 'SECRET-A wa', NULL, 'SECRET-A-cred', '{}', 'active', '', '', NULL, NULL);
INSERT INTO channel_health (channel_id, team_id, verdict, cause, detail) VALUES
  (424242, 424242, 'broken', 'token_revoked', 'SECRET-A');
INSERT INTO health_episodes (id, team_id, channel_id, cause, message, detected_by, opened_at, alert_key, alert_failed_at, alert_error) VALUES
  (424242, 424242, 424242, 'token_revoked', 'SECRET-A', 'check', now() - interval '1 hour', '', now(), 'SECRET-A');
INSERT INTO health_episodes (id, team_id, channel_id, cause, message, detected_by, opened_at, closed_at, closed_by, recovery_pending) VALUES
  (424243, 424242, 424243, 'token_revoked', 'SECRET-A', 'check', now() - interval '2 hours', now() - interval '1 hour', 'check', true);
INSERT INTO oauth_states (id, team_id, user_id, session_hash, purpose, channel_id, expires_at, outcome, candidates, outcome_args, notes) VALUES
  ('SECRET-A-state', 424242, 424242, 'SECRET-A-session', 'facebook', 424243, now() + interval '1 hour', '', '[]', '{}', '[]');
INSERT INTO customers (id, team_id, member_no, display_name) VALUES
  (424242, 424242, 'SECRET-A-member', 'SECRET-A customer');
INSERT INTO customers (id, team_id, member_no, display_name, merged_into) VALUES
  (424243, 424242, NULL, 'SECRET-A absorbed', 424242);
INSERT INTO contacts (id, team_id, channel_id, external_user_id, name, customer_id, line_friendship, last_inbound_at) VALUES
  (424242, 424242, 424242, 'U-SECRET-A', 'SECRET-A contact', 424242, 'friend', now()),
  (424243, 424242, 424243, 'SECRET-A-psid', 'SECRET-A fb contact', 424243, 'unknown', now()),
  (424244, 424242, 424242, 'U-SECRET-A-2', 'SECRET-A second', 424243, 'friend', now());
INSERT INTO merges (id, team_id, survivor_id, absorbed_id, snapshot, actor) VALUES
  (424242, 424242, 424242, 424243, '{"note":"SECRET-A"}', 'SECRET-A');
INSERT INTO message_sends (id, team_id, channel_id, contact_id, idempotency_key, cause, outcome, detail, parts) VALUES
  (424242, 424242, 424242, 424242, 'SECRET-A-key', 'SECRET-A-cause', 'sent', 'SECRET-A', 1);
INSERT INTO messages (id, team_id, channel_id, contact_id, direction, platform_message_id, kind, body, sent_at, send_id, part) VALUES
  (424242, 424242, 424242, 424242, 'out', 'SECRET-A-mid', 'text', 'SECRET-A body', now(), 424242, 0),
  (424243, 424242, 424242, 424242, 'in', 'SECRET-A-mid-in', 'text', 'SECRET-A hello', now(), NULL, 0);
INSERT INTO media_blobs (hash, mime, width, height, data) VALUES
  ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'image/png', 1, 1, '\x00');
INSERT INTO media (id, team_id, source_width, source_height, mime, card_hash, square_hash, created_by) VALUES
  (424242, 424242, 1, 1, 'image/png', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 424242);
INSERT INTO bot_modules (id, team_id, platform, name, blocks, created_by) VALUES
  (424242, 424242, 'line', 'SECRET-A module', '[{"kind":"text","text":"SECRET-A"}]', 424242);
INSERT INTO triggers (id, team_id, channel_id, kind, pattern, normalized, module_id, created_by) VALUES
  (424242, 424242, 424242, 'exact', 'SECRET-A', 'secret-a', 424242, 424242);
INSERT INTO tags (id, team_id, name, created_by) VALUES (424242, 424242, 'SECRET-A tag', 424242), (424243, 424242, 'SECRET-A tag 2', 424242);
INSERT INTO contact_tags (team_id, contact_id, tag_id, source) VALUES (424242, 424242, 424242, 'user');
INSERT INTO journeys (id, team_id, name, trigger_tag_id, enabled, steps, created_by) VALUES
  (424242, 424242, 'SECRET-A journey', 424242, true, '[]', 424242);
INSERT INTO tag_rules (id, team_id, tag_id, action, journey_id, channel_id, rich_menu_id, rich_menu_name, priority) VALUES
  (424242, 424242, 424242, 'rich_menu', NULL, 424242, 'SECRET-A-menu', 'SECRET-A menu', 1),
  (424243, 424242, 424242, 'journey', 424242, NULL, '', '', 0);
INSERT INTO contact_rich_menus (contact_id, team_id, channel_id, rule_id, desired, applied, status, error) VALUES
  (424242, 424242, 424242, 424242, 'SECRET-A-menu', '', 'failed', 'SECRET-A');
INSERT INTO journey_runs (id, team_id, journey_id, contact_id, status, step, started_at) VALUES
  (424242, 424242, 424242, 424242, 'running', 0, now());
INSERT INTO journey_run_steps (id, run_id, step, kind, outcome, reason, at) VALUES
  (424242, 424242, 0, 'SECRET-A', 'done', 'SECRET-A', now());
INSERT INTO campaigns (id, team_id, name, status, source_channel_id, target_channel_id, card_media_id, card_title, card_text, card_button,
    success_source_kind, success_target_kind, success_target_text, failure_source_kind, tags_source, tags_target, token_ttl_days, version, created_by, link_on_follow) VALUES
  (424242, 424242, 'SECRET-A campaign', 'enabled', 424243, 424242, 424242, 'SECRET-A', 'SECRET-A', 'SECRET-A',
    'none', 'text', 'SECRET-A', 'none', '[]', '[]', 7, 1, 424242, true);
INSERT INTO link_tokens (id, team_id, campaign_id, source_contact_id, token_hash, wa_code, expires_at) VALUES
  (424242, 424242, 424242, 424242, '\x00000000000000000000000000000000000000000000000000000000000000aa', 'SECRET-A-code', now() + interval '1 day');
INSERT INTO link_attempts (id, team_id, campaign_id, source_contact_id, last_token_id, card_sent_at, friend_required_at, liff_verified_at, liff_user_id, status, reason) VALUES
  (424242, 424242, 424242, 424242, 424242, now() - interval '1 hour', now() - interval '30 minutes', now(), 'U-SECRET-A', 'open', '');
INSERT INTO audit_log (id, team_id, actor_user_id, action, target, detail) VALUES
  (424242, 424242, 424242, 'SECRET-A', 'SECRET-A-target', '{"x":"SECRET-A"}');
INSERT INTO outbox (id, kind, team_id, payload, idempotency_key, next_attempt_at, created_at) VALUES
  (424242, 'SECRET-A', 424242, '{"x":"SECRET-A"}', 'SECRET-A-outbox', now(), now());
`

// scopeSeedB is team B: a team with one member and nothing else.
const scopeSeedB = `
INSERT INTO teams (id, name, locale, plan_status, notification_emails) VALUES (7, 'B', 'en', 'active', '[]');
INSERT INTO users (id, team_id, email, name, password_hash, role, invite_pending) VALUES (8, 7, 'b@b.test', 'B user', 'h', 'agent', false);
`

// scopeOverride gives the few parameters for which the generic value would find nothing even
// for team A itself, so that the call would prove nothing.
var scopeOverride = map[string]map[string]any{
	"TeamMergeFacts":      {"absorbedID": int64(424243)}, // customers 424242 and 424243 both hold a LINE contact
	"TeamMetaAuthorizers": {"p": models.Facebook},        // authorizations are Meta's
	"AddContactTags":      {"tagIDs": []int64{424243}},   // a tag the contact does not have yet
	"DeletePendingUser":   {"id": int64(424243)},         // the member still invited
}

// scopeBlind lists the methods whose call, even as team A, does not show team A's data, so the
// check above proves little for them; every other method must see team A when asked as team A.
var scopeBlind = map[string]string{
	"CustomerContactOnChannel": "answers with the contact it is given when that contact is on the channel, without a query",
}

// scopeUncallable lists team-scoped methods the generic caller cannot call, and why.
var scopeUncallable = map[string]string{
	// It streams rows to a callback instead of returning them; the export handler's test asks
	// for another team's campaign and gets 404 before any row is read.
	"EachTeamCampaignStatsRow": "streams through a callback",
}

// Every exported Store method that takes teamID, called with team B's id and team A's object
// ids, neither answers with team A's data nor changes it. The methods are found by parsing
// the package, so a new team-scoped method is covered as soon as it is written.
func TestTeamScopedMethodsRefuseAnotherTeam(t *testing.T) {
	url := testutil.DatabaseURL(t)
	st, err := store.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	teamTables := scopeTeamTables(t, db)
	// Every call starts from the same seed, so one that deletes cannot hide another's leak.
	// Identities restart so that rows a call creates get the same ids in both worlds.
	reseed := func(t *testing.T, withA bool) {
		q := scopeTruncate(t, db) + scopeSeedB
		if withA {
			q += scopeSeed
		}
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}

	methods := scopeMethods(t)
	if len(methods) < 50 {
		t.Fatalf("found only %d team-scoped methods; is the parser looking at the package?", len(methods))
	}
	sv := reflect.ValueOf(st)
	for _, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			if why, ok := scopeUncallable[m.name]; ok {
				t.Skip(why)
			}
			fn := sv.MethodByName(m.name)
			if !fn.IsValid() {
				t.Fatalf("method %s not found on *store.Store", m.name)
			}
			ft := fn.Type()
			if ft.NumIn() != len(m.params) {
				t.Fatalf("%s: %d parameters by reflection, %d by parsing", m.name, ft.NumIn(), len(m.params))
			}
			args := make([]reflect.Value, ft.NumIn())
			for i := range args {
				v, ok := scopeArg(ctx, m.params[i], ft.In(i))
				if o, found := scopeOverride[m.name][m.params[i]]; found {
					v, ok = reflect.ValueOf(o), true
				}
				if !ok {
					t.Fatalf("%s: no value for parameter %s %s; add it to scopeArg or scopeUncallable", m.name, m.params[i], ft.In(i))
				}
				args[i] = v
			}
			// The answer must be the one team B gets when team A does not exist at all.
			reseed(t, false)
			alone := scopeAnswer(t, fn.Call(args))
			reseed(t, true)
			before := scopeFingerprint(t, db, teamTables)
			got := scopeAnswer(t, fn.Call(args))
			t.Logf("answer: %s", got)
			if got != alone {
				t.Errorf("answer depends on team A's data:\n with A: %s\n alone:  %s", got, alone)
			}
			if strings.Contains(strings.ToUpper(got), scopeMarker) {
				t.Errorf("answered with team A's data: %s", got)
			}
			if after := scopeFingerprint(t, db, teamTables); after != before {
				t.Errorf("changed team A's rows or gave team B a row pointing at them:\n%s", scopeDiff(before, after))
			}

			// The same call as team A must see team A (answer differently or change its rows),
			// or the seed lacks what this method reads and the check above proved nothing.
			if _, blind := scopeBlind[m.name]; blind {
				return
			}
			for i, p := range m.params {
				if p == "teamID" {
					args[i] = reflect.ValueOf(scopeID)
				}
			}
			reseed(t, true)
			asA := scopeAnswer(t, fn.Call(args))
			if asA == got && scopeFingerprint(t, db, teamTables) == before {
				t.Errorf("as team A the call sees nothing of team A either (%s); seed what it reads, override its arguments, or list it in scopeBlind", asA)
			}
		})
	}
}

// scopeTime matches the timestamps in an answer, which differ between two calls.
var scopeTime = regexp.MustCompile(`"\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)"`)

// scopeAnswer is a call's results as JSON (an error as its text), timestamps blanked.
func scopeAnswer(t *testing.T, out []reflect.Value) string {
	var parts []string
	for _, o := range out {
		if e, ok := o.Interface().(error); ok && e != nil {
			parts = append(parts, "error: "+e.Error())
			continue
		}
		b, err := json.Marshal(o.Interface())
		if err != nil {
			t.Fatalf("marshal result: %v", err)
		}
		parts = append(parts, scopeTime.ReplaceAllString(string(b), `"T"`))
	}
	return strings.Join(parts, " ")
}

type scopeMethod struct {
	name   string
	params []string // the receiver excluded
}

// scopeMethods parses the package for exported *Store methods with a parameter named teamID.
func scopeMethods(t *testing.T) []scopeMethod {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []scopeMethod
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Recv == nil || !fd.Name.IsExported() {
					continue
				}
				star, ok := fd.Recv.List[0].Type.(*ast.StarExpr)
				if !ok {
					continue
				}
				if id, ok := star.X.(*ast.Ident); !ok || id.Name != "Store" {
					continue
				}
				var params []string
				scoped := false
				for _, fld := range fd.Type.Params.List {
					for _, n := range fld.Names {
						params = append(params, n.Name)
						scoped = scoped || n.Name == "teamID"
					}
				}
				if scoped {
					out = append(out, scopeMethod{fd.Name.Name, params})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// scopeArg picks a value for one parameter: team B for teamID, B's own user for an author,
// team A's ids and values for everything that names an object.
func scopeArg(ctx context.Context, name string, typ reflect.Type) (reflect.Value, bool) {
	now := time.Now()
	switch typ {
	case reflect.TypeFor[context.Context]():
		return reflect.ValueOf(ctx), true
	case reflect.TypeFor[time.Time]():
		switch name {
		case "since":
			return reflect.ValueOf(now.AddDate(-1, 0, 0)), true
		case "warnUntil", "expires":
			return reflect.ValueOf(now.AddDate(0, 0, 30)), true
		}
		return reflect.ValueOf(now), true
	case reflect.TypeFor[*time.Time]():
		return reflect.ValueOf(&now), true
	case reflect.TypeFor[[]int64]():
		return reflect.ValueOf([]int64{scopeID}), true
	case reflect.TypeFor[[]byte]():
		return reflect.ValueOf([]byte(nil)), true
	case reflect.TypeFor[[]models.Role]():
		return reflect.ValueOf(models.Roles), true
	}
	v := reflect.New(typ).Elem()
	switch typ.Kind() {
	case reflect.Int64:
		switch name {
		case "teamID":
			v.SetInt(scopeTeamB)
		case "by":
			v.SetInt(scopeUserB)
		default:
			v.SetInt(scopeID)
		}
	case reflect.Int:
		v.SetInt(10)
	case reflect.Bool:
		v.SetBool(false)
	case reflect.String:
		v.SetString(scopeString(name, typ))
	case reflect.Pointer:
		if typ.Elem().Kind() == reflect.Struct {
			v = reflect.New(typ.Elem())
			scopeFill(v.Elem())
		}
	case reflect.Struct:
		scopeFill(v)
	default:
		return v, false
	}
	return v, true
}

// scopeString is a string argument: team A's value where the parameter looks something up,
// a harmless new value where it writes.
func scopeString(name string, typ reflect.Type) string {
	switch typ {
	case reflect.TypeFor[models.Platform]():
		return string(models.LINE)
	case reflect.TypeFor[models.Role]():
		return string(models.RoleAdmin)
	case reflect.TypeFor[models.PlanStatus]():
		return string(models.PlanEnded)
	case reflect.TypeFor[models.TimeZone]():
		return "Asia/Taipei"
	case reflect.TypeFor[models.CampaignStatus]():
		return string(models.CampaignDisabled)
	case reflect.TypeFor[models.TagSource]():
		return string(models.TagByUser)
	}
	switch name {
	case "externalID", "lineUserID":
		return "U-SECRET-A"
	case "id":
		return "SECRET-A-state"
	case "sessionHash":
		return "SECRET-A-session"
	case "key":
		return "SECRET-A-key"
	case "target":
		return "SECRET-A-target"
	case "prefix":
		return "SECRET-A"
	case "name":
		return "b-name"
	}
	return "SECRET-A"
}

// scopeFill makes a struct one of team A's objects: every id, TeamID included, is scopeID.
func scopeFill(v reflect.Value) {
	for i := range v.NumField() {
		f, sf := v.Field(i), v.Type().Field(i)
		if !sf.IsExported() || f.Kind() != reflect.Int64 {
			continue
		}
		if strings.HasSuffix(sf.Name, "ID") {
			f.SetInt(scopeID)
		}
	}
}

// scopeTruncate empties every table but goose's.
func scopeTruncate(t *testing.T, db *sql.DB) string {
	var list string
	if err := db.QueryRow(`SELECT string_agg(quote_ident(table_name), ', ') FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'goose_db_version'`).Scan(&list); err != nil {
		t.Fatal(err)
	}
	return "TRUNCATE " + list + " RESTART IDENTITY CASCADE;"
}

// scopeTeamTables lists the tables with a team_id column.
func scopeTeamTables(t *testing.T, db *sql.DB) []string {
	rows, err := db.Query(`SELECT table_name FROM information_schema.columns
		WHERE table_schema = 'public' AND column_name = 'team_id' ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// scopeFingerprint is every row of team A (teams, tables with team_id, and the rows that hang
// off them: tokens of A's users, steps of A's runs, media blobs), plus every row of team B that
// mentions team A's ids or marker: a cross-team write shows up in one or the other.
func scopeFingerprint(t *testing.T, db *sql.DB, teamTables []string) string {
	parts := []string{
		`SELECT 'teams', t::text FROM teams t WHERE id = 424242`,
		`SELECT 'user_tokens', t::text FROM user_tokens t WHERE user_id IN (SELECT id FROM users WHERE team_id = 424242)`,
		`SELECT 'journey_run_steps', t::text FROM journey_run_steps t WHERE run_id IN (SELECT id FROM journey_runs WHERE team_id = 424242)`,
		`SELECT 'media_blobs', t::text FROM media_blobs t`,
		`SELECT 'b_user_tokens', t::text FROM user_tokens t WHERE user_id IN (SELECT id FROM users WHERE team_id = 7)`,
	}
	for _, tb := range teamTables {
		parts = append(parts,
			fmt.Sprintf(`SELECT '%[1]s', t::text FROM %[1]s t WHERE team_id = 424242`, tb),
			fmt.Sprintf(`SELECT 'b_%[1]s', t::text FROM %[1]s t WHERE team_id = 7 AND (t::text LIKE '%%424242%%' OR t::text LIKE '%%SECRET-A%%')`, tb))
	}
	rows, err := db.Query(strings.Join(parts, " UNION ALL ") + " ORDER BY 1, 2")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var tb, row string
		if err := rows.Scan(&tb, &row); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s\n", tb, row)
	}
	return b.String()
}

// scopeDiff shows the fingerprint lines that appeared or went away.
func scopeDiff(before, after string) string {
	in := map[string]bool{}
	for _, l := range strings.Split(before, "\n") {
		in[l] = true
	}
	out := map[string]bool{}
	var b strings.Builder
	for _, l := range strings.Split(after, "\n") {
		out[l] = true
		if !in[l] {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	for _, l := range strings.Split(before, "\n") {
		if !out[l] {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	return b.String()
}
