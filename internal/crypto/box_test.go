package crypto

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func mustBox(t testing.TB, current []byte, older ...[]byte) *Box {
	t.Helper()
	b, err := NewBox(current, older...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKeyIDIsStableAndDerivedFromTheKey(t *testing.T) {
	a, b := KeyID(testKey(1)), KeyID(testKey(2))
	if len(a) != 8 || !isLowerHex(a) {
		t.Fatalf("KeyID = %q, want 8 lowercase hex characters", a)
	}
	if a != KeyID(testKey(1)) {
		t.Error("KeyID is not deterministic")
	}
	if a == b {
		t.Error("different keys share a key id")
	}
	if got := mustBox(t, testKey(1)).KeyID(); got != a {
		t.Errorf("Box.KeyID = %q, want %q", got, a)
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	box := mustBox(t, testKey(1))
	aad := []byte("channel:42:access_token")
	for _, pt := range [][]byte{[]byte("EAAB-page-token"), {}, bytes.Repeat([]byte("長"), 4000)} {
		v := box.Seal(pt, aad)
		if prefix := "v1:" + KeyID(testKey(1)) + ":"; !strings.HasPrefix(v, prefix) {
			t.Fatalf("sealed value %q does not start with %q", v, prefix)
		}
		if len(pt) > 4 && strings.Contains(v, string(pt)) {
			t.Fatalf("sealed value contains the plaintext")
		}
		got, err := box.Open(v, aad)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, pt) {
			t.Fatalf("Open = %q, want %q", got, pt)
		}
	}
}

func TestSealUsesAFreshNonce(t *testing.T) {
	box := mustBox(t, testKey(1))
	a, b := box.Seal([]byte("same"), nil), box.Seal([]byte("same"), nil)
	if a == b {
		t.Fatalf("two seals of the same plaintext are identical: %s", a)
	}
}

func TestOpenRejectsEveryTamperedCharacter(t *testing.T) {
	box := mustBox(t, testKey(1))
	aad := []byte("channel:42:access_token")
	v := box.Seal([]byte("EAAB-page-token"), aad)
	for i := range len(v) {
		for _, repl := range []byte{'A', 'z', '0', '-', ':'} {
			if v[i] == repl {
				continue
			}
			tampered := v[:i] + string(repl) + v[i+1:]
			if got, err := box.Open(tampered, aad); err == nil {
				t.Fatalf("Open accepted %q (char %d → %q) as %q", tampered, i, repl, got)
			}
		}
	}
	// Truncation and extension are tampering too.
	for _, bad := range []string{v[:len(v)-1], v + "A", v[:len(v)-4]} {
		if _, err := box.Open(bad, aad); err == nil {
			t.Errorf("Open accepted %q", bad)
		}
	}
}

func TestOpenRejectsEveryTamperedCiphertextByte(t *testing.T) {
	box := mustBox(t, testKey(1))
	aad := []byte("channel:42:access_token")
	v := box.Seal([]byte("EAAB-page-token"), aad)
	head := v[:strings.LastIndex(v, ":")+1]
	ct, err := sealEncoding().DecodeString(v[len(head):])
	if err != nil {
		t.Fatal(err)
	}
	for i := range ct {
		for _, flip := range []byte{0x01, 0x80, 0xff} {
			c := bytes.Clone(ct)
			c[i] ^= flip
			_, err := box.Open(head+sealEncoding().EncodeToString(c), aad)
			if !errors.Is(err, ErrDecrypt) {
				t.Fatalf("byte %d ^ %#x: got %v, want ErrDecrypt", i, flip, err)
			}
		}
	}
}

func TestOpenRejectsWrongAAD(t *testing.T) {
	box := mustBox(t, testKey(1))
	v := box.Seal([]byte("EAAB-page-token"), []byte("channel:42:access_token"))
	for _, aad := range []string{"channel:43:access_token", "channel:42:app_secret", "", "channel:42:access_token "} {
		_, err := box.Open(v, []byte(aad))
		if !errors.Is(err, ErrDecrypt) {
			t.Errorf("aad %q: got %v, want ErrDecrypt", aad, err)
		}
		if err != nil && !strings.Contains(err.Error(), "different record") {
			t.Errorf("error %q does not mention the record mismatch", err)
		}
	}
}

func TestRotation(t *testing.T) {
	oldKey, newKey := testKey(1), testKey(2)
	aad := []byte("meta_authorization:7:user_token")
	oldBox := mustBox(t, oldKey)
	sealedOld := oldBox.Seal([]byte("long-lived-token"), aad)

	rotated := mustBox(t, newKey, oldKey)
	if !rotated.NeedsRotation(sealedOld) {
		t.Error("NeedsRotation = false for a value sealed with the older key")
	}
	pt, err := rotated.Open(sealedOld, aad)
	if err != nil {
		t.Fatalf("opening an old value with the old key as secondary: %v", err)
	}
	if string(pt) != "long-lived-token" {
		t.Fatalf("Open = %q", pt)
	}

	resealed := rotated.Seal(pt, aad)
	if rotated.NeedsRotation(resealed) {
		t.Error("NeedsRotation = true for a value sealed with the current key")
	}
	if !strings.HasPrefix(resealed, "v1:"+KeyID(newKey)+":") {
		t.Errorf("resealed value %q is not under the new key id", resealed)
	}
	if _, err := oldBox.Open(resealed, aad); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old box opening a new value: got %v, want ErrUnknownKey", err)
	}

	// Once the old key is retired, old values fail with a clear error naming the key id.
	retired := mustBox(t, newKey)
	_, err = retired.Open(sealedOld, aad)
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("got %v, want ErrUnknownKey", err)
	}
	if !strings.Contains(err.Error(), KeyID(oldKey)) {
		t.Errorf("error %q does not name key id %s", err, KeyID(oldKey))
	}
}

