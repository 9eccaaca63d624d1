package embedded

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"concierge/retrieval"
	"concierge/retrieval/internal/score"
	"concierge/terms"
)

// Search tuning.
const (
	// candidates is how many hits each ranking (BM25, vector) contributes
	// to the fusion.
	candidates = 100
	// rrfK is reciprocal rank fusion's constant: score = Σ 1/(rrfK+rank).
	rrfK = 60
	// maxQueryTerms bounds the FTS5 expression.
	maxQueryTerms = 32
	// maxTermDocs: a query term in more passages than this is left out of
	// the BM25 query (it bounds the cost of ranking at 100,000 chunks).
	maxTermDocs = 2000
	// maxQueryDocs bounds the passages the BM25 query ranks (FTS5 scores
	// every match, about 2.5µs each): terms are taken rarest first, and the
	// first that would go over the budget and the commoner ones after it
	// are left out, like a term over maxTermDocs. The vector ranking and
	// the lexical score still count them.
	maxQueryDocs = 6000
	// maxCachedDF bounds a company's cache of document frequencies.
	maxCachedDF = 50_000
)

type candidate struct {
	rowid   int64
	cos     float64 // cosine with the query vector (-1 when unknown)
	bm25    float64 // positive BM25 (0 when not a keyword match)
	lexRank int     // 1-based rank in the BM25 list (0: absent)
	vecRank int     // 1-based rank in the vector list (0: absent)
	rrf     float64
	hit     retrieval.Hit
}

// Search implements retrieval.Store.
func (s *Store) Search(ctx context.Context, companyID uuid.UUID, q retrieval.Query) ([]retrieval.Hit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k := q.K
	if k <= 0 {
		k = retrieval.DefaultK
	}
	k = min(k, retrieval.MaxK)
	c, err := s.company(ctx, companyID)
	if err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.has {
		return nil, nil
	}
	if len(q.Vector) > 0 && len(q.Vector) != c.info.Dimension {
		return nil, fmt.Errorf("embedded: query has %d dimensions, the index %d: %w", len(q.Vector), c.info.Dimension, retrieval.ErrDimensionMismatch)
	}
	exclude := make(map[uuid.UUID]bool, len(q.ExcludeResources))
	for _, r := range q.ExcludeResources {
		exclude[r] = true
	}
	n := max(candidates, 4*k)

	byRow := map[int64]*candidate{}
	get := func(rowid int64) *candidate {
		cd := byRow[rowid]
		if cd == nil {
			cd = &candidate{rowid: rowid, cos: -1}
			byRow[rowid] = cd
		}
		return cd
	}

	// The vector scan (in memory, on all CPUs) runs while SQLite answers
	// the keyword query; both finish before the lock is released.
	var (
		qv   []float32
		near []scored
		done = make(chan struct{})
	)
	if len(q.Vector) > 0 {
		qv = score.Normalized(q.Vector)
		var skip func(*segment) bool
		if len(exclude) > 0 {
			skip = func(sg *segment) bool { return exclude[sg.resource] }
		}
		go func() {
			defer close(done)
			near = c.vecs.nearest(qv, n, skip)
		}()
	} else {
		close(done)
	}
	lex, qterms, err := s.keyword(ctx, c, q.Text, n, exclude)
	<-done
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i, v := range near {
		cd := get(v.rowid)
		cd.cos, cd.vecRank = float64(v.score), i+1
	}
	for i, l := range lex {
		cd := get(l.rowid)
		cd.bm25, cd.lexRank = l.bm25, i+1
	}
	if len(byRow) == 0 {
		return nil, nil
	}

	// Fuse, then read and score the best few candidates.
	all := make([]*candidate, 0, len(byRow))
	for _, cd := range byRow {
		if cd.lexRank > 0 {
			cd.rrf += 1.0 / float64(rrfK+cd.lexRank)
		}
		if cd.vecRank > 0 {
			cd.rrf += 1.0 / float64(rrfK+cd.vecRank)
		}
		all = append(all, cd)
	}
	slices.SortFunc(all, func(a, b *candidate) int {
		if a.rrf != b.rrf {
			if a.rrf > b.rrf {
				return -1
			}
			return 1
		}
		return int(a.rowid - b.rowid)
	})
	all = all[:min(len(all), max(4*k, 40))]
	if err := s.hydrate(ctx, companyID, all, qv); err != nil {
		return nil, err
	}
	scoreAll(all, qterms, lex)
	hits := make([]retrieval.Hit, 0, len(all))
	for _, cd := range all {
		if cd.hit.ChunkID != uuid.Nil { // found by hydrate (always, under the lock)
			hits = append(hits, cd.hit)
		}
	}
	return retrieval.Diversify(hits, k), nil
}

