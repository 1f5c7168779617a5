package handlers_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/omnilink/omnilink/internal/testutil"
)

// servedForm is a form as a browser would submit it: its action and method from the served
// HTML, and the values of its named controls (hidden inputs, checked boxes, selected options).
type servedForm struct {
	Action string
	Method string
	Values url.Values
}

// findForm parses page and returns the form matching pick (by id, or by action when id is "").
func findForm(t *testing.T, page, pagePath, id, action string) servedForm {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var form *html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if form != nil {
			return
		}
		if n.Type == html.ElementNode && n.Data == "form" && ((id != "" && attr(n, "id") == id) || (id == "" && attr(n, "action") == action)) {
			form = n
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if form == nil {
		t.Fatalf("no form %q %q on %s", id, action, pagePath)
	}
	f := servedForm{Action: attr(form, "action"), Method: strings.ToUpper(attr(form, "method")), Values: url.Values{}}
	if f.Action == "" {
		f.Action = pagePath
	}
	var collect func(*html.Node)
	collect = func(n *html.Node) {
		if n.Type == html.ElementNode {
			name := attr(n, "name")
			switch n.Data {
			case "input":
				typ := attr(n, "type")
				switch {
				case name == "" || typ == "file" || typ == "submit" || typ == "button":
				case typ == "checkbox" || typ == "radio":
					if hasAttr(n, "checked") {
						f.Values.Add(name, attr(n, "value"))
					}
				default:
					f.Values.Add(name, attr(n, "value"))
				}
			case "textarea":
				if name != "" {
					text := ""
					if n.FirstChild != nil {
						text = n.FirstChild.Data
					}
					f.Values.Add(name, text)
				}
			case "select":
				if name != "" {
					val, first := "", ""
					var opts func(*html.Node)
					opts = func(o *html.Node) {
						if o.Type == html.ElementNode && o.Data == "option" && !hasAttr(o, "disabled") {
							if first == "" {
								first = attr(o, "value")
							}
							if hasAttr(o, "selected") {
								val = attr(o, "value")
							}
						}
						for c := o.FirstChild; c != nil; c = c.NextSibling {
							opts(c)
						}
					}
					opts(n)
					if val == "" {
						val = first
					}
					f.Values.Add(name, val)
				}
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			collect(c)
		}
	}
	collect(form)
	return f
}

// options lists a select's options: value → whether it is disabled.
func options(t *testing.T, page, name string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	re := regexp.MustCompile(`(?s)<select name="` + regexp.QuoteMeta(name) + `".*?</select>`)
	sel := re.FindString(page)
	for _, m := range regexp.MustCompile(`<option value="([^"]*)"([^>]*)>`).FindAllStringSubmatch(sel, -1) {
		out[m[1]] = strings.Contains(m[2], "disabled")
	}
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// submitForm fetches pagePath, takes the form, lets edit change what a person would, and posts it.
func submitForm(t *testing.T, c *testutil.Client, pagePath, id, action string, edit func(url.Values)) *testutil.Response {
	t.Helper()
	page := c.Get(pagePath)
	if page.Status != http.StatusOK {
		t.Fatalf("GET %s: %d", pagePath, page.Status)
	}
	noRawKeys(t, pagePath, page.Body)
	f := findForm(t, page.Body, pagePath, id, action)
	if f.Method != http.MethodPost {
		t.Fatalf("form %s%s on %s has method %q", id, action, pagePath, f.Method)
	}
	if edit != nil {
		edit(f.Values)
	}
	return c.Post(f.Action, f.Values)
}

var rawKey = regexp.MustCompile(`>[^<]*\b(campaigns|common|error|nav)\.[a-z_]+[a-z]\b`)

// noRawKeys fails when a page shows an untranslated message key.
func noRawKeys(t *testing.T, path, body string) {
	t.Helper()
	if m := rawKey.FindString(body); m != "" {
		t.Fatalf("%s shows a raw message key: %q", path, m)
	}
}

// uploadImage sends a real file to the image endpoint as htmx does on file pick.
func uploadImage(t *testing.T, c *testutil.Client, base, name string, data []byte) *testutil.Response {
	t.Helper()
	if data == nil {
		var err error
		data, err = os.ReadFile(filepath.Join("..", "internal", "media", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("_csrf", c.CSRF())
	fw, _ := mw.CreateFormFile("image", name)
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/campaigns/media", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-CSRF-Token", c.CSRF())
	req.Header.Set("HX-Request", "true")
	return c.Do(req)
}

var mediaIDField = regexp.MustCompile(`name="media_id" value="(\d+)"`)
