package omnilink

import "strings"

// Device is what a click's User-Agent says about where the customer tapped the card.
type Device struct {
	Kind  string // mobile or desktop
	OS    string // ios, android or other
	InApp string // facebook, instagram, line or "" (a normal browser)
}

// Device kinds, systems and in-app browsers.
const (
	DeviceMobile  = "mobile"
	DeviceDesktop = "desktop"
	OSiOS         = "ios"
	OSAndroid     = "android"
	OSOther       = "other"
	InAppFacebook = "facebook"
	InAppInsta    = "instagram"
	InAppLINE     = "line"
)

// DetectDevice reads a User-Agent by the markers the platforms' in-app browsers send.
func DetectDevice(ua string) Device {
	d := Device{Kind: DeviceDesktop, OS: OSOther}
	switch {
	case strings.Contains(ua, "Android"):
		d.OS, d.Kind = OSAndroid, DeviceMobile
	case strings.Contains(ua, "iPhone"), strings.Contains(ua, "iPad"), strings.Contains(ua, "iPod"):
		d.OS, d.Kind = OSiOS, DeviceMobile
	case strings.Contains(ua, "Mobile"):
		d.Kind = DeviceMobile
	}
	switch {
	case strings.Contains(ua, "Instagram"):
		d.InApp = InAppInsta
	case strings.Contains(ua, "FBAN/"), strings.Contains(ua, "FBAV/"), strings.Contains(ua, "FB_IAB"), strings.Contains(ua, "FB4A"), strings.Contains(ua, "FBIOS"):
		d.InApp = InAppFacebook
	case strings.Contains(ua, " Line/"):
		d.InApp = InAppLINE
	}
	return d
}
