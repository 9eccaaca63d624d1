package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
)

// schemaSDL is the schema the GraphQL endpoint serves, as SDL: printed from
// the executable schema itself, so it always matches (partners generate
// their clients from it, also in production, where introspection is off).
// gqlgen's own directives (@goModel, @goField, ...) only steer the code
// generator: they are left out.
func schemaSDL(schema *ast.Schema) []byte {
	s := *schema
	s.Directives = map[string]*ast.DirectiveDefinition{}
	for name, d := range schema.Directives {
		if !isCodegenDirective(name) {
			s.Directives[name] = d
		}
	}
	s.Types = make(map[string]*ast.Definition, len(schema.Types))
	for name, def := range schema.Types {
		d := *def
		d.Directives = withoutCodegen(def.Directives)
		d.Fields = make(ast.FieldList, len(def.Fields))
		for i, f := range def.Fields {
			fc := *f
			fc.Directives = withoutCodegen(f.Directives)
			fc.Arguments = make(ast.ArgumentDefinitionList, len(f.Arguments))
			for j, a := range f.Arguments {
				ac := *a
				ac.Directives = withoutCodegen(a.Directives)
				fc.Arguments[j] = &ac
			}
			d.Fields[i] = &fc
		}
		d.EnumValues = make(ast.EnumValueList, len(def.EnumValues))
		for i, v := range def.EnumValues {
			vc := *v
			vc.Directives = withoutCodegen(v.Directives)
			d.EnumValues[i] = &vc
		}
		s.Types[name] = &d
	}
	var b bytes.Buffer
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatSchema(&s)
	// A blank line after each type, for the people who read it.
	return bytes.ReplaceAll(b.Bytes(), []byte("\n}\n"), []byte("\n}\n\n"))
}

// isCodegenDirective tells gqlgen's directives (goModel, goField, goTag,
// goExtraField, ...), which steer its code generator and mean nothing to a
// client.
func isCodegenDirective(name string) bool {
	return len(name) > 2 && strings.HasPrefix(name, "go") && name[2] >= 'A' && name[2] <= 'Z'
}

func withoutCodegen(l ast.DirectiveList) ast.DirectiveList {
	var out ast.DirectiveList
	for _, d := range l {
		if !isCodegenDirective(d.Name) {
			out = append(out, d)
		}
	}
	return out
}

// sdlHandler serves the schema's SDL at /schema.graphql, as text, with an
// ETag: a client revalidates it (If-None-Match) and gets 304 until the
// schema changes.
func sdlHandler(sdl []byte) http.HandlerFunc {
	sum := sha256.Sum256(sdl)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("ETag", etag)
		h.Set("Cache-Control", "public, no-cache")
		http.ServeContent(w, r, "schema.graphql", time.Time{}, bytes.NewReader(sdl))
	}
}
