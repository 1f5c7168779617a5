// Package i18n translates console, email and LIFF strings; zh-TW is the default, English second.
package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.toml
var files embed.FS

// Default is the language used when nothing else is known.
const Default = "zh-TW"

// Languages are the supported locales in display order.
var Languages = []string{"zh-TW", "en"}

// Bundle holds every message in every language.
type Bundle struct {
	b    *goi18n.Bundle
	keys map[string][]string
	raw  map[string]map[string]string // lang → key → message source, templates unexpanded
}

// Load parses the embedded message files.
func Load() (*Bundle, error) {
	b := goi18n.NewBundle(language.MustParse(Default))
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	bundle := &Bundle{b: b, keys: map[string][]string{}, raw: map[string]map[string]string{}}
	// Each console area keeps its own file per language: locales/AREA.LANG.toml.
	paths, err := fs.Glob(files, "locales/*.toml")
	if err != nil {
		return nil, err
	}
	for _, path := range paths {
		name := strings.TrimSuffix(strings.TrimPrefix(path, "locales/"), ".toml")
		_, lang, ok := strings.Cut(name, ".")
		if !ok || !Supported(lang) {
			return nil, fmt.Errorf("%s: name must be AREA.LANG.toml with LANG one of %v", path, Languages)
		}
		data, err := fs.ReadFile(files, path)
		if err != nil {
			return nil, err
		}
		mf, err := b.ParseMessageFileBytes(data, path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if bundle.raw[lang] == nil {
			bundle.raw[lang] = map[string]string{}
		}
		for _, m := range mf.Messages {
			bundle.keys[lang] = append(bundle.keys[lang], m.ID)
			bundle.raw[lang][m.ID] = m.Other
		}
	}
	for _, lang := range Languages {
		sort.Strings(bundle.keys[lang])
		for i := 1; i < len(bundle.keys[lang]); i++ {
			if bundle.keys[lang][i] == bundle.keys[lang][i-1] {
				return nil, fmt.Errorf("message %q is defined twice for %s", bundle.keys[lang][i], lang)
			}
		}
	}
	return bundle, nil
}

// Keys lists the message ids of one language, sorted.
func (b *Bundle) Keys(lang string) []string { return b.keys[lang] }

// Source is a message as written in its file, {{.Args}} unexpanded; empty when lang lacks key.
func (b *Bundle) Source(lang, key string) string { return b.raw[lang][key] }

// Localizer translates into one language.
type Localizer struct {
	Lang string
	l    *goi18n.Localizer
}

// For returns a Localizer for lang, falling back to the default for unknown languages.
func (b *Bundle) For(lang string) *Localizer {
	if !Supported(lang) {
		lang = Default
	}
	return &Localizer{Lang: lang, l: goi18n.NewLocalizer(b.b, lang)}
}

// Supported reports whether lang is one of Languages.
func Supported(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// T translates key; args are name/value pairs for the template ({{.Name}}). A missing key
// renders as the key itself so it is visible, and the locale tests fail on it.
func (l *Localizer) T(key string, args ...any) string {
	var data map[string]any
	if len(args) > 0 {
		data = make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			data[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	s, err := l.l.Localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: data})
	if err != nil {
		return key
	}
	return s
}

// TMap translates key with a ready map of template data.
func (l *Localizer) TMap(key string, data map[string]any) string {
	s, err := l.l.Localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: data})
	if err != nil {
		return key
	}
	return s
}

// Match picks the best supported language from an Accept-Language header.
func Match(acceptLanguage string) string {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil {
		return Default
	}
	for _, t := range tags {
		base, _ := t.Base()
		switch {
		case base.String() == "zh":
			return "zh-TW"
		case base.String() == "en":
			return "en"
		}
	}
	return Default
}

// LanguageName is the language's own name, for the switcher.
func LanguageName(lang string) string {
	switch strings.ToLower(lang) {
	case "zh-tw":
		return "繁體中文"
	case "en":
		return "English"
	}
	return lang
}
