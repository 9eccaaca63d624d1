// Package migrations embeds the versioned SQL migrations (goose format) for
// both supported databases. They are generated from ent/schema by
// `go run ./migrations/gen <name>` (make migration name=<name>); never edit a
// migration that has been released, and keep atlas.sum in sync (the
// generator rewrites it).
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed sqlite/*.sql sqlite/atlas.sum postgres/*.sql postgres/atlas.sum
var files embed.FS

// FS returns the migrations for an ent dialect name: "sqlite3" or "postgres".
func FS(dialect string) (fs.FS, error) {
	var dir string
	switch dialect {
	case "sqlite3", "sqlite":
		dir = "sqlite"
	case "postgres", "postgresql":
		dir = "postgres"
	default:
		return nil, fmt.Errorf("migrations: unsupported dialect %q", dialect)
	}
	return fs.Sub(files, dir)
}
