// Package graph is the GraphQL layer: thin resolvers that parse input, call
// the domain packages and return ent objects. Access control is not here:
// ent's privacy rules apply to every query these resolvers run.
package graph

import (
	"github.com/99designs/gqlgen/graphql"

	"concierge/account"
	"concierge/assistant"
	"concierge/auth"
	"concierge/chat"
	"concierge/ent"
	"concierge/ingest"
	"concierge/realtime"
)

// Resolver holds the dependencies of every resolver.
type Resolver struct {
	Client   *ent.Client
	Auth     *auth.Service
	Accounts *account.Service
	Broker   realtime.Broker
	Ingest   *ingest.Service
	Chat     *chat.Service
	// Assistant answers from the knowledge (nil: no knowledge index is
	// configured); testQuestion asks it.
	Assistant *assistant.Assistant
}

// NewSchema returns the executable schema over r.
func NewSchema(r *Resolver) graphql.ExecutableSchema {
	return NewExecutableSchema(Config{Resolvers: r})
}
