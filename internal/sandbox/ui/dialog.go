package ui

import (
	"net/url"
	"slices"
	"strings"

	"github.com/omnilink/omnilink/internal/sandbox"
	sbview "github.com/omnilink/omnilink/views/sandbox"
)

// UserParam is the dialog's query parameter naming the chosen fake Facebook user. Facebook
// knows who is logged in; the sandbox asks instead.
const UserParam = "sandbox_user"

// DialogError is a dialog request Facebook would refuse outright (wrong app id, a redirect URI
// the app does not allow): the dialog explains it instead of redirecting anywhere.
type DialogError struct {
	Key    string // i18n key of the explanation
	Detail string
}

// Error returns the message key and detail.
func (e *DialogError) Error() string { return e.Key + ": " + e.Detail }

// knownScopes have a description under sandbox.scope_{name}.
var knownScopes = []string{
	"public_profile", "email", "pages_show_list", "pages_messaging", "pages_manage_metadata", "pages_read_engagement",
	"instagram_basic", "instagram_manage_messages", "business_management",
	"whatsapp_business_management", "whatsapp_business_messaging",
}

// userNotes have a hint under sandbox.user_note_{key}, saying what each fake user is for.
var userNotes = []string{"mei", "jun", "kai", "yu", "ann"}

// dialogRequest is a validated dialog request.
type dialogRequest struct {
	clientID, redirectURI, state, scope, configID, authType string
	scopes                                                  []string
}

// parseDialog validates a dialog request as Facebook does before showing anything.
func (s *Service) parseDialog(q url.Values) (dialogRequest, error) {
	r := dialogRequest{clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), state: q.Get("state"),
		scope: q.Get("scope"), configID: q.Get("config_id"), authType: q.Get("auth_type")}
	if r.clientID != s.w.AppID() {
		return r, &DialogError{Key: "sandbox.dialog_error_app", Detail: "client_id=" + r.clientID}
	}
	if err := s.w.CheckDialog(r.clientID, r.redirectURI); err != nil {
		return r, &DialogError{Key: "sandbox.dialog_error_redirect", Detail: "redirect_uri=" + r.redirectURI}
	}
	// Like the app's "Valid OAuth Redirect URIs": only omnilink itself may receive codes, so the
	// dialog cannot be used to send a code to another site.
	if !sameOrigin(r.redirectURI, s.base) {
		return r, &DialogError{Key: "sandbox.dialog_error_redirect", Detail: "redirect_uri=" + r.redirectURI}
	}
	for _, sc := range strings.FieldsFunc(r.scope, func(c rune) bool { return c == ',' || c == ' ' }) {
		if !slices.Contains(r.scopes, sc) {
			r.scopes = append(r.scopes, sc)
		}
	}
	if len(r.scopes) == 0 {
		if r.configID != "" {
			// A Facebook Login for Business configuration stands for the app's permission set.
			r.scopes = sandbox.AppScopes()
		} else {
			r.scopes = []string{"public_profile"}
		}
	}
	return r, nil
}

func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host)
}

// Dialog builds the dialog page for a request at path: the account chooser, or, once a user
// is chosen, that user's consent screen with the permissions ticked as they would leave them.
func (s *Service) Dialog(path string, q url.Values) (sbview.DialogVM, error) {
	r, err := s.parseDialog(q)
	if err != nil {
		return sbview.DialogVM{}, err
	}
	vm := sbview.DialogVM{AppID: r.clientID, RedirectURI: r.redirectURI, State: r.state, Scope: r.scope, ConfigID: r.configID,
		AuthType: r.authType, Rerequest: r.authType == "rerequest", Action: path}
	base := url.Values{}
	for k, v := range q {
		if k != UserParam {
			base[k] = v
		}
	}
	vm.SwitchHref = path + "?" + base.Encode()
	chosen := q.Get(UserParam)
	for _, u := range s.w.FacebookUsers() {
		link := url.Values{}
		for k, v := range base {
			link[k] = v
		}
		link.Set(UserParam, u.Key)
		uvm := sbview.FacebookUserVM{Key: u.Key, ID: u.ID, Name: u.Name, PictureURL: s.pictureURL(u.ID, u.Name), Href: path + "?" + link.Encode()}
		if slices.Contains(userNotes, u.Key) {
			uvm.Note = "sandbox.user_note_" + u.Key
		}
		vm.Users = append(vm.Users, uvm)
		if chosen != "" && (chosen == u.Key || chosen == u.ID) {
			sel := uvm
			vm.Selected = &sel
		}
	}
	if vm.Selected == nil {
		return vm, nil
	}
	u, _ := s.w.FacebookUser(vm.Selected.ID)
	ticked := s.w.DefaultGrant(u.ID, r.scopes)
	for _, sc := range r.scopes {
		vm.Permissions = append(vm.Permissions, sbview.PermissionVM{Scope: sc, Known: slices.Contains(knownScopes, sc), Checked: slices.Contains(ticked, sc)})
	}
	pages := map[string]sandbox.Page{}
	for _, p := range s.w.Pages() {
		pages[p.ID] = p
	}
	igs := map[string]sandbox.InstagramAccount{}
	for _, a := range s.w.InstagramAccounts() {
		igs[a.ID] = a
	}
	for _, role := range u.Roles {
		p, ok := pages[role.PageID]
		if !ok {
			continue
		}
		pv := sbview.DialogPageVM{Name: p.Name, Tasks: strings.Join(role.Tasks, ", "), Editor: !slices.Contains(role.Tasks, "MANAGE")}
		if a, ok := igs[p.InstagramID]; ok {
			pv.Instagram = a.Username
		} else if a, ok := igs[p.ConnectedInstagramID]; ok {
			pv.Instagram, pv.Creator = a.Username, true
		}
		vm.Pages = append(vm.Pages, pv)
	}
	return vm, nil
}

// Decide answers the consent form: Continue grants the ticked permissions the request asked
// for and returns the redirect with code and state; Cancel returns the access_denied redirect.
func (s *Service) Decide(form url.Values) (string, error) {
	r, err := s.parseDialog(form)
	if err != nil {
		return "", err
	}
	if form.Get("decision") != "continue" {
		return s.w.Deny(r.redirectURI, r.state)
	}
	u, ok := s.w.FacebookUser(form.Get(UserParam))
	if !ok {
		return "", &DialogError{Key: "sandbox.dialog_error_user", Detail: UserParam + "=" + form.Get(UserParam)}
	}
	var granted []string
	for _, sc := range form["perm"] {
		// Only what was asked for can be granted, whatever the form says.
		if slices.Contains(r.scopes, sc) && !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	return s.w.Authorize(u.ID, granted, r.redirectURI, r.state)
}

// pictureURL is an avatar from the emulator's picture endpoint, on our own origin.
func (s *Service) pictureURL(id, name string) string {
	return APIMount + "/pictures/" + url.PathEscape(id) + ".svg?" + url.Values{"name": {name}}.Encode()
}
