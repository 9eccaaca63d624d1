// Package concierge is the root of the Concierge module. `go generate ./...`
// regenerates the ent client and ent.graphql (entc), then the GraphQL
// executor (gqlgen), in that order.
package concierge

//go:generate go run -mod=mod ./ent/entc.go
//go:generate go run -mod=mod github.com/99designs/gqlgen generate