func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

type lexHit struct {
	rowid int64
	bm25  float64
}

// keyword runs the BM25 search of text; c.mu is held for reading. It also
// returns the query's terms, weighted by IDF, for the score.
func (s *Store) keyword(ctx context.Context, c *company, text string, n int, exclude map[uuid.UUID]bool) ([]lexHit, []score.Term, error) {
	// The query's words are quoted as FTS5 strings below, so no operator,
	// column filter, NEAR group or quote can come from the user.
	words := terms.QueryWords(text, maxQueryTerms)
	if len(words) == 0 {
		return nil, nil, nil
	}
	companyID := c.id
	t := ftsTable(companyID)
	total := 1
	if c.vecs != nil {
		total = max(1, c.vecs.len())
	}
	// A term with no match at all is probably misspelt: it is replaced by
	// the indexed words at one or two edits from it ("refnd" → "refund"),
	// or else by a long prefix of it ("goroutin" → "goro"*).
	type term struct {
		expr string
		df   int
	}
	ts := make([]term, 0, len(words))
	qts := make([]score.Term, 0, len(words))
	for _, w := range words {
		st := terms.Stem(w)
		qt := score.Term{Word: w, Stem: st}
		exact := `"` + w + `"`
		df, err := s.docFreq(ctx, c, exact)
		switch {
		case err != nil:
			return nil, nil, err
		case df > maxTermDocs:
			// Too common to discriminate, and ranking all its passages
			// would cost more than the whole search may: the vector
			// ranking and the lexical score still count it.
		case df > 0:
			ts = append(ts, term{exact, df})
		case isASCII(w) && score.MaxEdits(w) > 0:
			alts, adf, err := s.corrections(ctx, c, w)
			if err != nil {
				return nil, nil, err
			}
			if len(alts) > 0 {
				qt.Alts, df = alts, adf
				parts := make([]string, len(alts))
				for i, a := range alts {
					parts[i] = `"` + a + `"`
				}
				ts = append(ts, term{strings.Join(parts, " OR "), min(adf, maxTermDocs)})
				break
			}
			if p := score.PrefixFallback(w); p != "" {
				pdf, err := s.docFreq(ctx, c, `"`+p+`"*`)
				if err != nil {
					return nil, nil, err
				}
				if pdf > 0 && pdf <= maxTermDocs {
					qt.Prefix, df = p, pdf
					ts = append(ts, term{`"` + p + `"*`, pdf})
				}
			}
		}
		qt.Weight = score.IDF(total, df)
		if score.Filler(w) {
			qt.Weight *= score.FillerWeight
		}
		qts = append(qts, qt)
	}
	// Within the budget, rarest first; the expression keeps query order.
	byDF := make([]int, len(ts))
	for i := range byDF {
		byDF[i] = i
	}
	slices.SortStableFunc(byDF, func(a, b int) int { return ts[a].df - ts[b].df })
	keep := make([]bool, len(ts))
	docs := 0
	for _, i := range byDF {
		if docs+ts[i].df > maxQueryDocs {
			break
		}
		docs += ts[i].df
		keep[i] = true
	}
	parts := make([]string, 0, len(ts))
	for i, tm := range ts {
		if keep[i] {
			parts = append(parts, tm.expr)
		}
	}
	if len(parts) == 0 {
		return nil, qts, nil
	}
	expr := strings.Join(parts, " OR ")
	if len(exclude) > 0 {
		out, err := s.keywordExcluding(ctx, companyID, expr, n, exclude)
		return out, qts, err
	}
	// The table holds only this company's passages, and hydrate reads
	// the passages by company too.
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf(`SELECT rowid, rank FROM %[1]s WHERE %[1]s MATCH ? ORDER BY rank LIMIT ?`, t), expr, n)
	if err != nil {
		return nil, nil, wrapErr(ctx, "search", err)
	}
	defer rows.Close()
	out := make([]lexHit, 0, n)
	for rows.Next() {
		var h lexHit
		if err := rows.Scan(&h.rowid, &h.bm25); err != nil {
			return nil, nil, wrapErr(ctx, "search", err)
		}
		h.bm25 = -h.bm25 // FTS5's bm25 is negative, lower is better
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, wrapErr(ctx, "search", err)
	}
	return out, qts, nil
}

