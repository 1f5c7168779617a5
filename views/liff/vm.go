// Package liff renders the LIFF endpoint page that LINE opens after a card's link.
package liff

// VM is the LIFF page's configuration for its script.
type VM struct {
	LiffID string
	SDKURL string // the vendored @line/liff bundle, LINE's CDN or the sandbox stand-in
}
