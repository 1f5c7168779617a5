package testutil

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Form is one form of a served page, read as a browser reads it: its action (absent = the
// page's own URL) resolved against the page, its method, and the value of every successful
// control (hidden and text inputs, the selected options of a select, checked checkboxes and
// radios, textareas). Tests change fields with Set, Check and Uncheck, then Submit.
type Form struct {
	page      *Response
	node      *html.Node
	submitter *html.Node
	desc      string
	action    *url.URL
	method    string
	values    url.Values
	controls  map[string][]*html.Node // every named control, successful or not
}

// Form finds a form on the page and reads it. sel is an int (the nth form, from 0) or a
// selector: "#id", ".class", "tag", "[attr=value]" or a compound of them such as
// "form[action=/logout]" or "button[value=en]". When the element found is not a form, its
// form is used, and a submit button found this way is the one pressed (its name and value are
// sent, its formaction and formmethod apply). The test fails when nothing matches.
func (r *Response) Form(sel any) *Form {
	r.c.t.Helper()
	doc := r.Doc()
	var el *html.Node
	desc := fmt.Sprint(sel)
	switch s := sel.(type) {
	case int:
		forms := findAll(doc, func(n *html.Node) bool { return n.DataAtom == atom.Form })
		if s < 0 || s >= len(forms) {
			r.c.t.Fatalf("%s has %d forms, not a form number %d", r.URL, len(forms), s)
		}
		el = forms[s]
	case string:
		m, err := parseSelector(s)
		if err != nil {
			r.c.t.Fatalf("form selector %q: %v", s, err)
		}
		found := findAll(doc, m.matches)
		if len(found) == 0 {
			r.c.t.Fatalf("%s has no element matching %q", r.URL, s)
		}
		el = found[0]
	default:
		r.c.t.Fatalf("Form takes an index or a selector, not %T", sel)
	}
	f := &Form{page: r, desc: desc, values: url.Values{}, controls: map[string][]*html.Node{}}
	if el.DataAtom == atom.Form {
		f.node = el
	} else {
		f.node = formOf(doc, el)
		if f.node == nil {
			r.c.t.Fatalf("%q on %s is in no form", desc, r.URL)
		}
		if isSubmitButton(el) {
			f.submitter = el
		}
	}
	f.read(doc)
	return f
}

// FormWith is the first form matching sel whose field name holds value, for pages that repeat
// one form per row (a disconnect or break form per channel, told apart by a hidden input).
func (r *Response) FormWith(sel, name, value string) *Form {
	r.c.t.Helper()
	m, err := parseSelector(sel)
	if err != nil {
		r.c.t.Fatalf("form selector %q: %v", sel, err)
	}
	doc := r.Doc()
	for _, el := range findAll(doc, m.matches) {
		f := &Form{page: r, node: el, desc: sel + " with " + name + "=" + value, values: url.Values{}, controls: map[string][]*html.Node{}}
		if el.DataAtom != atom.Form {
			if f.node = formOf(doc, el); f.node == nil {
				continue
			}
			if isSubmitButton(el) {
				f.submitter = el
			}
		}
		f.read(doc)
		if slices.Contains(f.values[name], value) {
			return f
		}
	}
	r.c.t.Fatalf("%s has no form %q with %s=%q", r.URL, sel, name, value)
	return nil
}

// Forms counts the forms on the page.
func (r *Response) Forms() int {
	return len(findAll(r.Doc(), func(n *html.Node) bool { return n.DataAtom == atom.Form }))
}

// HasForm reports whether an element matching sel exists and belongs to a form.
func (r *Response) HasForm(sel string) bool {
	m, err := parseSelector(sel)
	if err != nil {
		r.c.t.Fatalf("form selector %q: %v", sel, err)
	}
	doc := r.Doc()
	for _, el := range findAll(doc, m.matches) {
		if el.DataAtom == atom.Form || formOf(doc, el) != nil {
			return true
		}
	}
	return false
}

func (f *Form) read(doc *html.Node) {
	t := f.page.c.t
	action := attr(f.node, "action")
	method := attr(f.node, "method")
	if f.submitter != nil {
		if v, ok := attrOK(f.submitter, "formaction"); ok {
			action = v
		}
		if v, ok := attrOK(f.submitter, "formmethod"); ok {
			method = v
		}
	}
	u, err := f.page.URL.Parse(action)
	if err != nil {
		t.Fatalf("form %q on %s: bad action %q: %v", f.desc, f.page.URL, action, err)
	}
	u.Fragment = ""
	f.action = u
	f.method = strings.ToUpper(method)
	if f.method != http.MethodPost {
		// HTML knows only get and post; anything else is get.
		f.method = http.MethodGet
	}
	formID := attr(f.node, "id")
	for _, n := range findAll(doc, func(n *html.Node) bool { return isControl(n) }) {
		owner := ""
		if v, ok := attrOK(n, "form"); ok {
			owner = v
		}
		if owner != "" {
			if owner != formID || formID == "" {
				continue
			}
		} else if formOf(doc, n) != f.node {
			continue
		}
		name := attr(n, "name")
		if name == "" {
			continue
		}
		f.controls[name] = append(f.controls[name], n)
		if disabled(n) {
			continue
		}
		switch n.DataAtom {
		case atom.Textarea:
			f.values.Add(name, strings.TrimPrefix(textOf(n), "\n"))
		case atom.Select:
			f.values[name] = append(f.values[name], selected(n)...)
		case atom.Button:
			if n == f.submitter {
				f.values.Add(name, attr(n, "value"))
			}
		case atom.Input:
			switch strings.ToLower(attr(n, "type")) {
			case "checkbox", "radio":
				if _, on := attrOK(n, "checked"); on {
					f.values.Add(name, valueOr(n, "on"))
				}
			case "submit", "image":
				if n == f.submitter {
					f.values.Add(name, attr(n, "value"))
				}
			case "button", "reset", "file":
			default:
				f.values.Add(name, attr(n, "value"))
			}
		}
	}
}

// Action is where the form sends its data, resolved against the page.
func (f *Form) Action() string { return f.action.String() }

// Method is GET or POST.
func (f *Form) Method() string { return f.method }

// Values is a copy of what the form would send now.
func (f *Form) Values() url.Values {
	out := url.Values{}
	for k, v := range f.values {
		out[k] = slices.Clone(v)
	}
	return out
}

// Get is the first value the form would send for name.
func (f *Form) Get(name string) string { return f.values.Get(name) }

// Set types values into a field the form has. A field the form lacks fails the test, and so
// does a value a select, checkbox or radio does not offer: a browser cannot send either (use
// Forge for hand-made requests). Disabled and hidden controls cannot be set.
func (f *Form) Set(name string, values ...string) *Form {
	t := f.page.c.t
	t.Helper()
	ctrls := f.controls[name]
	if len(ctrls) == 0 {
		t.Fatalf("form %q on %s has no field %q (fields: %s)", f.desc, f.page.URL, name, strings.Join(f.fieldNames(), ", "))
	}
	for _, v := range values {
		if !offers(ctrls, v) {
			t.Fatalf("form %q on %s: field %q does not offer %q", f.desc, f.page.URL, name, v)
		}
	}
	if allDisabled(ctrls) {
		t.Fatalf("form %q on %s: field %q is disabled", f.desc, f.page.URL, name)
	}
	if allHidden(ctrls) {
		t.Fatalf("form %q on %s: field %q is hidden, so no one can type into it (use Forge for a hand-made request)", f.desc, f.page.URL, name)
	}
	f.values[name] = slices.Clone(values)
	return f
}

// Check ticks the checkbox or radio of name with value, as a click would.
func (f *Form) Check(name, value string) *Form {
	t := f.page.c.t
	t.Helper()
	var box *html.Node
	for _, n := range f.controls[name] {
		if typ := strings.ToLower(attr(n, "type")); (typ == "checkbox" || typ == "radio") && valueOr(n, "on") == value {
			box = n
		}
	}
	if box == nil {
		t.Fatalf("form %q on %s has no checkbox or radio %s=%q", f.desc, f.page.URL, name, value)
	}
	if disabled(box) {
		t.Fatalf("form %q on %s: %s=%q is disabled", f.desc, f.page.URL, name, value)
	}
	if strings.ToLower(attr(box, "type")) == "radio" {
		f.values.Del(name)
	}
	if !slices.Contains(f.values[name], value) {
		f.values.Add(name, value)
	}
	return f
}

// Uncheck clears the checkbox of name with value.
func (f *Form) Uncheck(name, value string) *Form {
	f.values[name] = slices.DeleteFunc(f.values[name], func(v string) bool { return v == value })
	if len(f.values[name]) == 0 {
		delete(f.values, name)
	}
	return f
}

// Options lists what the select named name offers, value → whether that option is disabled,
// so a test can see which choices a page shows but refuses. A form without that select fails.
func (f *Form) Options(name string) map[string]bool {
	t := f.page.c.t
	t.Helper()
	out := map[string]bool{}
	found := false
	for _, n := range f.controls[name] {
		if n.DataAtom != atom.Select {
			continue
		}
		found = true
		for _, o := range findAll(n, func(x *html.Node) bool { return x.DataAtom == atom.Option }) {
			out[optionValue(o)] = disabled(o)
		}
	}
	if !found {
		t.Fatalf("form %q on %s has no select %q", f.desc, f.page.URL, name)
	}
	return out
}

// Forge sets a field without any check, for requests a browser would not send (tampering).
func (f *Form) Forge(name string, values ...string) *Form {
	f.values[name] = slices.Clone(values)
	return f
}

// Submit sends the form as the browser would. A form whose action and method match no route
// of the app fails the test: it would answer 404 or 405 to every user.
func (f *Form) Submit() *Response {
	c := f.page.c
	c.t.Helper()
	target := *f.action
	if c.routes != nil && sameOrigin(&target, c.base) && !c.routes(f.method, target.Path) {
		c.t.Fatalf("form %q on %s submits %s %s, which has no route", f.desc, f.page.URL, f.method, target.Path)
	}
	var req *http.Request
	if f.method == http.MethodGet {
		target.RawQuery = f.values.Encode()
		req, _ = http.NewRequest(http.MethodGet, target.String(), nil)
	} else {
		req, _ = http.NewRequest(http.MethodPost, target.String(), strings.NewReader(f.values.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	// Browsers send the page as referrer and, for posts, the origin.
	req.Header.Set("Referer", f.page.URL.String())
	if f.method == http.MethodPost {
		req.Header.Set("Origin", f.page.URL.Scheme+"://"+f.page.URL.Host)
	}
	r := c.Do(req)
	if r.Status == http.StatusMethodNotAllowed {
		c.t.Fatalf("form %q on %s: %s %s answered 405", f.desc, f.page.URL, f.method, target.Path)
	}
	return r
}

func (f *Form) fieldNames() []string {
	var out []string
	for k := range f.controls {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sameOrigin(u *url.URL, base string) bool {
	b, err := url.Parse(base)
	return err == nil && u.Scheme == b.Scheme && u.Host == b.Host
}

func isControl(n *html.Node) bool {
	return n.Type == html.ElementNode && (n.DataAtom == atom.Input || n.DataAtom == atom.Select || n.DataAtom == atom.Textarea || n.DataAtom == atom.Button)
}

func isSubmitButton(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Button:
		typ := strings.ToLower(attr(n, "type"))
		return typ == "" || typ == "submit"
	case atom.Input:
		typ := strings.ToLower(attr(n, "type"))
		return typ == "submit" || typ == "image"
	}
	return false
}

// formOf is the form that owns a control: its form attribute, else its nearest form ancestor.
func formOf(doc, n *html.Node) *html.Node {
	if id, ok := attrOK(n, "form"); ok && id != "" {
		found := findAll(doc, func(x *html.Node) bool { return x.DataAtom == atom.Form && attr(x, "id") == id })
		if len(found) > 0 {
			return found[0]
		}
		return nil
	}
	for p := n.Parent; p != nil; p = p.Parent {
		if p.DataAtom == atom.Form {
			return p
		}
	}
	return nil
}

// disabled is true for a disabled control or one inside a disabled fieldset (outside its legend).
func disabled(n *html.Node) bool {
	if _, ok := attrOK(n, "disabled"); ok {
		return true
	}
	for p := n.Parent; p != nil; p = p.Parent {
		if p.DataAtom == atom.Fieldset {
			if _, ok := attrOK(p, "disabled"); ok {
				return true
			}
		}
	}
	return false
}

func allDisabled(ns []*html.Node) bool {
	for _, n := range ns {
		if !disabled(n) {
			return false
		}
	}
	return true
}

func allHidden(ns []*html.Node) bool {
	for _, n := range ns {
		if n.DataAtom != atom.Input || strings.ToLower(attr(n, "type")) != "hidden" {
			return false
		}
	}
	return true
}

// offers reports whether some control of a field can send v.
func offers(ctrls []*html.Node, v string) bool {
	for _, n := range ctrls {
		switch n.DataAtom {
		case atom.Select:
			for _, o := range findAll(n, func(x *html.Node) bool { return x.DataAtom == atom.Option }) {
				if optionValue(o) == v {
					return true
				}
			}
		case atom.Input:
			switch strings.ToLower(attr(n, "type")) {
			case "checkbox", "radio":
				if valueOr(n, "on") == v {
					return true
				}
			case "submit", "image", "button", "reset", "file":
			default:
				return true
			}
		case atom.Button:
			if attr(n, "value") == v {
				return true
			}
		default:
			return true
		}
	}
	return false
}

func selected(sel *html.Node) []string {
	opts := findAll(sel, func(x *html.Node) bool { return x.DataAtom == atom.Option })
	var out []string
	for _, o := range opts {
		if _, ok := attrOK(o, "selected"); ok && !disabled(o) {
			out = append(out, optionValue(o))
		}
	}
	_, multiple := attrOK(sel, "multiple")
	if len(out) == 0 && !multiple {
		for _, o := range opts {
			if !disabled(o) {
				return []string{optionValue(o)}
			}
		}
	}
	if !multiple && len(out) > 1 {
		out = out[len(out)-1:]
	}
	return out
}

func optionValue(o *html.Node) string {
	if v, ok := attrOK(o, "value"); ok {
		return v
	}
	return strings.Join(strings.Fields(textOf(o)), " ")
}

func valueOr(n *html.Node, def string) string {
	if v, ok := attrOK(n, "value"); ok {
		return v
	}
	return def
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func findAll(root *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return out
}

// selector is one compound CSS selector: tag, #id, .class and [attr] / [attr=value] parts.
type selector struct {
	tag     string
	id      string
	classes []string
	attrs   [][2]string // name, value; value "\x00" means present with any value
}

func parseSelector(s string) (selector, error) {
	var sel selector
	s = strings.TrimSpace(s)
	if s == "" {
		return sel, fmt.Errorf("empty selector")
	}
	i := 0
	readName := func() string {
		j := i
		for j < len(s) && !strings.ContainsRune("#.[", rune(s[j])) {
			j++
		}
		out := s[i:j]
		i = j
		return out
	}
	sel.tag = strings.ToLower(readName())
	for i < len(s) {
		switch s[i] {
		case '#':
			i++
			sel.id = readName()
		case '.':
			i++
			sel.classes = append(sel.classes, readName())
		case '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return sel, fmt.Errorf("unclosed [")
			}
			body := s[i+1 : i+end]
			i += end + 1
			name, val, ok := strings.Cut(body, "=")
			if !ok {
				val = "\x00"
			} else {
				val = strings.Trim(val, `"'`)
			}
			sel.attrs = append(sel.attrs, [2]string{strings.TrimSpace(name), val})
		default:
			return sel, fmt.Errorf("unexpected %q", s[i])
		}
	}
	return sel, nil
}

func (s selector) matches(n *html.Node) bool {
	if s.tag != "" && n.Data != s.tag {
		return false
	}
	if s.id != "" && attr(n, "id") != s.id {
		return false
	}
	if len(s.classes) > 0 {
		have := strings.Fields(attr(n, "class"))
		for _, c := range s.classes {
			if !slices.Contains(have, c) {
				return false
			}
		}
	}
	for _, a := range s.attrs {
		v, ok := attrOK(n, a[0])
		if !ok || (a[1] != "\x00" && v != a[1]) {
			return false
		}
	}
	return true
}
