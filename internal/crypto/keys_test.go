package crypto

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// testMaster has bytes that make '+', '/', '-' and '_' appear in its base64
// forms, so each alphabet is really exercised.
func testMaster() []byte {
	k := make([]byte, MasterKeySize)
	for i := range k {
		k[i] = byte(0xf8 + i%8)
	}
	return k
}

func TestParseMasterKeyAcceptsEveryBase64Form(t *testing.T) {
	master := testMaster()
	forms := map[string]string{
		"std":        base64.StdEncoding.EncodeToString(master),
		"std raw":    base64.RawStdEncoding.EncodeToString(master),
		"url":        base64.URLEncoding.EncodeToString(master),
		"url raw":    base64.RawURLEncoding.EncodeToString(master),
		"whitespace": "  " + base64.StdEncoding.EncodeToString(master) + "\n",
	}
	if !strings.ContainsAny(forms["std"], "+/") || !strings.ContainsAny(forms["url"], "-_") {
		t.Fatalf("test key does not exercise both alphabets: %s %s", forms["std"], forms["url"])
	}
	for name, s := range forms {
		got, err := ParseMasterKey(s)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got, master) {
			t.Errorf("%s: decoded %x, want %x", name, got, master)
		}
	}
}

func TestParseMasterKeyRejectsBadKeys(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"empty", "", "empty"},
		{"blank", "   ", "empty"},
		{"not base64", "this is not base64 at all!", "not valid base64"},
		{"too short", base64.StdEncoding.EncodeToString(make([]byte, 16)), "decodes to 16 bytes, want 32"},
		{"too long", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 48)), "decodes to 48 bytes, want 32"},
		{"all zero", base64.StdEncoding.EncodeToString(make([]byte, 32)), "all zero"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key, err := ParseMasterKey(c.in)
			if err == nil {
				t.Fatalf("accepted %q as %x", c.in, key)
			}
			if !errors.Is(err, ErrBadMasterKey) {
				t.Errorf("error %v does not wrap ErrBadMasterKey", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
			if strings.TrimSpace(c.in) != "" && strings.Contains(err.Error(), strings.TrimSpace(c.in)) {
				t.Errorf("error %q echoes the key", err)
			}
		})
	}
}

// hkdfReference is RFC 5869 written out with HMAC, independent of crypto/hkdf.
func hkdfReference(ikm []byte, info string, n int) []byte {
	extract := hmac.New(sha256.New, make([]byte, sha256.Size)) // absent salt = HashLen zeros
	extract.Write(ikm)
	prk := extract.Sum(nil)
	var out, prev []byte
	for i := byte(1); len(out) < n; i++ {
		m := hmac.New(sha256.New, prk)
		m.Write(prev)
		m.Write([]byte(info))
		m.Write([]byte{i})
		prev = m.Sum(nil)
		out = append(out, prev...)
	}
	return out[:n]
}

func TestDeriveKeyIsHKDFSHA256WithPurposeAsInfo(t *testing.T) {
	master := testMaster()
	for _, n := range []int{16, 32, 64, 100} {
		got := DeriveKey(master, PurposeTokens, n)
		if want := hkdfReference(master, PurposeTokens, n); !bytes.Equal(got, want) {
			t.Errorf("n=%d: got %x, want %x", n, got, want)
		}
	}
}

func TestDeriveKeySeparatesPurposesAndMasters(t *testing.T) {
	master := testMaster()
	other := bytes.Clone(master)
	other[0] ^= 1
	a := DeriveKey(master, PurposeSessionHash, 32)
	if !bytes.Equal(a, DeriveKey(master, PurposeSessionHash, 32)) {
		t.Error("same inputs gave different keys")
	}
	if bytes.Equal(a, DeriveKey(master, PurposeCSRF, 32)) {
		t.Error("different purposes gave the same key")
	}
	if bytes.Equal(a, DeriveKey(other, PurposeSessionHash, 32)) {
		t.Error("different masters gave the same key")
	}
}

func TestDeriveKeyPanicsOnMisuse(t *testing.T) {
	for name, call := range map[string]func(){
		"empty purpose": func() { DeriveKey(testMaster(), "", 32) },
		"zero length":   func() { DeriveKey(testMaster(), PurposeCSRF, 0) },
		"too long":      func() { DeriveKey(testMaster(), PurposeCSRF, 255*32+1) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("did not panic")
				}
			}()
			call()
		})
	}
}

func TestNewKeys(t *testing.T) {
	master := testMaster()
	k, err := NewKeys(master)
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string][]byte{"SessionHash": k.SessionHash, "SessionBlock": k.SessionBlock, "CSRF": k.CSRF, "Tokens": k.Tokens}
	want := map[string]int{"SessionHash": 64, "SessionBlock": 32, "CSRF": 32, "Tokens": 32}
	seen := map[string]string{}
	for name, key := range sizes {
		if len(key) != want[name] {
			t.Errorf("%s is %d bytes, want %d", name, len(key), want[name])
		}
		prefix := string(key[:32])
		if prev, dup := seen[prefix]; dup {
			t.Errorf("%s equals %s", name, prev)
		}
		seen[prefix] = name
		if bytes.Equal(key[:32], master) {
			t.Errorf("%s is the master key itself", name)
		}
	}
	if !bytes.Equal(k.Tokens, DeriveKey(master, PurposeTokens, 32)) {
		t.Error("Tokens is not DeriveKey(master, PurposeTokens, 32)")
	}
	if _, err := NewKeys(master[:16]); !errors.Is(err, ErrBadMasterKey) {
		t.Errorf("short master: got %v, want ErrBadMasterKey", err)
	}
}

func TestKeysAreRedacted(t *testing.T) {
	k, err := NewKeys(testMaster())
	if err != nil {
		t.Fatal(err)
	}
	wrapped := struct{ Keys Keys }{k}
	js, err := json.Marshal(wrapped)
	if err != nil {
		t.Fatal(err)
	}
	outputs := []string{
		fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %x %s", k, k, k, k, k),
		fmt.Sprintf("%+v %#v", wrapped, wrapped), string(js),
	}
	for _, out := range outputs {
		if !strings.Contains(out, redacted) {
			t.Errorf("output %q is not redacted", out)
		}
		for _, key := range [][]byte{k.SessionHash, k.SessionBlock, k.CSRF, k.Tokens} {
			for _, leak := range []string{fmt.Sprintf("%x", key[:8]), fmt.Sprint(key[:4])[1:8]} {
				if strings.Contains(out, leak) {
					t.Errorf("output %q leaks key bytes %q", out, leak)
				}
			}
		}
	}
}
