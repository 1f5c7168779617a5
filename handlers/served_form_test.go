package handlers_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var (
	formAction = regexp.MustCompile(`\saction="([^"]*)"`)
	inputTag   = regexp.MustCompile(`<(?:input|textarea|select)\b[^>]*>`)
	attrName   = regexp.MustCompile(`\sname="([^"]*)"`)
	attrValue  = regexp.MustCompile(`\svalue="([^"]*)"`)
)

// formOf reads the form with the given id from a served page as a browser would: its action
// and its named inputs with their values. A form that is missing fails the test.
func formOf(t *testing.T, body, id string) (string, url.Values) {
	t.Helper()
	start := strings.Index(body, `id="`+id+`"`)
	if start < 0 {
		t.Fatalf("form %s not on the page", id)
	}
	open := strings.LastIndex(body[:start], "<form")
	end := strings.Index(body[open:], "</form>")
	if open < 0 || end < 0 {
		t.Fatalf("form %s is not a form", id)
	}
	block := body[open : open+end]
	tag := block[:strings.Index(block, ">")]
	m := formAction.FindStringSubmatch(tag)
	if m == nil {
		t.Fatalf("form %s has no action", id)
	}
	v := url.Values{}
	for _, in := range inputTag.FindAllString(block, -1) {
		n := attrName.FindStringSubmatch(in)
		if n == nil {
			continue
		}
		val := ""
		if x := attrValue.FindStringSubmatch(in); x != nil {
			val = html.UnescapeString(x[1])
		}
		v.Set(html.UnescapeString(n[1]), val)
	}
	return html.UnescapeString(m[1]), v
}
