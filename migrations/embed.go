// Package migrations holds the database schema as plain, versioned SQL files
// embedded in the binary. Files are applied in name order, each exactly once.
package migrations

import "embed"

// FS holds every migration file, named NNNN_description.sql.
//
//go:embed *.sql
var FS embed.FS
