package graph

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"concierge/ent/privacy"
	"concierge/fault"
	"concierge/viewer"
)

// The APIKeyScope enum of the schema and the scopes of package viewer are
// the same set, in both directions: every stored scope has an enum value and
// every enum value unmarshals to a stored scope.
func TestAPIKeyScopeEnumIsTheViewersScopes(t *testing.T) {
	enum := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema().Types["APIKeyScope"]
	if enum == nil {
		t.Fatal("the schema has no APIKeyScope")
	}
	var names []string
	for _, v := range enum.EnumValues {
		names = append(names, v.Name)
		var sc viewer.Scope
		if err := sc.UnmarshalGQL(v.Name); err != nil {
			t.Errorf("APIKeyScope %s: %v", v.Name, err)
		}
		if sc.Name() != v.Name {
			t.Errorf("APIKeyScope %s reads as %q, named %s", v.Name, sc, sc.Name())
		}
	}
	if len(names) != len(viewer.AllScopes) {
		t.Fatalf("APIKeyScope has %v, viewer.AllScopes %v", names, viewer.AllScopes)
	}
	for _, sc := range viewer.AllScopes {
		var back viewer.Scope
		if err := back.UnmarshalGQL(sc.Name()); err != nil || back != sc {
			t.Errorf("%q is named %s, which reads back as %q (%v)", sc, sc.Name(), back, err)
		}
	}
	var sc viewer.Scope
	if err := sc.UnmarshalGQL("knowledge:read"); err == nil {
		t.Error("the stored spelling is no enum value")
	}
}

// A privacy rule's denial for a missing scope names it; other denials stay
// as they were.
func TestMissingScopeIsNamed(t *testing.T) {
	ctx := viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.KindAPIKey, CompanyID: uuid.New(), Scopes: []viewer.Scope{viewer.ScopeKnowledgeRead}})
	denied := fmt.Errorf("ingest: adding a text: %w", privacy.Denyf("%w", &viewer.MissingScopeError{Scope: viewer.ScopeKnowledgeWrite}))
	e := ErrorPresenter(ctx, denied)
	if e.Message != "this API key lacks the scope KNOWLEDGE_WRITE" || e.Extensions["code"] != fault.CodeForbidden || e.Extensions["scope"] != "KNOWLEDGE_WRITE" {
		t.Fatalf("a missing scope is %q %v", e.Message, e.Extensions)
	}
	agent := viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.KindUser, CompanyID: uuid.New(), Role: viewer.RoleAgent})
	e = ErrorPresenter(agent, privacy.Denyf("not for agents"))
	if e.Message != "not allowed" || e.Extensions["code"] != fault.CodeForbidden || e.Extensions["scope"] != nil {
		t.Fatalf("another denial is %q %v", e.Message, e.Extensions)
	}
}
