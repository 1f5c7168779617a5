package handlers

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzSafeNext checks that whatever next a visitor sends, the address we redirect to stays on
// our origin when a browser reads it (dropping tabs and newlines, trimming controls and spaces,
// taking backslashes for slashes) and carries no control characters into the Location header.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/users?x=1#y", "//evil.example", "/\t/evil.example", "/%2F/evil", "/\\evil", "https://evil.example",
		"javascript:alert(1)", " /x", "/a/../b", "/%09/evil", "\x00//evil", "/@evil", "//user@evil"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://omnilink.example/")
	browser := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/")
	f.Fuzz(func(t *testing.T, next string) {
		out := safeNext(next)
		if strings.ContainsFunc(out, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("safeNext(%q) = %q keeps a control character", next, out)
		}
		read := browser.Replace(strings.TrimFunc(out, func(r rune) bool { return r <= 0x20 }))
		u, err := base.Parse(read)
		if err != nil {
			t.Fatalf("safeNext(%q) = %q does not parse: %v", next, out, err)
		}
		if u.Scheme != base.Scheme || u.Host != base.Host || u.User != nil {
			t.Fatalf("safeNext(%q) = %q leaves the site: %s", next, out, u)
		}
		if p, err := url.PathUnescape(u.EscapedPath()); err == nil && strings.HasPrefix(browser.Replace(p), "//") {
			t.Fatalf("safeNext(%q) = %q decodes to %q", next, out, p)
		}
	})
}
