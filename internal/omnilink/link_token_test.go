package omnilink

import (
	"strings"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	raw, hash := newToken()
	got, ok := ParseToken(raw)
	if !ok || string(got) != string(hash) {
		t.Fatalf("ParseToken(%q) = %x, %v; want %x", raw, got, ok, hash)
	}
	for _, bad := range []string{"", raw[:21], raw + "A", raw[:21] + "=", strings.Repeat("+", 22), raw[:20] + "\x00\x00"} {
		if _, ok := ParseToken(bad); ok {
			t.Errorf("ParseToken(%q) accepted", bad)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	raw, _ := newToken()
	f.Add(raw)
	f.Add("")
	f.Add(strings.Repeat("A", 22))
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := ParseToken(s)
		if ok && (len(h) != 32 || len(s) != tokenLen) {
			t.Fatalf("accepted %q with hash %x", s, h)
		}
	})
}

func TestFindCode(t *testing.T) {
	code := newCode()
	for _, c := range []struct{ text, want string }{
		{"我要綁定\n" + code, code},
		{"綁定 " + strings.ToLower(code) + " 謝謝", code},
		{"OL-1234567", ""},
		{"XOL-ABCDEFGH", ""},
		{"nothing", ""},
	} {
		if got := FindCode(c.text); got != c.want {
			t.Errorf("FindCode(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func FuzzFindCode(f *testing.F) {
	f.Add("我要綁定 OL-ABCDEFGH")
	f.Add("OL-")
	f.Fuzz(func(t *testing.T, s string) {
		c := FindCode(s)
		if c != "" && (len(c) != len(CodePrefix)+8 || !strings.HasPrefix(c, CodePrefix) || strings.ToUpper(c) != c) {
			t.Fatalf("FindCode(%q) = %q", s, c)
		}
	})
}

func TestDetectDevice(t *testing.T) {
	for ua, want := range map[string]Device{
		"Mozilla/5.0 (Linux; Android 14) Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/242.0.0.43.119;]":   {DeviceMobile, OSAndroid, InAppFacebook},
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_0) Mobile/15E148 [FBAN/FBIOS;FBAV/467.0.0.37.108;]":  {DeviceMobile, OSiOS, InAppFacebook},
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_0) Mobile/15E148 Instagram 350.0.0.0.0 (iPhone15,2)": {DeviceMobile, OSiOS, InAppInsta},
		"Mozilla/5.0 (iPhone) Mobile/15E148 Safari Line/14.0.0":                                     {DeviceMobile, OSiOS, InAppLINE},
		"Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36":                                {DeviceDesktop, OSOther, ""},
	} {
		if got := DetectDevice(ua); got != want {
			t.Errorf("DetectDevice(%q) = %+v, want %+v", ua, got, want)
		}
	}
}
