//go:build tools

package concierge

// Pins the code generators in go.mod.
import (
	_ "entgo.io/contrib/entgql"
	_ "entgo.io/ent/cmd/ent"
	_ "github.com/99designs/gqlgen"
)
