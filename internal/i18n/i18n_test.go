package i18n_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/omnilink/omnilink/internal/i18n"
)

func TestEveryKeyInBothLanguages(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	sets := map[string]map[string]bool{}
	for _, lang := range i18n.Languages {
		sets[lang] = map[string]bool{}
		for _, k := range b.Keys(lang) {
			sets[lang][k] = true
		}
		if len(sets[lang]) == 0 {
			t.Fatalf("%s has no messages", lang)
		}
	}
	for _, a := range i18n.Languages {
		for _, o := range i18n.Languages {
			for k := range sets[a] {
				if !sets[o][k] {
					t.Errorf("key %q is in %s but missing in %s", k, a, o)
				}
			}
		}
	}
}

// keyUse finds literal message keys in code: T("x.y"), TMap("x.y", …), Key: "x.y", and the
// apperr constructors that take a key. A literal ending in "_" or "." is the prefix of a key
// built at run time ("role." + role) and is skipped.
var keyUse = regexp.MustCompile(`(?:\bT|TMap|Key:|Forbidden|Invalid\(\s*"[a-z_]+",|Conflict\(\s*"[a-z_]+",)\s*\(?\s*"([a-z_]+\.[a-z0-9_.]*[a-z0-9])"`)

// keyLiteral is any string literal shaped like a message key; those whose first segment is a
// section of the catalogue (constants such as CodeDenied = "channels.outcome_denied") must exist,
// except static file names (static.URL("campaigns.css")).
var keyLiteral = regexp.MustCompile(`"([a-z_]+)\.([a-z][a-z0-9_]*[a-z0-9])"`)

func TestKeysUsedInCodeExist(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	sections := map[string]bool{}
	for _, k := range b.Keys(i18n.Default) {
		known[k] = true
		sections[strings.SplitN(k, ".", 2)[0]] = true
	}
	root := filepath.Join("..", "..")
	found := 0
	err = filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() && path != root && (info.Name() == "vendor" || info.Name() == "node_modules" || info.Name() == "var" || strings.HasPrefix(info.Name(), ".")) {
			return filepath.SkipDir
		}
		if !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".templ")) || strings.HasSuffix(path, "_templ.go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range keyUse.FindAllStringSubmatch(string(src), -1) {
			found++
			if !known[m[1]] {
				t.Errorf("%s uses message key %q that is not defined", path, m[1])
			}
		}
		for _, ix := range keyLiteral.FindAllStringSubmatchIndex(string(src), -1) {
			if strings.HasSuffix(string(src[:ix[0]]), "static.URL(") {
				continue // a file name, such as "campaigns.css"
			}
			sec, name := string(src[ix[2]:ix[3]]), string(src[ix[4]:ix[5]])
			if key := sec + "." + name; sections[sec] && !known[key] {
				t.Errorf("%s names message key %q that is not defined", path, key)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 20 {
		t.Fatalf("found only %d key uses; the scanner is broken", found)
	}
}

func TestFallbacks(t *testing.T) {
	b, _ := i18n.Load()
	if got := b.For("fr").T("login.submit"); got != "登入" {
		t.Fatalf("unknown language should fall back to zh-TW, got %q", got)
	}
	if got := b.For("en").T("password.joined_flash", "Name", "Amy"); got != "Welcome, Amy! You are signed in." {
		t.Fatalf("template args: %q", got)
	}
	if got := b.For("en").T("no.such_key"); got != "no.such_key" {
		t.Fatalf("missing key should render as itself, got %q", got)
	}
	for in, want := range map[string]string{"en-US,en;q=0.9": "en", "zh-HK,zh;q=0.8": "zh-TW", "ja": "zh-TW", "": "zh-TW", "garbage;;": "zh-TW"} {
		if got := i18n.Match(in); got != want {
			t.Errorf("Match(%q) = %q, want %q", in, got, want)
		}
	}
}
