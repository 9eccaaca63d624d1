package weaviate

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"

	"concierge/retrieval"
)

// record is an object of the index collection.
type record struct {
	Kind       string  `json:"kind"`
	ResourceID string  `json:"resourceId"`
	Generation string  `json:"generation"`
	Embedder   string  `json:"embedder"`
	Dimension  float64 `json:"dimension"`
	Additional struct {
		ID string `json:"id"`
	} `json:"_additional"`
}

// records reads a company's index records: the info (nil if none) and the
// current generation of each resource. ok is false without a tenant.
func (s *Store) records(ctx context.Context, tenant string) (info *retrieval.IndexInfo, gens map[uuid.UUID]string, ok bool, err error) {
	const page = 10000
	gens = map[uuid.UUID]string{}
	after := ""
	for {
		q := s.client.GraphQL().Get().WithClassName(s.infoClass).WithTenant(tenant).WithLimit(page).
			WithFields(graphql.Field{Name: pKind}, graphql.Field{Name: pResourceID}, graphql.Field{Name: pGeneration},
				graphql.Field{Name: pEmbedder}, graphql.Field{Name: pDimension},
				graphql.Field{Name: "_additional", Fields: []graphql.Field{{Name: "id"}}})
		if after != "" {
			q = q.WithAfter(after)
		}
		var recs []record
		var err error
		if c := s.searchClient(); c != nil {
			recs, err = s.recordsGRPC(ctx, c, tenant, after, page)
		} else {
			err = s.get(ctx, q, s.infoClass, &recs)
		}
		if err != nil {
			if isTenantMissing(err) {
				return nil, nil, false, nil
			}
			return nil, nil, false, err
		}
		for _, r := range recs {
			switch r.Kind {
			case kindInfo:
				info = &retrieval.IndexInfo{Embedder: r.Embedder, Dimension: int(r.Dimension)}
			case kindResource:
				if id, err := uuid.Parse(r.ResourceID); err == nil && r.Generation != "" {
					gens[id] = r.Generation
				}
			}
		}
		if len(recs) < page {
			return info, gens, true, nil
		}
		after = recs[len(recs)-1].Additional.ID
	}
}

// recordsTTL bounds how long a search trusts records read by an earlier
// search. Writes of this Store invalidate them at once; another replica's
// writes are seen within recordsTTL. That keeps every search consistent:
// a replaced generation is deleted only after DeleteGrace (well over
// recordsTTL), so stale records still name a complete generation, and
// hits of a generation the records do not name make the search run again
// with the records' filter.
const recordsTTL = time.Second

type recordsEntry struct {
	epoch int64
	at    time.Time
	info  *retrieval.IndexInfo
	gens  map[uuid.UUID]string
	ok    bool
}

// searchRecords is records for Search, cached per tenant for recordsTTL
// and until this Store writes. The caller may modify gens.
func (s *Store) searchRecords(ctx context.Context, tenant string) (*retrieval.IndexInfo, map[uuid.UUID]string, bool, error) {
	epoch := s.recsEpoch.Load()
	if v, ok := s.recs.Load(tenant); ok {
		e := v.(*recordsEntry)
		if e.epoch == epoch && epoch%2 == 0 && time.Since(e.at) < recordsTTL {
			return e.info, maps.Clone(e.gens), e.ok, nil
		}
	}
	at := time.Now()
	info, gens, ok, err := s.records(ctx, tenant)
	if err != nil {
		return nil, nil, false, err
	}
	if epoch%2 == 0 && s.recsEpoch.Load() == epoch { // no write began meanwhile
		if _, loaded := s.recs.Swap(tenant, &recordsEntry{epoch: epoch, at: at, info: info, gens: maps.Clone(gens), ok: ok}); !loaded {
			if s.recsCount.Add(1) > maxCachedTenants { // bounded like the term caches
				s.recs.Clear()
				s.recsCount.Store(0)
			}
		}
	}
	return info, gens, ok, nil
}

// get runs a GraphQL Get and decodes the class's objects into out.
func (s *Store) get(ctx context.Context, q *graphql.GetBuilder, class string, out any) error {
	resp, err := q.Do(ctx)
	if err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		msgs := make([]string, len(resp.Errors))
		for i, e := range resp.Errors {
			msgs[i] = e.Message
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	get, ok := resp.Data["Get"]
	if !ok {
		return errors.New("graphql: no Get in the answer")
	}
	raw, err := json.Marshal(get)
	if err != nil {
		return err
	}
	var byClass map[string]json.RawMessage
	if err := json.Unmarshal(raw, &byClass); err != nil {
		return err
	}
	if b, ok := byClass[class]; ok && string(b) != "null" {
		return json.Unmarshal(b, out)
	}
	return nil
}

// Info returns the embedder a company's index was built with.
func (s *Store) Info(ctx context.Context, companyID uuid.UUID) (retrieval.IndexInfo, bool, error) {
	if err := s.ensureSchema(ctx); err != nil {
		return retrieval.IndexInfo{}, false, err
	}
	cctx, cancel := context.WithTimeout(ctx, s.cfg.SearchTimeout)
	defer cancel()
	info, _, ok, err := s.records(cctx, TenantName(companyID))
	if err != nil {
		return retrieval.IndexInfo{}, false, s.wrap(ctx, "read index info", err)
	}
	if !ok || info == nil {
		return retrieval.IndexInfo{}, false, nil
	}
	return *info, true, nil
}

func recordID(companyID uuid.UUID, key string) string {
	return uuid.NewSHA1(companyID, []byte(key)).String()
}
