package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// JSONMap is a small JSON object kept in a jsonb column.
type JSONMap map[string]any

// Value encodes the map; nil becomes {}.
func (m JSONMap) Value() (driver.Value, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(map[string]any(m))
	return string(b), err
}

// Scan decodes a JSON object.
func (m *JSONMap) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*m = nil
		return nil
	case []byte:
		return json.Unmarshal(v, (*map[string]any)(m))
	case string:
		return json.Unmarshal([]byte(v), (*map[string]any)(m))
	}
	return fmt.Errorf("JSONMap: cannot scan %T", src)
}
