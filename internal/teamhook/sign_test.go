package teamhook

import (
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	secret, body := []byte("0123456789abcdef"), []byte(`{"type":"customer.merged"}`)
	now := time.Unix(1_800_000_000, 0)
	h := Sign(secret, body, now)
	if !Verify(secret, body, h, now.Add(time.Minute), 5*time.Minute) {
		t.Fatal("own signature refused")
	}
	for name, ok := range map[string]bool{
		"tampered body": Verify(secret, []byte(`{"type":"customer.merged "}`), h, now, 5*time.Minute),
		"other secret":  Verify([]byte("fedcba9876543210"), body, h, now, 5*time.Minute),
		"replayed late": Verify(secret, body, h, now.Add(10*time.Minute), 5*time.Minute),
		"garbage":       Verify(secret, body, "t=x,v1=", now, 5*time.Minute),
	} {
		if ok {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestInternalAddressesRefusedOutsideTheSandbox(t *testing.T) {
	s := &Service{}
	for _, addr := range []string{"127.0.0.1:443", "10.0.0.8:443", "[::1]:443", "169.254.169.254:80", "192.168.1.1:443"} {
		if s.checkAddress("tcp", addr, nil) == nil {
			t.Errorf("%s allowed", addr)
		}
	}
	if err := s.checkAddress("tcp", "203.0.113.9:443", nil); err != nil {
		t.Errorf("public address refused: %v", err)
	}
	s.allowPrivate = true
	if s.checkAddress("tcp", "127.0.0.1:443", nil) != nil {
		t.Error("sandbox cannot reach its own receiver")
	}
}
