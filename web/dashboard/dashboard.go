// Package dashboard holds the web dashboard (React + TypeScript, built with
// Vite from this folder's sources) that the server embeds and serves at /.
//
// The build output, dist/app, is not committed: `make dashboard` (npm ci
// and npm run build, Node 20) makes it, and `make run`, `make build` and
// `make test` do that first. A binary built without it still starts, and
// serves a page that says how to build the dashboard.
package dashboard

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// FS returns the built dashboard (index.html, graphiql.html, assets/...),
// or nil when this binary was built without it.
func FS() fs.FS {
	sub, err := fs.Sub(dist, "dist/app")
	if err != nil {
		return nil
	}
	if _, err := fs.Stat(sub, "index.html"); err != nil {
		return nil
	}
	return sub
}