func TestOpenRejectsSwappedKeyID(t *testing.T) {
	k1, k2 := testKey(1), testKey(2)
	box := mustBox(t, k1, k2)
	v := box.Seal([]byte("secret"), nil)
	swapped := strings.Replace(v, KeyID(k1), KeyID(k2), 1)
	if _, err := box.Open(swapped, nil); !errors.Is(err, ErrDecrypt) {
		t.Errorf("got %v, want ErrDecrypt", err)
	}
}

func TestOpenRejectsMalformedValues(t *testing.T) {
	box := mustBox(t, testKey(1))
	kid := KeyID(testKey(1))
	for _, v := range []string{
		"", "plaintext-token", "v1", "v1:", "v1:" + kid, "v1:" + kid + ":",
		"v2:" + kid + ":AAAA", "V1:" + kid + ":AAAA", "v1:ABCDEF01:AAAA", "v1:123:AAAA",
		"v1:" + kid + ":not base64!", "v1:" + kid + ":AAAA====",
	} {
		_, err := box.Open(v, nil)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("Open(%q): got %v, want ErrMalformed", v, err)
		}
		if !box.NeedsRotation(v) {
			t.Errorf("NeedsRotation(%q) = false for a value Seal would not produce", v)
		}
	}
	// A well-formed value too short to hold a nonce and tag must fail, not panic.
	if _, err := box.Open("v1:"+kid+":AAAA", nil); !errors.Is(err, ErrDecrypt) {
		t.Errorf("short ciphertext: got %v, want ErrDecrypt", err)
	}
}

func TestNewBoxValidatesKeys(t *testing.T) {
	if _, err := NewBox(testKey(1)[:16]); !errors.Is(err, ErrBadKey) {
		t.Errorf("16-byte key: got %v, want ErrBadKey", err)
	}
	if _, err := NewBox(testKey(1), testKey(2)[:31]); !errors.Is(err, ErrBadKey) {
		t.Errorf("short older key: got %v, want ErrBadKey", err)
	}
	if _, err := NewBox(nil); !errors.Is(err, ErrBadKey) {
		t.Errorf("nil key: got %v, want ErrBadKey", err)
	}
	box, err := NewBox(testKey(1), testKey(1))
	if err != nil {
		t.Fatalf("listing the current key twice: %v", err)
	}
	if box.KeyID() != KeyID(testKey(1)) {
		t.Error("duplicate key changed the current key")
	}
}

func TestBoxPrintsNoKeyMaterial(t *testing.T) {
	key := testKey(0xab)
	box := mustBox(t, key)
	for _, out := range []string{fmt.Sprint(box), fmt.Sprintf("%+v", box), fmt.Sprintf("%v", *box), fmt.Sprintf("%#v %#v", box, *box)} {
		if strings.Contains(out, "abab") || strings.Contains(out, "171 171") {
			t.Errorf("printing the box leaks the key: %s", out)
		}
		if !strings.Contains(out, box.KeyID()) {
			t.Errorf("printed box %q does not name its key id", out)
		}
	}
}

func FuzzOpen(f *testing.F) {
	box := mustBox(f, testKey(1), testKey(2))
	older := mustBox(f, testKey(2))
	// Fuzz workers run this setup again and get other nonces, so expected
	// plaintexts are keyed by aad (deterministic) rather than by sealed value.
	plaintextFor := map[string]string{
		"channel:42:access_token": "EAAB-page-token",
		"":                        "",
		"channel:1:app_secret":    "長い秘密",
	}
	for aad, pt := range plaintextFor {
		for _, b := range []*Box{box, older} {
			f.Add(b.Seal([]byte(pt), []byte(aad)), aad)
		}
	}
	f.Add("v1:00000000:", "")
	f.Add("v1:"+KeyID(testKey(1))+":AAAA", "x")
	f.Add(":::", "")
	f.Fuzz(func(t *testing.T, value, aad string) {
		pt, err := box.Open(value, []byte(aad))
		box.NeedsRotation(value)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrDecrypt) {
				t.Fatalf("Open(%q) returned an unclassified error: %v", value, err)
			}
			return
		}
		// Forging GCM is infeasible, so only what Seal produced for this aad can open.
		want, ok := plaintextFor[aad]
		if !ok {
			t.Fatalf("Open accepted %q under aad %q that nothing was sealed with → %q", value, aad, pt)
		}
		if string(pt) != want {
			t.Fatalf("Open(%q) = %q, want %q", value, pt, want)
		}
		if box.Seal(pt, []byte(aad)) == value {
			t.Fatal("Seal repeated a nonce")
		}
	})
}
