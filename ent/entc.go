//go:build ignore

// entc.go generates the ent client and the GraphQL schema (ent.graphql) from
// ent/schema. Run it through `go generate ./...` from the repository root.
package main

import (
	"fmt"
	"log"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithSchemaGenerator(),
		entgql.WithWhereInputs(true),
		entgql.WithConfigPath("./gqlgen.yml"),
		entgql.WithSchemaPath("./ent.graphql"),
		entgql.WithRelaySpec(true),
		entgql.WithSchemaHook(messagesInOrder),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Target:  "./ent",
		Package: "concierge/ent",
		Features: []gen.Feature{
			gen.FeaturePrivacy,
			gen.FeatureEntQL,
			gen.FeatureVersionedMigration,
			gen.FeatureUpsert,
			gen.FeatureExecQuery,
			gen.FeatureLock,
			gen.FeatureIntercept,
		},
	}, entc.Extensions(ex))
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}

// messagesInOrder makes a conversation's messages come in conversation
// order (by seq) when the client gives no orderBy: entgql's default, by id,
// is no order at all with random ids.
func messagesInOrder(_ *gen.Graph, s *ast.Schema) error {
	t := s.Types["Conversation"]
	if t == nil || t.Fields.ForName("messages") == nil {
		return fmt.Errorf("messagesInOrder: no Conversation.messages in the schema")
	}
	arg := t.Fields.ForName("messages").Arguments.ForName("orderBy")
	if arg == nil {
		return fmt.Errorf("messagesInOrder: Conversation.messages has no orderBy")
	}
	arg.DefaultValue = &ast.Value{Kind: ast.ObjectValue, Children: ast.ChildValueList{
		{Name: "field", Value: &ast.Value{Kind: ast.EnumValue, Raw: "SEQ"}},
		{Name: "direction", Value: &ast.Value{Kind: ast.EnumValue, Raw: "ASC"}},
	}}
	return nil
}
