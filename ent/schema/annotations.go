package schema

import (
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
)

func entsqlCascade() schema.Annotation { return entsql.OnDelete(entsql.Cascade) }
