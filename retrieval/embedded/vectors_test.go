package embedded

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/retrieval/embed"
	"concierge/retrieval/internal/score"
)

// model is the brute-force reference: every live row's unit vector.
type model struct {
	dim  int
	vecs map[int64][]float32
	res  map[int64]uuid.UUID
}

// top is the exact top n (float64 dot products), best first.
func (m *model) top(q []float32, n int, skip map[uuid.UUID]bool) []scored {
	var all []scored
	for rowid, v := range m.vecs {
		if skip[m.res[rowid]] {
			continue
		}
		var s float64
		for d := range v {
			s += float64(q[d]) * float64(v[d])
		}
		all = append(all, scored{rowid: rowid, resource: m.res[rowid], score: float32(s)})
	}
	slices.SortFunc(all, func(a, b scored) int {
		if better(a, b) {
			return -1
		}
		return 1
	})
	return all[:min(n, len(all))]
}

func randUnit(rng *rand.Rand, dim int, density float64) []float32 {
	v := make([]float32, dim)
	for d := range v {
		if rng.Float64() < density {
			v[d] = float32(rng.NormFloat64())
		}
	}
	return score.Normalized(v)
}

// checkNearest asserts that x.nearest returns the exact top n of m: the
// same scores at every rank (to float32 rounding), each the true cosine of
// the row returned, and the same rows except where scores tie.
func checkNearest(t *testing.T, x *vecIndex, m *model, q []float32, n int, skip map[uuid.UUID]bool) {
	t.Helper()
	var sk func(*segment) bool
	if len(skip) > 0 {
		sk = func(sg *segment) bool { return skip[sg.resource] }
	}
	got := x.nearest(q, n, sk)
	want := m.top(q, n, skip)
	require.Len(t, got, len(want))
	for i := range want {
		require.InDelta(t, want[i].score, got[i].score, 1e-5, "rank %d", i)
		v, ok := m.vecs[got[i].rowid]
		require.True(t, ok, "rank %d: row %d is not live", i, got[i].rowid)
		require.Equal(t, m.res[got[i].rowid], got[i].resource)
		require.False(t, skip[got[i].resource])
		var s float64
		for d := range v {
			s += float64(q[d]) * float64(v[d])
		}
		require.InDelta(t, s, got[i].score, 1e-5, "rank %d: score of row %d", i, got[i].rowid)
	}
	seen := map[int64]bool{}
	for _, g := range got {
		require.False(t, seen[g.rowid], "row %d twice", g.rowid)
		seen[g.rowid] = true
	}
	// Same top 10 exactly, unless scores tie within rounding.
	for i := range min(10, len(want)) {
		if got[i].rowid != want[i].rowid {
			require.InDelta(t, float64(want[i].score), float64(got[i].score), 1e-6, "top-10 rank %d differs", i)
		}
	}
}

func TestVecIndexExact(t *testing.T) {
	t.Parallel()
	const dim = 96
	rng := rand.New(rand.NewPCG(1, 2))
	x := newVecIndex(dim)
	m := &model{dim: dim, vecs: map[int64][]float32{}, res: map[int64]uuid.UUID{}}
	segs := map[uuid.UUID]*segment{}
	var resources []uuid.UUID
	next := int64(1)
	replace := func(r uuid.UUID, rows int) {
		if sg := segs[r]; sg != nil {
			x.remove(sg)
			delete(segs, r)
			for rowid, rr := range m.res {
				if rr == r {
					delete(m.res, rowid)
					delete(m.vecs, rowid)
				}
			}
		}
		if rows == 0 {
			return
		}
		rowids := make([]int64, rows)
		var vecs []float32
		for i := range rowids {
			rowids[i] = next
			next++
			v := randUnit(rng, dim, 0.7)
			vecs = append(vecs, v...)
			m.vecs[rowids[i]], m.res[rowids[i]] = v, r
		}
		sg := &segment{resource: r}
		x.add(sg, rowids, vecs)
		segs[r] = sg
	}
	check := func() {
		t.Helper()
		require.Equal(t, len(m.vecs), x.len())
		live := 0
		for _, b := range x.blocks {
			for r := range b.n {
				if b.rowids[r] != 0 {
					live++
					require.Same(t, segs[m.res[b.rowids[r]]], b.segs[r])
				}
			}
		}
		require.Equal(t, x.len(), live)
		for range 3 {
			density := []float64{0.1, 0.4, 1}[rng.IntN(3)]
			q := randUnit(rng, dim, density)
			n := []int{1, 10, 100, 500}[rng.IntN(4)]
			checkNearest(t, x, m, q, n, nil)
			if len(resources) > 3 {
				skip := map[uuid.UUID]bool{resources[rng.IntN(len(resources))]: true, resources[rng.IntN(len(resources))]: true}
				checkNearest(t, x, m, q, n, skip)
			}
		}
	}
	// Grow past several blocks and the parallel threshold, with resources
	// of 1 to 400 rows, replacing and deleting as we go (free slots get
	// reused, the index gets compacted).
	for step := range 400 {
		switch op := rng.IntN(10); {
		case op < 6 || len(resources) == 0:
			r := uuid.New()
			resources = append(resources, r)
			replace(r, 1+rng.IntN([]int{5, 60, 400}[rng.IntN(3)]))
		case op < 8:
			replace(resources[rng.IntN(len(resources))], 1+rng.IntN(100))
		default:
			i := rng.IntN(len(resources))
			replace(resources[i], 0)
			resources = slices.Delete(resources, i, i+1)
		}
		if step%20 == 0 {
			check()
		}
	}
	require.Greater(t, x.slots(), parallelRows)
	check()
	// Delete most resources: the index compacts.
	for len(resources) > 5 {
		replace(resources[0], 0)
		resources = resources[1:]
	}
	require.LessOrEqual(t, x.slots(), 2*x.len()+64)
	check()
	for _, r := range resources {
		replace(r, 0)
	}
	require.Zero(t, x.len())
	require.Empty(t, x.nearest(randUnit(rng, dim, 1), 10, nil))
}

