// Package liff renders the LIFF endpoint page that LINE opens after a card's link.
package liff

import (
	"strings"

	"github.com/omnilink/omnilink/static"
)

// VM is the LIFF page's configuration for its script.
type VM struct {
	LiffID string
	SDKURL string // the vendored @line/liff bundle, LINE's CDN or the sandbox stand-in
}

// NewVM builds the page's configuration; an SDK of our own is addressed by its version.
func NewVM(liffID, sdkURL string) VM {
	if name, ok := strings.CutPrefix(sdkURL, "/static/"); ok {
		sdkURL = static.URL(name)
	}
	return VM{LiffID: liffID, SDKURL: sdkURL}
}
