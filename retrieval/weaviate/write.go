package weaviate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/google/uuid"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/fault"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate/entities/models"

	"concierge/retrieval"
	"concierge/terms"
)

// ReplaceResource atomically replaces a resource's passages (see the
// package comment).
func (s *Store) ReplaceResource(ctx context.Context, companyID, resourceID uuid.UUID, info retrieval.IndexInfo, passages []retrieval.Passage) error {
	if info.Embedder == "" {
		return errors.New("weaviate: replace resource: no embedder name in the index info")
	}
	for i, p := range passages {
		if len(p.Vector) != info.Dimension || info.Dimension <= 0 {
			return fmt.Errorf("%w: passage %d has %d dimensions, the index info says %d",
				retrieval.ErrDimensionMismatch, i, len(p.Vector), info.Dimension)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("weaviate: replace resource: %w", err)
	}
	if err := s.ensureSchema(ctx); err != nil {
		return err
	}
	unlock := s.lock(companyID)
	defer unlock()
	s.recsEpoch.Add(1)
	defer s.recsEpoch.Add(1)
	tenant := TenantName(companyID)
	err := s.replace(ctx, companyID, resourceID, tenant, info, passages)
	if isTenantMissing(err) { // deleted by another replica since we cached it
		s.tenants.Delete(tenant)
		err = s.replace(ctx, companyID, resourceID, tenant, info, passages)
	}
	return err
}

func (s *Store) replace(ctx context.Context, companyID, resourceID uuid.UUID, tenant string, info retrieval.IndexInfo, passages []retrieval.Passage) error {
	if err := s.ensureTenant(ctx, tenant); err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
	cur, gens, _, err := s.records(rctx, tenant)
	cancel()
	if err != nil {
		return s.wrap(ctx, "read index info", err)
	}
	if cur != nil {
		if cur.Embedder != info.Embedder {
			return fmt.Errorf("%w: company index built with %q (dimension %d), passages from %q",
				retrieval.ErrEmbedderChanged, cur.Embedder, cur.Dimension, info.Embedder)
		}
		if cur.Dimension != info.Dimension {
			return fmt.Errorf("%w: company index has dimension %d, passages have %d",
				retrieval.ErrDimensionMismatch, cur.Dimension, info.Dimension)
		}
	}
	old := gens[resourceID]
	gen := uuid.New()

	// 1. The new generation, invisible until the resource record names it.
	objs := make([]*models.Object, 0, min(len(passages), s.cfg.BatchSize))
	flush := func() error {
		if len(objs) == 0 {
			return nil
		}
		err := s.batch(ctx, objs)
		objs = objs[:0]
		return err
	}
	for _, p := range passages {
		objs = append(objs, s.passageObject(tenant, gen, resourceID, p))
		if len(objs) == s.cfg.BatchSize {
			if err := flush(); err != nil {
				s.dropGeneration(tenant, resourceID, gen.String())
				return err
			}
		}
	}
	// 2. The commit point: the resource record (and the info, the first
	// time) in one batch request; a batch of two objects of one shard.
	objs = append(objs, &models.Object{
		Class: s.infoClass, Tenant: tenant, ID: objectID(recordID(companyID, "resource:"+resourceID.String())),
		Properties: map[string]any{pKind: kindResource, pResourceID: resourceID.String(), pGeneration: gen.String()},
	})
	if cur == nil {
		objs = append(objs, &models.Object{
			Class: s.infoClass, Tenant: tenant, ID: objectID(recordID(companyID, kindInfo)),
			Properties: map[string]any{pKind: kindInfo, pEmbedder: info.Embedder, pDimension: info.Dimension},
		})
	}
	// Records after passages: flush them separately so that a failure of
	// the passages never commits.
	recs := objs[len(objs)-(1+boolInt(cur == nil)):]
	objs = objs[:len(objs)-len(recs)]
	if err := flush(); err != nil {
		s.dropGeneration(tenant, resourceID, gen.String())
		return err
	}
	if err := ctx.Err(); err != nil {
		s.dropGeneration(tenant, resourceID, gen.String())
		return fmt.Errorf("weaviate: replace resource: %w", err)
	}
	if err := s.batch(ctx, recs); err != nil {
		s.dropGeneration(tenant, resourceID, gen.String())
		return err
	}
	// 3. The previous generation, once no search can still be reading it.
	if old != "" {
		s.later(func() { s.dropGeneration(tenant, resourceID, old) })
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func objectID(id string) strfmt.UUID { return strfmt.UUID(id) }

func (s *Store) passageObject(tenant string, gen, resourceID uuid.UUID, p retrieval.Passage) *models.Object {
	return &models.Object{
		Class:  s.class,
		Tenant: tenant,
		ID:     objectID(uuid.NewSHA1(gen, p.ChunkID[:]).String()),
		Vector: models.C11yVector(p.Vector),
		Properties: map[string]any{
			pText:       p.Text,
			pTitle:      p.Title,
			pHeading:    p.Heading,
			pURL:        p.URL,
			pPage:       p.Page,
			pOrdinal:    p.Ordinal,
			pChunkID:    p.ChunkID.String(),
			pResourceID: resourceID.String(),
			pGeneration: gen.String(),
			pTextStem:   stemText(p.Heading + "\n" + p.Text),
			pTitleStem:  stemText(p.Title),
		},
	}
}

// batch writes objects and reports the first per-object error.
func (s *Store) batch(ctx context.Context, objs []*models.Object) error {
	cctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
	defer cancel()
	res, err := s.client.Batch().ObjectsBatcher().WithObjects(objs...).Do(cctx)
	if err != nil {
		return s.wrap(ctx, "batch import", err)
	}
	for _, r := range res {
		if r.Result != nil && r.Result.Errors != nil && len(r.Result.Errors.Error) > 0 {
			var msgs []string
			for _, e := range r.Result.Errors.Error {
				msgs = append(msgs, e.Message)
			}
			err := errors.New(strings.Join(msgs, "; "))
			if strings.Contains(strings.ToLower(err.Error()), "vector length") ||
				strings.Contains(strings.ToLower(err.Error()), "dimension") {
				return fmt.Errorf("%w: weaviate: %v", retrieval.ErrDimensionMismatch, err)
			}
			return s.wrap(ctx, "batch import", err)
		}
	}
	return nil
}

// later runs fn after the delete grace period (or at Close).
func (s *Store) later(fn func()) {
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	if s.closed {
		s.wg.Go(fn)
		return
	}
	p := &pendingDelete{run: fn}
	s.wg.Add(1)
	p.timer = time.AfterFunc(s.cfg.DeleteGrace, func() {
		defer s.wg.Done()
		s.pendingMu.Lock()
		_, mine := s.pending[p]
		delete(s.pending, p)
		s.pendingMu.Unlock()
		if mine {
			fn()
		}
	})
	s.pending[p] = struct{}{}
}

// dropGeneration deletes one generation of a resource, best effort: an
// invisible leftover is removed by the next DeleteResource anyway.
func (s *Store) dropGeneration(tenant string, resourceID uuid.UUID, gen string) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.WriteTimeout)
	defer cancel()
	_ = s.deleteWhere(ctx, tenant, filters.Where().WithOperator(filters.And).WithOperands([]*filters.WhereBuilder{
		filters.Where().WithPath([]string{pResourceID}).WithOperator(filters.Equal).WithValueText(resourceID.String()),
		filters.Where().WithPath([]string{pGeneration}).WithOperator(filters.Equal).WithValueText(gen),
	}))
}

func (s *Store) deleteWhere(ctx context.Context, tenant string, where *filters.WhereBuilder) error {
	// A batch delete removes at most QUERY_MAXIMUM_RESULTS (10,000 by
	// default) objects: repeat until nothing matched.
	for range 1000 {
		res, err := s.client.Batch().ObjectsBatchDeleter().WithClassName(s.class).WithTenant(tenant).
			WithOutput("minimal").WithWhere(where).Do(ctx)
		if err != nil {
			return err
		}
		if res == nil || res.Results == nil || res.Results.Matches == 0 || res.Results.Matches < res.Results.Limit {
			return nil
		}
	}
	return nil
}

// startDelete begins a deletion from the company's index: cached records
// are stale until done, the collections exist and the company's lock is
// held; cctx bounds the deletion's requests by Config.WriteTimeout. done
// ends it (it is nil with an error).
func (s *Store) startDelete(ctx context.Context, companyID uuid.UUID) (tenant string, cctx context.Context, done func(), err error) {
	s.recsEpoch.Add(1)
	if err := s.ensureSchema(ctx); err != nil {
		s.recsEpoch.Add(1)
		return "", nil, nil, err
	}
	unlock := s.lock(companyID)
	cctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
	return TenantName(companyID), cctx, func() {
		cancel()
		unlock()
		s.recsEpoch.Add(1)
	}, nil
}

// DeleteResource removes a resource's passages, every generation.
func (s *Store) DeleteResource(ctx context.Context, companyID, resourceID uuid.UUID) error {
	tenant, cctx, done, err := s.startDelete(ctx, companyID)
	if err != nil {
		return err
	}
	defer done()
	// The record first: from then on no search sees the resource.
	err = s.client.Data().Deleter().WithClassName(s.infoClass).WithTenant(tenant).
		WithID(recordID(companyID, "resource:"+resourceID.String())).Do(cctx)
	var wce *fault.WeaviateClientError
	switch {
	case err == nil:
	case errors.As(err, &wce) && wce.StatusCode == http.StatusNotFound:
	case isTenantMissing(err):
		return nil // no index at all
	default:
		return s.wrap(ctx, "delete resource record", err)
	}
	err = s.deleteWhere(cctx, tenant,
		filters.Where().WithPath([]string{pResourceID}).WithOperator(filters.Equal).WithValueText(resourceID.String()))
	if err != nil && !isTenantMissing(err) {
		return s.wrap(ctx, "delete resource passages", err)
	}
	return nil
}

// stemText is the text BM25 indexes: the words of text, stemmed the way
// the query is, separated by spaces.
func stemText(text string) string {
	var b strings.Builder
	terms.Words(text, func(w string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(terms.Stem(w))
	})
	return b.String()
}
