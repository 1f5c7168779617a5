package testutil

import (
	"regexp"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/omnilink/omnilink/internal/i18n"
)

// catalogue is what the page check knows of the message files: the key sections (the first
// segment of every key) and, per language, the fixed phrases only that language uses.
type catalogue struct {
	sections map[string]bool
	zhOnly   []string // phrases with Han characters from zh-TW messages (never right on an English page)
	enOnly   []string // multi-word English phrases from en messages that zh-TW translates
}

var (
	catOnce sync.Once
	cat     catalogue
	catErr  error
)

// tmplAction splits a message into its fixed phrases around {{.Args}}.
var tmplAction = regexp.MustCompile(`\{\{[^}]*\}\}`)

func loadCatalogue() (catalogue, error) {
	catOnce.Do(func() {
		b, err := i18n.Load()
		if err != nil {
			catErr = err
			return
		}
		cat.sections = map[string]bool{}
		seen := map[string]bool{}
		for _, k := range b.Keys(i18n.Default) {
			cat.sections[strings.SplitN(k, ".", 2)[0]] = true
			zv, ev := b.Source("zh-TW", k), b.Source("en", k)
			if zv == ev {
				continue
			}
			for _, frag := range tmplAction.Split(zv, -1) {
				frag = strings.TrimSpace(frag)
				if hanCount(frag) >= 4 && !seen[frag] {
					seen[frag] = true
					cat.zhOnly = append(cat.zhOnly, frag)
				}
			}
			for _, frag := range tmplAction.Split(ev, -1) {
				frag = strings.TrimSpace(frag)
				if len(strings.Fields(frag)) >= 4 && hanCount(frag) == 0 && !seen[frag] && !strings.Contains(zv, frag) {
					seen[frag] = true
					cat.enOnly = append(cat.enOnly, frag)
				}
			}
		}
	})
	return cat, catErr
}

func hanCount(s string) int {
	n := 0
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			n++
		}
	}
	return n
}

// rawKey finds text shaped like a message key (section.key_name); the section must be one the
// catalogue has, and the match must not be part of a URL, an e-mail address or a host name.
var rawKey = regexp.MustCompile(`\b[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+\b`)

// partOfWord tells whether a character next to a match makes it part of a URL, an address or
// a longer name rather than a key standing alone.
func partOfWord(b byte) bool {
	return b == '@' || b == '/' || b == ':' || b == '-' || b == '_' || b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9'
}

// visibleText is what a reader sees or hears of a page: text outside scripts and styles, and
// the attributes that carry words (title, placeholder, labels, alt text, confirmations).
func visibleText(doc *html.Node) []string {
	var out []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			if s := strings.TrimSpace(n.Data); s != "" {
				out = append(out, s)
			}
		case html.ElementNode:
			// What people typed (a textarea, a preview of their card) is theirs, in any language.
			if n.DataAtom == atom.Script || n.DataAtom == atom.Style || n.DataAtom == atom.Code || n.DataAtom == atom.Pre || n.DataAtom == atom.Textarea {
				return
			}
			if _, ok := attrOK(n, "data-user-content"); ok {
				return
			}
			for _, a := range n.Attr {
				switch a.Key {
				case "title", "placeholder", "aria-label", "alt", "data-confirm":
					out = append(out, a.Val)
				case "value":
					if typ := strings.ToLower(attr(n, "type")); n.DataAtom == atom.Input && (typ == "submit" || typ == "button") {
						out = append(out, a.Val)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// pageLanguage is the lang attribute of the html element.
func pageLanguage(doc *html.Node) string {
	for _, n := range findAll(doc, func(n *html.Node) bool { return n.DataAtom == atom.Html }) {
		return attr(n, "lang")
	}
	return ""
}

// checkPage reports raw message keys on any page, zh-TW phrases on an English page and English
// phrases on a zh-TW page: each is a missing or untranslated message.
func (c *Client) checkPage(r *Response) {
	c.t.Helper()
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || r.Body == "" {
		return
	}
	cg, err := loadCatalogue()
	if err != nil {
		c.t.Fatalf("page check: load messages: %v", err)
	}
	doc := r.Doc()
	texts := visibleText(doc)
	for _, s := range texts {
		for _, ix := range rawKey.FindAllStringIndex(s, -1) {
			key := s[ix[0]:ix[1]]
			if ix[0] > 0 && (partOfWord(s[ix[0]-1]) || s[ix[0]-1] == '.') || ix[1] < len(s) && partOfWord(s[ix[1]]) {
				continue
			}
			if !cg.sections[strings.SplitN(key, ".", 2)[0]] {
				continue
			}
			c.report(r, "shows the raw message key %q (missing, or built at run time from a value with no message)", key)
		}
	}
	all := strings.Join(texts, "\n")
	lang := pageLanguage(doc)
	switch {
	case lang == "en":
		for _, p := range cg.zhOnly {
			if strings.Contains(all, p) {
				c.report(r, "is in English but shows the zh-TW phrase %q (an English message is missing)", p)
			}
		}
	case strings.HasPrefix(lang, "zh"):
		for _, p := range cg.enOnly {
			if strings.Contains(all, p) {
				c.report(r, "is in zh-TW but shows the English phrase %q", p)
			}
		}
	}
}

// report fails the test once per page and problem, however often the page is fetched.
func (c *Client) report(r *Response, format string, arg string) {
	c.t.Helper()
	key := r.URL.Path + "\x00" + format + arg
	if c.reported == nil {
		c.reported = map[string]bool{}
	}
	if c.reported[key] {
		return
	}
	c.reported[key] = true
	c.t.Errorf("%s "+format, r.URL.Path, arg)
}
