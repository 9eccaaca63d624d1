// Package value holds the Go types stored in JSON columns of the schema.
package schematype

import "github.com/google/uuid"

// Citation points an answer at the passage it came from.
type Citation struct {
	ResourceID uuid.UUID `json:"resourceId"`
	Title      string    `json:"title"`
	URL        string    `json:"url,omitempty"`
	Page       int       `json:"page,omitempty"`
	Snippet    string    `json:"snippet"`
	Score      float64   `json:"score"`
}
