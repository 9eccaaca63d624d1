package embedded

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/retrieval"
)

// rowsModel reads a company's rows from SQLite: the reference the in-memory
// vectors must match.
func rowsModel(t *testing.T, s *Store, company uuid.UUID, dim int) *model {
	t.Helper()
	m := &model{dim: dim, vecs: map[int64][]float32{}, res: map[int64]uuid.UUID{}}
	rows, err := s.db.QueryContext(t.Context(), `SELECT rowid, resource_id, vector FROM passages WHERE company_id = ?`, company[:])
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var rowid int64
		var rid, vec []byte
		require.NoError(t, rows.Scan(&rowid, &rid, &vec))
		m.vecs[rowid] = appendDecoded(nil, vec)
		m.res[rowid], err = uuid.FromBytes(rid)
		require.NoError(t, err)
	}
	require.NoError(t, rows.Err())
	return m
}

// TestStoreVectors checks that, through replacements and deletions, the
// in-memory vectors of a company (as updated by the writes, and as loaded
// again after a restart) give exactly the nearest rows of the database.
func TestStoreVectors(t *testing.T) {
	t.Parallel()
	const dim = 24
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), FileName)
	s, err := Open(ctx, path)
	require.NoError(t, err)
	defer func() { s.Close() }()
	company, other := uuid.New(), uuid.New()
	info := retrieval.IndexInfo{Embedder: "test", Dimension: dim}
	rng := rand.New(rand.NewPCG(9, 10))
	var resources []uuid.UUID
	write := func(st *Store, co, r uuid.UUID, rows int) {
		ps := make([]retrieval.Passage, rows)
		for i := range ps {
			ps[i] = retrieval.Passage{ChunkID: uuid.New(), Ordinal: i, Title: "t", Text: fmt.Sprint("text ", i), Vector: randUnit(rng, dim, 0.5)}
		}
		require.NoError(t, st.ReplaceResource(ctx, co, r, info, ps))
	}
	for range 300 {
		switch op := rng.IntN(10); {
		case op < 6 || len(resources) == 0:
			r := uuid.New()
			resources = append(resources, r)
			write(s, company, r, 1+rng.IntN(80))
		case op < 8:
			write(s, company, resources[rng.IntN(len(resources))], rng.IntN(40))
		default:
			i := rng.IntN(len(resources))
			require.NoError(t, s.DeleteResource(ctx, company, resources[i]))
			resources = append(resources[:i], resources[i+1:]...)
		}
		if rng.IntN(4) == 0 { // another company's writes in between
			write(s, other, uuid.New(), 1+rng.IntN(20))
		}
	}
	check := func(st *Store) {
		t.Helper()
		m := rowsModel(t, st, company, dim)
		c, err := st.company(ctx, company)
		require.NoError(t, err)
		c.mu.RLock()
		defer c.mu.RUnlock()
		require.Equal(t, len(m.vecs), c.vecs.len())
		for range 20 {
			checkNearest(t, c.vecs, m, randUnit(rng, dim, 0.6), 100, nil)
		}
	}
	check(s)
	require.NoError(t, s.Close())
	s, err = Open(ctx, path)
	require.NoError(t, err)
	check(s)
}

// TestDocFreqCache checks that writes invalidate the cached document
// frequencies: a word first unknown is found once a passage has it.
func TestDocFreqCache(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), FileName))
	require.NoError(t, err)
	defer s.Close()
	company := uuid.New()
	info := retrieval.IndexInfo{Embedder: "test", Dimension: 4}
	put := func(r uuid.UUID, text string) {
		require.NoError(t, s.ReplaceResource(ctx, company, r, info, []retrieval.Passage{{ChunkID: uuid.New(), Title: "t", Text: text, Vector: []float32{1, 0, 0, 0}}}))
	}
	keyword := func(q string) []lexHit {
		c, err := s.company(ctx, company)
		require.NoError(t, err)
		c.mu.RLock()
		defer c.mu.RUnlock()
		hits, _, err := s.keyword(ctx, c, q, 10, nil)
		require.NoError(t, err)
		return hits
	}
	a, b := uuid.New(), uuid.New()
	put(a, "apples and pears")
	require.Empty(t, keyword("zebras"))
	require.Len(t, keyword("apples"), 1)
	put(b, "zebras and apples")
	require.Len(t, keyword("zebras"), 1)
	require.Len(t, keyword("apples"), 2)
	require.NoError(t, s.DeleteResource(ctx, company, b))
	require.Empty(t, keyword("zebras"))
	require.Len(t, keyword("apples"), 1)
}

// TestKeywordBudget checks that a query whose terms match more passages
// than maxQueryDocs in all ranks by its rarest terms, leaving out the
// commonest.
func TestKeywordBudget(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), FileName))
	require.NoError(t, err)
	defer s.Close()
	company := uuid.New()
	info := retrieval.IndexInfo{Embedder: "test", Dimension: 4}
	common := []string{"alpha", "bravo", "charlie", "delta", "echo"} // 1,500 passages each
	const perWord = 1500
	require.Greater(t, len(common)*perWord, maxQueryDocs)
	require.LessOrEqual(t, perWord, maxTermDocs)
	var ps []retrieval.Passage
	flush := func() {
		require.NoError(t, s.ReplaceResource(ctx, company, uuid.New(), info, ps))
		ps = nil
	}
	word := map[int64]string{}
	for i := range len(common) * perWord {
		ps = append(ps, retrieval.Passage{ChunkID: uuid.New(), Title: "t", Text: "filler " + common[i%len(common)], Vector: []float32{1, 0, 0, 0}})
		if len(ps) == 500 {
			flush()
		}
	}
	for range 3 {
		ps = append(ps, retrieval.Passage{ChunkID: uuid.New(), Title: "t", Text: "filler zulu", Vector: []float32{1, 0, 0, 0}})
	}
	flush()
	rows, err := s.db.QueryContext(ctx, `SELECT rowid, text FROM passages WHERE company_id = ?`, company[:])
	require.NoError(t, err)
	for rows.Next() {
		var rowid int64
		var text string
		require.NoError(t, rows.Scan(&rowid, &text))
		word[rowid] = strings.TrimPrefix(text, "filler ")
	}
	require.NoError(t, rows.Err())
	rows.Close()

	c, err := s.company(ctx, company)
	require.NoError(t, err)
	c.mu.RLock()
	defer c.mu.RUnlock()
	hits, _, err := s.keyword(ctx, c, "echo delta charlie bravo alpha zulu", 100, nil)
	require.NoError(t, err)
	require.Len(t, hits, 100)
	// zulu (3 passages) ranks first; then the commonest terms that fit:
	// 3 + 3×1500 ≤ maxQueryDocs < 3 + 4×1500, and among equally common
	// terms the earlier in the query go first.
	for i, h := range hits {
		if i < 3 {
			require.Equal(t, "zulu", word[h.rowid])
			continue
		}
		require.Contains(t, []string{"echo", "delta", "charlie"}, word[h.rowid])
	}
}
