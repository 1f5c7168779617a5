package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// Args are the string arguments of a message key, kept in a jsonb column.
type Args map[string]string

// Value encodes the arguments; nil becomes {}.
func (a Args) Value() (driver.Value, error) {
	if a == nil {
		return "{}", nil
	}
	b, err := json.Marshal(map[string]string(a))
	return string(b), err
}

// Scan decodes the arguments.
func (a *Args) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*a = nil
		return nil
	case []byte:
		return json.Unmarshal(v, (*map[string]string)(a))
	case string:
		return json.Unmarshal([]byte(v), (*map[string]string)(a))
	}
	return fmt.Errorf("Args: cannot scan %T", src)
}

// Map returns the arguments as a template data map.
func (a Args) Map() map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	return out
}

// Note is a message about a result for the person who caused it: an i18n key and its arguments.
type Note struct {
	Key  string `json:"key"`
	Args Args   `json:"args,omitempty"`
}

// Notes is a JSON list of Note.
type Notes []Note

// Value encodes the list.
func (n Notes) Value() (driver.Value, error) {
	if n == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]Note(n))
	return string(b), err
}

// Scan decodes the list.
func (n *Notes) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n = nil
		return nil
	case []byte:
		return json.Unmarshal(v, (*[]Note)(n))
	case string:
		return json.Unmarshal([]byte(v), (*[]Note)(n))
	}
	return fmt.Errorf("Notes: cannot scan %T", src)
}
