package ui

import (
	"encoding/json"
	"strings"

	sbview "github.com/omnilink/omnilink/views/sandbox"
)

// urlButtons finds the URL buttons in a sent message as each platform spells them: Messenger
// and Instagram {type:web_url,url,title}, LINE {type:uri,uri,label}, WhatsApp cta_url
// {display_text,url}.
func urlButtons(payload json.RawMessage) []sbview.LinkVM {
	if len(payload) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(payload, &v) != nil {
		return nil
	}
	var out []sbview.LinkVM
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			str := func(k string) string { s, _ := t[k].(string); return s }
			switch {
			case str("type") == "web_url" && str("url") != "":
				out = append(out, sbview.LinkVM{Label: str("title"), URL: str("url")})
			case str("type") == "uri" && str("uri") != "":
				out = append(out, sbview.LinkVM{Label: str("label"), URL: str("uri")})
			case str("display_text") != "" && str("url") != "":
				out = append(out, sbview.LinkVM{Label: str("display_text"), URL: str("url")})
			}
			for _, c := range t {
				walk(c)
			}
		case []any:
			for _, c := range t {
				walk(c)
			}
		}
	}
	walk(v)
	keep := out[:0]
	for _, l := range out {
		if strings.HasPrefix(l.URL, "https://") || strings.HasPrefix(l.URL, "http://") {
			keep = append(keep, l)
		}
	}
	return keep
}
