package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"concierge/retrieval/internal/score"
)

// Scoring: see score.Combine, shared with the Weaviate store so that one
// threshold means the same in both.
func scoreOf(cd *candidate, qterms []score.Term, maxBM25 float64) float64 {
	m := score.Coverage(qterms, cd.hit.Title, cd.hit.Heading, cd.hit.Text)
	return score.Combine(score.Signals{Cos: cd.cos, BM25: cd.bm25, MaxBM25: maxBM25, Fused: cd.rrf * float64(rrfK+1) / 2}, m)
}

// maxCorrections bounds the typo corrections of one word.
const maxCorrections = 3

type correction struct {
	alts []string
	df   int
}

// corrections returns the indexed words (FTS5 vocabulary, porter stems)
// closest to w within score.MaxEdits(w), sharing its first letter, the
// commonest first, and the documents holding any of them (an upper bound);
// c.mu is held for reading.
func (s *Store) corrections(ctx context.Context, c *company, w string) ([]string, int, error) {
	c.dfMu.Lock()
	cr, ok := c.typo[w]
	c.dfMu.Unlock()
	if ok {
		return cr.alts, cr.df, nil
	}
	maxd := score.MaxEdits(w)
	bare := score.Bare(w)
	lo := w[:1]
	hi := string(rune(w[0] + 1))
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf(`SELECT term, doc FROM %s WHERE term >= ? AND term < ?`, vocabTable(c.id)), lo, hi)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil, 0, nil
		}
		return nil, 0, wrapErr(ctx, "search", err)
	}
	defer rows.Close()
	type cand struct {
		term string
		d    int
		doc  int
	}
	var cs []cand
	best := maxd
	for rows.Next() {
		var t string
		var doc int
		if err := rows.Scan(&t, &doc); err != nil {
			return nil, 0, wrapErr(ctx, "search", err)
		}
		if d := len(t) - len(bare); d > maxd+len(w)-len(bare) || -d > maxd+2 {
			continue
		}
		if len(t) < 4 {
			continue
		}
		d := min(score.Distance(w, t, best), score.Distance(bare, t, best))
		if d > best {
			continue
		}
		best = d
		cs = append(cs, cand{t, d, doc})
	}
	if err := rows.Err(); err != nil {
		return nil, 0, wrapErr(ctx, "search", err)
	}
	cs = slices.DeleteFunc(cs, func(x cand) bool { return x.d > best })
	slices.SortFunc(cs, func(a, b cand) int {
		if a.doc != b.doc {
			return b.doc - a.doc
		}
		return strings.Compare(a.term, b.term)
	})
	cs = cs[:min(len(cs), maxCorrections)]
	for _, x := range cs {
		cr.alts = append(cr.alts, x.term)
		cr.df += x.doc
	}
	c.dfMu.Lock()
	if c.typo == nil || len(c.typo) >= maxCachedDF {
		c.typo = map[string]correction{}
	}
	c.typo[w] = cr
	c.dfMu.Unlock()
	return cr.alts, cr.df, nil
}

// vocabTable names the fts5vocab table of a company's FTS5 table (made
// with it; an index made before has none until its next write, and its
// searches make no typo corrections).
func vocabTable(companyID uuid.UUID) string { return ftsTable(companyID) + "_v" }

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