// keywordExcluding runs the FTS5 expression leaving out the passages of the
// excluded resources (read from the passages table).
func (s *Store) keywordExcluding(ctx context.Context, companyID uuid.UUID, expr string, n int, exclude map[uuid.UUID]bool) ([]lexHit, error) {
	limit := n + 20*len(exclude)
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf(`SELECT f.rowid, f.r, p.resource_id FROM
		(SELECT rowid, rank AS r FROM %[1]s WHERE %[1]s MATCH ? ORDER BY rank LIMIT ?) f
		JOIN passages p ON p.rowid = f.rowid AND p.company_id = ? ORDER BY f.r`, ftsTable(companyID)),
		expr, limit, companyID[:])
	if err != nil {
		return nil, wrapErr(ctx, "search", err)
	}
	defer rows.Close()
	var out []lexHit
	for rows.Next() {
		var h lexHit
		var rid []byte
		if err := rows.Scan(&h.rowid, &h.bm25, &rid); err != nil {
			return nil, wrapErr(ctx, "search", err)
		}
		h.bm25 = -h.bm25 // FTS5's bm25 is negative, lower is better
		resource, err := uuid.FromBytes(rid)
		if err != nil {
			return nil, wrapErr(ctx, "search", err)
		}
		if exclude[resource] || len(out) >= n {
			continue
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(ctx, "search", err)
	}
	return out, nil
}

// docFreq returns the number of passages matching the FTS5 expression
// expr, counted up to maxTermDocs+1, from the company's cache when it can;
// c.mu is held for reading (writes clear the cache under c.mu).
func (s *Store) docFreq(ctx context.Context, c *company, expr string) (int, error) {
	c.dfMu.Lock()
	df, ok := c.df[expr]
	c.dfMu.Unlock()
	if ok {
		return df, nil
	}
	t := ftsTable(c.id)
	err := s.db.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM (SELECT 1 FROM %[1]s WHERE %[1]s MATCH ? LIMIT %[2]d)`, t, maxTermDocs+1), expr).Scan(&df)
	if err != nil {
		return 0, wrapErr(ctx, "search", err)
	}
	c.dfMu.Lock()
	if c.df == nil || len(c.df) >= maxCachedDF {
		c.df = map[string]int{}
	}
	c.df[expr] = df
	c.dfMu.Unlock()
	return df, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// hydrate reads the candidates' passages (and, for those the vector scan
// did not rank, their cosine with qv).
func (s *Store) hydrate(ctx context.Context, companyID uuid.UUID, cands []*candidate, qv []float32) error {
	if len(cands) == 0 {
		return nil
	}
	byRow := make(map[int64]*candidate, len(cands))
	args := make([]any, 0, len(cands)+1)
	for _, cd := range cands {
		byRow[cd.rowid] = cd
		args = append(args, cd.rowid)
	}
	args = append(args, companyID[:])
	// "+company_id" keeps SQLite from answering with the (company_id,
	// resource_id) index, which would walk every passage of the company:
	// the rowids are looked up by primary key, and the company checked on
	// each.
	rows, err := s.db.QueryContext(ctx, `SELECT rowid, resource_id, chunk_id, ordinal, title, heading, url, page, text, vector
		FROM passages WHERE rowid IN (?`+strings.Repeat(",?", len(cands)-1)+`) AND +company_id = ?`, args...)
	if err != nil {
		return wrapErr(ctx, "search", err)
	}
	defer rows.Close()
	var vec []float32
	for rows.Next() {
		var rowid int64
		var rid, cid, vb []byte
		var p retrieval.Passage
		if err := rows.Scan(&rowid, &rid, &cid, &p.Ordinal, &p.Title, &p.Heading, &p.URL, &p.Page, &p.Text, &vb); err != nil {
			return wrapErr(ctx, "search", err)
		}
		cd := byRow[rowid]
		if cd == nil {
			continue
		}
		p.ResourceID, _ = uuid.FromBytes(rid)
		p.ChunkID, _ = uuid.FromBytes(cid)
		cd.hit.Passage = p
		if cd.cos < -0.5 && qv != nil {
			vec = appendDecoded(vec[:0], vb)
			if len(vec) == len(qv) {
				cd.cos = float64(dot(qv, vec))
			}
		}
	}
	if err := rows.Err(); err != nil {
		return wrapErr(ctx, "search", err)
	}
	return nil
}

// scoreAll sets each candidate's Score (see score.go).
func scoreAll(cands []*candidate, qterms []score.Term, lex []lexHit) {
	var maxBM25 float64
	for _, l := range lex {
		maxBM25 = max(maxBM25, l.bm25)
	}
	for _, cd := range cands {
		cd.hit.Score = scoreOf(cd, qterms, maxBM25)
	}
}
