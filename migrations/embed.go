// Package migrations holds the SQL migrations, embedded so the binary can migrate any database it is given.
package migrations

import "embed"

// FS contains every goose migration file.
//
//go:embed *.sql
var FS embed.FS