// TestVecIndexLocalQueries checks the scan with the local embedder's own
// (sparse) vectors.
func TestVecIndexLocalQueries(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	words := []string{"refund", "policy", "shipping", "canada", "password", "reset", "gift", "card", "warranty", "account", "delete", "order", "track", "invoice", "billing"}
	text := func(n int) string {
		var b []byte
		for i := range n {
			if i > 0 {
				b = append(b, ' ')
			}
			b = append(b, words[rng.IntN(len(words))]...)
		}
		return string(b)
	}
	x := newVecIndex(embed.LexicalDimension)
	m := &model{dim: embed.LexicalDimension, vecs: map[int64][]float32{}, res: map[int64]uuid.UUID{}}
	for r := range 100 {
		res := uuid.New()
		rowids := make([]int64, 100)
		var vecs []float32
		for i := range rowids {
			rowids[i] = int64(r*100 + i + 1)
			v := score.Normalized(embed.LexicalVector(text(5 + rng.IntN(40))))
			vecs = append(vecs, v...)
			m.vecs[rowids[i]], m.res[rowids[i]] = v, res
		}
		x.add(&segment{resource: res}, rowids, vecs)
	}
	for range 50 {
		q := score.Normalized(embed.LexicalVector(text(1 + rng.IntN(6))))
		checkNearest(t, x, m, q, 100, nil)
	}
}

func TestTopN(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		n := 1 + rng.IntN(50)
		var all []scored
		tn := topN{n: n}
		for i := range rng.IntN(300) {
			s := scored{rowid: int64(i + 1), score: float32(rng.IntN(40))} // many ties
			all = append(all, s)
			tn.push(s)
		}
		slices.SortFunc(all, func(a, b scored) int {
			if better(a, b) {
				return -1
			}
			return 1
		})
		got := slices.Clone(tn.h)
		slices.SortFunc(got, func(a, b scored) int {
			if better(a, b) {
				return -1
			}
			return 1
		})
		require.Equal(t, all[:min(n, len(all))], got)
	}
}

func TestScoreBlockMatchesDot(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	for _, nnz := range []int{0, 1, 3, 4, 5, 37, 64} {
		const dim, rows, stride = 64, 50, 64
		cols := make([]float32, dim*stride)
		for i := range cols {
			cols[i] = float32(rng.NormFloat64())
		}
		q := make([]float32, dim)
		var nz []int32
		var qs []float32
		for _, d := range rng.Perm(dim)[:nnz] {
			q[d] = float32(rng.NormFloat64())
		}
		for d, f := range q {
			if f != 0 {
				nz, qs = append(nz, int32(d)), append(qs, f)
			}
		}
		out := make([]float32, rows)
		scoreBlock(out, cols, stride, nz, qs)
		for r := range rows {
			var s float64
			for d := range dim {
				s += float64(q[d]) * float64(cols[d*stride+r])
			}
			require.InDelta(t, s, float64(out[r]), 1e-4*math.Max(1, math.Abs(s)))
		}
	}
}
