package weaviate

import (
	"context"
	"fmt"

	"github.com/weaviate/weaviate/entities/models"
)

// hnswEF is the HNSW search list size: Weaviate's default (-1) makes it
// 8 times the limit, at least 100, for the vector half of every hybrid
// query; a fixed, smaller list costs much less with little loss of recall
// for the few dozen candidates we take (it is raised to the limit anyway).
const hnswEF = 64

// Property names.
const (
	pText       = "text"
	pTitle      = "title"
	pHeading    = "heading"
	pURL        = "url"
	pPage       = "page"
	pResourceID = "resourceId"
	pChunkID    = "chunkId"
	pOrdinal    = "ordinal"
	pGeneration = "generation"
	pTextStem   = "textStem"
	pTitleStem  = "titleStem"

	pKind      = "kind"
	pEmbedder  = "embedder"
	pDimension = "dimension"

	kindInfo     = "info"
	kindResource = "resource"
)

func prop(name, dataType, tokenization string, filterable, searchable bool) *models.Property {
	return &models.Property{
		Name: name, DataType: []string{dataType}, Tokenization: tokenization,
		IndexFilterable: &filterable, IndexSearchable: &searchable,
	}
}

func (s *Store) passageClass() *models.Class {
	no := false
	return &models.Class{
		Class:              s.class,
		Description:        "Concierge passages: one tenant per company (see concierge/retrieval/weaviate)",
		Vectorizer:         "none",
		VectorIndexType:    "hnsw",
		VectorIndexConfig:  map[string]any{"distance": "cosine", "ef": hnswEF},
		MultiTenancyConfig: &models.MultiTenancyConfig{Enabled: true, AutoTenantCreation: false, AutoTenantActivation: true},
		InvertedIndexConfig: &models.InvertedIndexConfig{
			Bm25:      &models.BM25Config{B: 0.75, K1: 1.2},
			Stopwords: &models.StopwordConfig{Preset: "en"},
		},
		Properties: []*models.Property{
			prop(pText, "text", "", false, false),
			prop(pTitle, "text", "", false, false),
			prop(pHeading, "text", "", false, false),
			prop(pURL, "text", "", false, false),
			{Name: pPage, DataType: []string{"int"}, IndexFilterable: &no, IndexRangeFilters: &no},
			{Name: pOrdinal, DataType: []string{"int"}, IndexFilterable: &no, IndexRangeFilters: &no},
			prop(pChunkID, "text", "field", false, false),
			prop(pResourceID, "text", "field", true, false),
			prop(pGeneration, "text", "field", true, false),
			prop(pTextStem, "text", "whitespace", false, true),
			prop(pTitleStem, "text", "whitespace", false, true),
		},
	}
}

func (s *Store) indexClass() *models.Class {
	no := false
	return &models.Class{
		Class:              s.infoClass,
		Description:        "Concierge index records (embedder, current generation per resource), same tenants as " + s.class,
		Vectorizer:         "none",
		VectorIndexConfig:  map[string]any{"skip": true},
		MultiTenancyConfig: &models.MultiTenancyConfig{Enabled: true, AutoTenantCreation: false, AutoTenantActivation: true},
		Properties: []*models.Property{
			prop(pKind, "text", "field", true, false),
			prop(pResourceID, "text", "field", true, false),
			prop(pGeneration, "text", "field", false, false),
			prop(pEmbedder, "text", "field", false, false),
			{Name: pDimension, DataType: []string{"int"}, IndexFilterable: &no, IndexRangeFilters: &no},
		},
	}
}

// ensureSchema creates both collections if they do not exist yet.
func (s *Store) ensureSchema(ctx context.Context) error {
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	if s.schemaOK {
		return nil
	}
	for _, c := range []*models.Class{s.passageClass(), s.indexClass()} {
		cctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
		err := s.ensureClass(cctx, c)
		cancel()
		if err != nil {
			return s.wrap(ctx, "create collection "+c.Class, err)
		}
	}
	s.schemaOK = true
	return nil
}

func (s *Store) ensureClass(ctx context.Context, c *models.Class) error {
	exists, err := s.client.Schema().ClassExistenceChecker().WithClassName(c.Class).Do(ctx)
	if err != nil {
		return err
	}
	if !exists {
		err = s.client.Schema().ClassCreator().WithClass(c).Do(ctx)
		if err == nil {
			return nil
		}
		// Another replica may have created it meanwhile.
		if exists, err2 := s.client.Schema().ClassExistenceChecker().WithClassName(c.Class).Do(ctx); err2 != nil || !exists {
			return err
		}
	}
	got, err := s.client.Schema().ClassGetter().WithClassName(c.Class).Do(ctx)
	if err != nil {
		return err
	}
	if got.MultiTenancyConfig == nil || !got.MultiTenancyConfig.Enabled {
		return fmt.Errorf("collection %s exists without multi-tenancy; drop it or choose another class", c.Class)
	}
	// The search-time ef is mutable: bring a collection created before it
	// was set up to date.
	want, _ := c.VectorIndexConfig.(map[string]any)["ef"]
	if vc, ok := got.VectorIndexConfig.(map[string]any); ok && want != nil {
		if ef, _ := vc["ef"].(float64); int(ef) != want.(int) {
			vc["ef"] = want
			if err := s.client.Schema().ClassUpdater().WithClass(got).Do(ctx); err != nil {
				return fmt.Errorf("set ef of %s: %w", c.Class, err)
			}
		}
	}
	return nil
}
