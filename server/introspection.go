package server

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"concierge/fault"
)

// introspectionOff refuses, in production, an operation that asks for the
// schema (__schema or __type): with a clear error and FORBIDDEN, before
// anything runs, rather than the executor's bare "introspection disabled"
// on the field. Partners' codegen reads the SDL at /schema.graphql.
// __typename is not introspection of the schema and stays allowed.
type introspectionOff struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = introspectionOff{}

func (introspectionOff) ExtensionName() string { return "IntrospectionOff" }

func (introspectionOff) Validate(graphql.ExecutableSchema) error { return nil }

func (introspectionOff) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || !asksForSchema(oc.Doc, oc.Operation.SelectionSet, map[string]bool{}) {
		return nil
	}
	return &gqlerror.Error{
		Message:    "introspection is off on this server; the schema is published at /schema.graphql",
		Extensions: map[string]any{"code": fault.CodeForbidden},
	}
}

// asksForSchema reports whether set selects __schema or __type at its
// root, through fragments too (each entered once).
func asksForSchema(doc *ast.QueryDocument, set ast.SelectionSet, seen map[string]bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if asksForSchema(doc, s.SelectionSet, seen) {
				return true
			}
		case *ast.FragmentSpread:
			def := doc.Fragments.ForName(s.Name)
			if def == nil || seen[s.Name] {
				continue
			}
			seen[s.Name] = true
			if asksForSchema(doc, def.SelectionSet, seen) {
				return true
			}
		}
	}
	return false
}
