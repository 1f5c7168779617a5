package jsontree

import (
	"encoding/json"
	"strings"
	"testing"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestWrongTypesReadAsEmpty(t *testing.T) {
	v := decode(t, `{"a":{"id":12345678901234567890,"n":"42","f":1.9,"big":1e300,"t":true,"s":"true","x":[1,2],"o":{"k":"v"}},"str":"plain"}`)
	if got := Str(v, "a", "id"); got != "12345678901234567890" {
		t.Errorf("long id lost digits: %q", got)
	}
	if Int(v, "a", "n") != 42 || Int(v, "a", "f") != 1 || Int(v, "a", "big") != 0 || Int(v, "a", "o") != 0 {
		t.Error("Int")
	}
	if !Bool(v, "a", "t") || !Bool(v, "a", "s") || Bool(v, "a", "n") {
		t.Error("Bool")
	}
	if len(List(v, "a", "x")) != 2 || List(v, "a", "o") != nil || Object(v, "a", "o")["k"] != "v" || Object(v, "str") != nil {
		t.Error("List/Object")
	}
	if Field(v, "str", "deeper") != nil || Str(v, "missing", "path") != "" || Str(v, "a", "x") != "" {
		t.Error("paths through non-objects must read as empty")
	}
}
