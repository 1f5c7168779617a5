package crypto

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const tokenValue = "EAABsbCS1iHgBAL0ngT0k3n"

func assertRedacted(t *testing.T, what, out string) {
	t.Helper()
	if strings.Contains(out, tokenValue) || strings.Contains(out, "EAAB") {
		t.Errorf("%s leaks the secret: %s", what, out)
	}
	if !strings.Contains(out, redacted) {
		t.Errorf("%s does not say %s: %s", what, redacted, out)
	}
}

func TestSecretIsRedactedInFmt(t *testing.T) {
	s := Secret(tokenValue)
	type channel struct {
		Name  string
		Token Secret
		Ptr   *Secret
	}
	c := channel{Name: "page", Token: s, Ptr: &s}
	for _, verb := range []string{"%s", "%v", "%+v", "%#v", "%q", "%x", "%X", "%d", "%10s", "%-20v"} {
		assertRedacted(t, "Sprintf("+verb+")", fmt.Sprintf(verb, s))
	}
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		assertRedacted(t, "struct "+verb, fmt.Sprintf(verb, c))
	}
	assertRedacted(t, "pointer", fmt.Sprintf("%v", &s))
	assertRedacted(t, "Sprint", fmt.Sprint(s))
	assertRedacted(t, "Sprintln", fmt.Sprintln("token", s))
	assertRedacted(t, "String", s.String())
	assertRedacted(t, "GoString", s.GoString())
	assertRedacted(t, "wrapped error", fmt.Errorf("refresh failed for %v: %w", s, errors.New("boom")).Error())
}

func TestSecretIsRedactedInEncoders(t *testing.T) {
	s := Secret(tokenValue)
	js, err := json.Marshal(map[string]any{"token": s, "list": []Secret{s}})
	if err != nil {
		t.Fatal(err)
	}
	assertRedacted(t, "json", string(js))
	type holder struct{ Token Secret }
	x, err := xml.Marshal(holder{s})
	if err != nil {
		t.Fatal(err)
	}
	assertRedacted(t, "xml", string(x))
}

func TestSecretIsRedactedInSlog(t *testing.T) {
	s := Secret(tokenValue)
	for name, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var buf bytes.Buffer
		log := slog.New(newHandler(&buf))
		log.Info("refreshing", "token", s, slog.Any("any", s), slog.Group("g", "nested", s))
		log.With("bound", s).Info("bound attr")
		log.Info("struct", "channel", struct{ Token Secret }{s})
		assertRedacted(t, name, buf.String())
	}
}

func TestSecretRevealAndStorage(t *testing.T) {
	s := Secret(tokenValue)
	if s.Reveal() != tokenValue {
		t.Errorf("Reveal = %q", s.Reveal())
	}
	if s.IsZero() || !Secret("").IsZero() {
		t.Error("IsZero is wrong")
	}
	var back struct{ Token Secret }
	if err := json.Unmarshal([]byte(`{"Token":"`+tokenValue+`"}`), &back); err != nil || back.Token.Reveal() != tokenValue {
		t.Errorf("decoding JSON into a Secret: %v %q", err, back.Token.Reveal())
	}
	v, err := s.Value()
	if !errors.Is(err, ErrPlaintextSecret) || v != nil {
		t.Errorf("Value() = %v, %v; want nil, ErrPlaintextSecret", v, err)
	}
}
