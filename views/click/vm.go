// Package click renders the pages a customer sees after tapping an OmniLink card's button.
package click

import (
	"github.com/omnilink/omnilink/views/layout"
)

// VM is what the click page shows. It never names whose link it is.
type VM struct {
	Kind      string // redirect, fb_android, ios_in_app, desktop, not_exist, expired, used
	Target    string // LINE or WhatsApp, for the texts
	NextURL   string
	LinkURL   string
	IntentURL string
	QRDataURI string // a PNG data URI of LinkURL
	IsWA      bool
	// SandboxNext, in sandbox mode only, lets a desktop browser play the phone: the sandbox's
	// LINE app and WhatsApp stand in for the apps the QR code would open.
	SandboxNext string
}

// Target names a target platform for the customer.
func Target(platform string) string {
	if platform == "whatsapp" {
		return "WhatsApp"
	}
	return "LINE"
}

// PageFor is the page context for the public pages.
type PageFor = layout.Page
