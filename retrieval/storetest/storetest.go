// Package storetest is the conformance suite every retrieval.Store passes:
// company isolation, atomic replacement, deletion, the query limits, the
// dimension and embedder checks, score ranges and cancellation.
//
// It embeds text with a tiny deterministic hashing function (Vector), so it
// depends on no embedder, and it runs in a few seconds. A store's test is:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) retrieval.Store { return newStore(t) })
//	}
//
// newStore is called once per subtest (subtests run in parallel); it must
// return a ready store and register its cleanup with t.Cleanup. Stores may
// share a backend between calls: every subtest uses fresh random company ids.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/retrieval"
)

// Dim is the dimension of the suite's vectors.
const Dim = 32

// Info is the IndexInfo the suite indexes with.
var Info = retrieval.IndexInfo{Embedder: "storetest-hash", Dimension: Dim}

// Vector embeds text by signed hashing of its lower-cased words into Dim
// dimensions, L2-normalised: texts sharing words have a positive cosine.
// Text without words gets a fixed unit vector.
func Vector(text string) []float32 {
	v := make([]float32, Dim)
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		h := fnv.New32a()
		h.Write([]byte(w))
		x := h.Sum32()
		if x&(1<<31) != 0 {
			v[x%Dim]--
		} else {
			v[x%Dim]++
		}
	}
	var n float64
	for _, f := range v {
		n += float64(f) * float64(f)
	}
	if n == 0 {
		v[0] = 1
		return v
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
	return v
}

// Passages builds passages of one resource from texts, with vectors.
func Passages(resourceID uuid.UUID, title string, texts ...string) []retrieval.Passage {
	ps := make([]retrieval.Passage, len(texts))
	for i, t := range texts {
		ps[i] = retrieval.Passage{
			ChunkID:    uuid.New(),
			ResourceID: resourceID,
			Ordinal:    i,
			Title:      title,
			Heading:    fmt.Sprintf("Section %d", i+1),
			URL:        "https://example.com/" + resourceID.String(),
			Page:       i + 1,
			Text:       t,
			Vector:     Vector(title + " " + t),
		}
	}
	return ps
}

// Q builds a query for text with its vector.
func Q(text string, k int, exclude ...uuid.UUID) retrieval.Query {
	return retrieval.Query{Text: text, Vector: Vector(text), K: k, ExcludeResources: exclude}
}

type suite struct {
	newStore func(t *testing.T) retrieval.Store
}

// Run runs the conformance suite against stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T) retrieval.Store) {
	s := suite{newStore: newStore}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"Isolation", s.isolation},
		{"NoIndex", s.noIndex},
		{"Replace", s.replace},
		{"ReplaceEmptyDeletes", s.replaceEmpty},
		{"Atomicity", s.atomicity},
		{"DeleteResource", s.deleteResource},
		{"DeleteCompany", s.deleteCompany},
		{"Exclude", s.exclude},
		{"K", s.k},
		{"DimensionMismatch", s.dimensionMismatch},
		{"EmbedderChanged", s.embedderChanged},
		{"Info", s.info},
		{"Scores", s.scores},
		{"HostileQueryText", s.hostileText},
		{"Cancellation", s.cancellation},
		{"Ping", s.ping},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t)
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func replace(t *testing.T, st retrieval.Store, company, resource uuid.UUID, ps []retrieval.Passage) {
	t.Helper()
	require.NoError(t, st.ReplaceResource(ctx(t), company, resource, Info, ps))
}

func search(t *testing.T, st retrieval.Store, company uuid.UUID, q retrieval.Query) []retrieval.Hit {
	t.Helper()
	hits, err := st.Search(ctx(t), company, q)
	require.NoError(t, err)
	return hits
}

func chunkSet(ps ...[]retrieval.Passage) map[uuid.UUID]bool {
	m := map[uuid.UUID]bool{}
	for _, p := range ps {
		for _, x := range p {
			m[x.ChunkID] = true
		}
	}
	return m
}

func texts(hits []retrieval.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Text
	}
	return out
}

func (s suite) isolation(t *testing.T) {
	st := s.newStore(t)
	a, b := uuid.New(), uuid.New()
	shared := uuid.New() // the same resource id in both companies
	onlyB := uuid.New()
	pa := Passages(shared, "Shipping", "We ship parcels within two days.", "Returns are free for thirty days.")
	pb := Passages(shared, "Zebracorn secrets", "The zebracorn vault code is quasar nebula 7781.", "Zebracorn refunds go through the purple desk.")
	pb2 := Passages(onlyB, "Zebracorn manual", "Feed the zebracorn quasar pellets every morning.")
	replace(t, st, a, shared, pa)
	replace(t, st, b, shared, pb)
	replace(t, st, b, onlyB, pb2)
	mine := chunkSet(pa)
	queries := append(texts(nil), "zebracorn vault code quasar nebula", "Zebracorn refunds go through the purple desk.",
		"ship returns", "*", "zebracorn OR ship", "")
	for _, p := range append(pb, pb2...) {
		queries = append(queries, p.Text, p.Title)
	}
	for _, qt := range queries {
		q := Q(qt, retrieval.MaxK)
		hits := search(t, st, a, q)
		for _, h := range hits {
			require.Truef(t, mine[h.ChunkID], "company A's search %q returned a passage it does not own: %q", qt, h.Text)
		}
		// B's exact vector too, with A's text.
		q.Text = "ship"
		for _, h := range search(t, st, a, q) {
			require.True(t, mine[h.ChunkID], "company A's search returned a passage it does not own: %q", h.Text)
		}
	}
	// B still sees its own, under the shared resource id.
	hits := search(t, st, b, Q("zebracorn vault code", 10))
	require.NotEmpty(t, hits)
	require.Contains(t, texts(hits), pb[0].Text)
	// Replacing the shared resource in A leaves B's untouched.
	replace(t, st, a, shared, Passages(shared, "Shipping", "Parcels ship the same day."))
	hits = search(t, st, b, Q("zebracorn vault code", 10))
	require.Contains(t, texts(hits), pb[0].Text)
	require.NoError(t, st.DeleteResource(ctx(t), a, shared))
	hits = search(t, st, b, Q("zebracorn refunds purple desk", 10))
	require.Contains(t, texts(hits), pb[1].Text)
	// Deleting B leaves A.
	replace(t, st, a, shared, pa)
	require.NoError(t, st.DeleteCompany(ctx(t), b))
	hits = search(t, st, a, Q("ship parcels", 10))
	require.Contains(t, texts(hits), pa[0].Text)
}

func (s suite) noIndex(t *testing.T) {
	st := s.newStore(t)
	c := uuid.New()
	_, ok, err := st.Info(ctx(t), c)
	require.NoError(t, err)
	require.False(t, ok)
	hits := search(t, st, c, Q("anything at all", 5))
	require.Empty(t, hits)
	require.NoError(t, st.DeleteResource(ctx(t), c, uuid.New()))
	require.NoError(t, st.DeleteCompany(ctx(t), c))
}

func (s suite) replace(t *testing.T) {
	st := s.newStore(t)
	c, r := uuid.New(), uuid.New()
	replace(t, st, c, r, Passages(r, "Policy", "alphaold one refund rules", "alphaold two refund rules"))
	hits := search(t, st, c, Q("alphaold refund", 10))
	require.Len(t, hits, 2)
	newer := Passages(r, "Policy", "betanew one refund rules", "betanew two refund rules", "betanew three refund rules")
	replace(t, st, c, r, newer)
	hits = search(t, st, c, Q("alphaold refund rules", 10))
	require.Len(t, hits, 3)
	for _, h := range hits {
		require.NotContains(t, h.Text, "alphaold")
		require.True(t, chunkSet(newer)[h.ChunkID])
	}
	hits = search(t, st, c, Q("betanew", 10))
	require.NotEmpty(t, hits)
	require.Contains(t, hits[0].Text, "betanew")
	require.Equal(t, r, hits[0].ResourceID)
}

func (s suite) replaceEmpty(t *testing.T) {
	st := s.newStore(t)
	c, r := uuid.New(), uuid.New()
	replace(t, st, c, r, Passages(r, "Policy", "refund rules"))
	replace(t, st, c, r, nil)
	require.Empty(t, search(t, st, c, Q("refund rules", 10)))
}

// atomicity replaces one resource over and over between two generations
// while searches run: every search sees one generation only.
func (s suite) atomicity(t *testing.T) {
	st := s.newStore(t)
	c, r := uuid.New(), uuid.New()
	gen := func(tok string) []retrieval.Passage {
		var ts []string
		for i := range 6 {
			ts = append(ts, fmt.Sprintf("%s passage %d about shipping", tok, i))
		}
		return Passages(r, "Shipping", ts...)
	}
	replace(t, st, c, r, gen("alphaold"))
	var stop atomic.Bool
	var wg sync.WaitGroup
	var searches atomic.Int64
	errs := make(chan error, 4)
	for range 3 {
		wg.Go(func() {
			for !stop.Load() {
				hits, err := st.Search(ctx(t), c, Q("alphaold betanew passage shipping", retrieval.MaxK))
				if err != nil {
					errs <- err
					return
				}
				searches.Add(1)
				var old, nw int
				for _, h := range hits {
					switch {
					case strings.Contains(h.Text, "alphaold"):
						old++
					case strings.Contains(h.Text, "betanew"):
						nw++
					}
				}
				if old > 0 && nw > 0 {
					errs <- fmt.Errorf("a search saw %d old and %d new passages: %q", old, nw, texts(hits))
					return
				}
				if len(hits) == 0 {
					errs <- errors.New("a search during replacement found nothing")
					return
				}
			}
		})
	}
	for i := range 20 {
		tok := "betanew"
		if i%2 == 1 {
			tok = "alphaold"
		}
		if err := st.ReplaceResource(ctx(t), c, r, Info, gen(tok)); err != nil {
			stop.Store(true)
			wg.Wait()
			require.NoError(t, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Positive(t, searches.Load())
}

func (s suite) deleteResource(t *testing.T) {
	st := s.newStore(t)
	c, r1, r2 := uuid.New(), uuid.New(), uuid.New()
	replace(t, st, c, r1, Passages(r1, "Warranty", "warranty covers two years"))
	replace(t, st, c, r2, Passages(r2, "Warranty extended", "extended warranty covers five years"))
	require.NoError(t, st.DeleteResource(ctx(t), c, r1))
	hits := search(t, st, c, Q("warranty covers years", 10))
	require.NotEmpty(t, hits)
	for _, h := range hits {
		require.Equal(t, r2, h.ResourceID)
	}
	require.NoError(t, st.DeleteResource(ctx(t), c, r1)) // twice is fine
	_, ok, err := st.Info(ctx(t), c)
	require.NoError(t, err)
	require.True(t, ok, "deleting a resource keeps the company's index")
}

func (s suite) deleteCompany(t *testing.T) {
	st := s.newStore(t)
	c, r := uuid.New(), uuid.New()
	replace(t, st, c, r, Passages(r, "Opening hours", "open from nine to five"))
	require.NoError(t, st.DeleteCompany(ctx(t), c))
	_, ok, err := st.Info(ctx(t), c)
	require.NoError(t, err)
	require.False(t, ok)
	require.Empty(t, search(t, st, c, Q("open from nine to five", 10)))
	// A new index may use another embedder and dimension.
	info := retrieval.IndexInfo{Embedder: "other", Dimension: 3}
	p := retrieval.Passage{ChunkID: uuid.New(), ResourceID: r, Text: "open late on fridays", Vector: []float32{1, 0, 0}}
	require.NoError(t, st.ReplaceResource(ctx(t), c, r, info, []retrieval.Passage{p}))
	got, ok, err := st.Info(ctx(t), c)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, info, got)
	hits, err := st.Search(ctx(t), c, retrieval.Query{Text: "open late fridays", Vector: []float32{1, 0, 0}})
	require.NoError(t, err)
	require.Len(t, hits, 1)
	require.Equal(t, p.ChunkID, hits[0].ChunkID)
}

func (s suite) exclude(t *testing.T) {
	st := s.newStore(t)
	c, r1, r2, r3 := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	replace(t, st, c, r1, Passages(r1, "Delivery", "delivery takes three days", "delivery is free over fifty"))
	replace(t, st, c, r2, Passages(r2, "Delivery abroad", "delivery abroad takes a week"))
	replace(t, st, c, r3, Passages(r3, "Delivery express", "express delivery takes one day"))
	hits := search(t, st, c, Q("delivery takes", 10, r1, r3))
	require.NotEmpty(t, hits)
	for _, h := range hits {
		require.Equal(t, r2, h.ResourceID)
	}
	require.Empty(t, search(t, st, c, Q("delivery takes", 10, r1, r2, r3)))
}

func (s suite) k(t *testing.T) {
	st := s.newStore(t)
	c := uuid.New()
	for i := range 35 {
		r := uuid.New()
		replace(t, st, c, r, Passages(r, fmt.Sprintf("Guide %d", i),
			fmt.Sprintf("common topic guide %d part one", i), fmt.Sprintf("common topic guide %d part two", i)))
	}
	for _, tc := range []struct{ k, want int }{{0, retrieval.DefaultK}, {-3, retrieval.DefaultK}, {1, 1}, {7, 7}, {50, 50}, {1000, retrieval.MaxK}} {
		hits := search(t, st, c, Q("common topic guide", tc.k))
		require.Lenf(t, hits, tc.want, "K=%d", tc.k)
	}
}

func (s suite) dimensionMismatch(t *testing.T) {
	st := s.newStore(t)
	c, r := uuid.New(), uuid.New()
	replace(t, st, c, r, Passages(r, "Hours", "open from nine"))
	// Another dimension than the index's.
	other := retrieval.IndexInfo{Embedder: Info.Embedder, Dimension: 3}
	p := retrieval.Passage{ChunkID: uuid.New(), ResourceID: r, Text: "closed sundays", Vector: []float32{1, 0, 0}}
	err := st.ReplaceResource(ctx(t), c, r, other, []retrieval.Passage{p})
	require.ErrorIs(t, err, retrieval.ErrDimensionMismatch)
	// A vector that does not match its own info.
	bad := Passages(r, "Hours", "closed sundays")
	bad[0].Vector = bad[0].Vector[:Dim-1]
	err = st.ReplaceResource(ctx(t), c, r, Info, bad)
	require.ErrorIs(t, err, retrieval.ErrDimensionMismatch)
	err = st.ReplaceResource(ctx(t), c, uuid.New(), Info, bad)
	require.ErrorIs(t, err, retrieval.ErrDimensionMismatch)
	// A fresh company whose first passages do not match their info.
	err = st.ReplaceResource(ctx(t), uuid.New(), r, Info, bad)
	require.ErrorIs(t, err, retrieval.ErrDimensionMismatch)
	// Nothing was written.
	hits := search(t, st, c, Q("open from nine closed sundays", 10))
	require.Len(t, hits, 1)
	require.Equal(t, "open from nine", hits[0].Text)
	// A query vector of another dimension.
	_, err = st.Search(ctx(t), c, retrieval.Query{Text: "open", Vector: []float32{1, 0}})
	require.ErrorIs(t, err, retrieval.ErrDimensionMismatch)
}

func (s suite) embedderChanged(t *testing.T) {
	st := s.newStore(t)
	c, r := uuid.New(), uuid.New()
	replace(t, st, c, r, Passages(r, "Hours", "open from nine"))
	other := retrieval.IndexInfo{Embedder: "another-model", Dimension: Dim}
	err := st.ReplaceResource(ctx(t), c, uuid.New(), other, Passages(r, "Hours", "closed sundays"))
	require.ErrorIs(t, err, retrieval.ErrEmbedderChanged)
	got, _, err := st.Info(ctx(t), c)
	require.NoError(t, err)
	require.Equal(t, Info, got)
}

func (s suite) info(t *testing.T) {
	st := s.newStore(t)
	c, r := uuid.New(), uuid.New()
	replace(t, st, c, r, Passages(r, "Hours", "open from nine"))
	got, ok, err := st.Info(ctx(t), c)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, Info, got)
	_, ok, err = st.Info(ctx(t), uuid.New())
	require.NoError(t, err)
	require.False(t, ok)
}

func (s suite) scores(t *testing.T) {
	st := s.newStore(t)
	c := uuid.New()
	var want retrieval.Passage
	for i := range 12 {
		r := uuid.New()
		ps := Passages(r, fmt.Sprintf("Doc %d", i),
			fmt.Sprintf("payment methods include card number %d", i),
			fmt.Sprintf("unrelated words about gardening %d", i),
			"tomatoes need sunlight and water")
		replace(t, st, c, r, ps)
		if i == 5 {
			want = ps[0]
		}
	}
	hits := search(t, st, c, Q("payment methods include card number 5", 20))
	require.NotEmpty(t, hits)
	require.Equal(t, want.ChunkID, hits[0].ChunkID, "the exact passage ranks first")
	// Fields round-trip.
	got := hits[0].Passage
	require.Equal(t, want.ResourceID, got.ResourceID)
	require.Equal(t, want.Title, got.Title)
	require.Equal(t, want.Heading, got.Heading)
	require.Equal(t, want.URL, got.URL)
	require.Equal(t, want.Page, got.Page)
	require.Equal(t, want.Ordinal, got.Ordinal)
	require.Equal(t, want.Text, got.Text)
	for i, h := range hits {
		require.GreaterOrEqual(t, h.Score, 0.0)
		require.LessOrEqual(t, h.Score, 1.0)
		require.False(t, math.IsNaN(h.Score))
		if i > 0 {
			require.LessOrEqualf(t, h.Score, hits[i-1].Score, "hits are sorted best first")
		}
	}
}

func (s suite) hostileText(t *testing.T) {
	st := s.newStore(t)
	c, r := uuid.New(), uuid.New()
	replace(t, st, c, r, Passages(r, "Refunds", "refund policy: thirty days", `quotes " and 'apostrophes' (parens) *stars* col:on`))
	for _, qt := range []string{
		`"`, `""`, `"refund`, `refund"`, `'`, `(`, `)`, `*`, `refund*`, `^refund`, `-refund`, `+refund`,
		`NEAR(refund policy)`, `refund NEAR policy`, `title:refund`, `text:refund`, `{title text}:refund`,
		`AND`, `OR`, `NOT`, `refund AND`, `OR refund`, `NOT NOT`, `refund OR OR policy`, `:`, `;`, `\`,
		`' OR 1=1 --`, `"); DROP TABLE passages; --`, "\x00", "ref\x00und", "\xff\xfe", "👍 refund", "réfund",
		`%`, `_`, `[refund]`, `refund policy: thirty days`,
	} {
		_, err := st.Search(ctx(t), c, Q(qt, 5))
		require.NoErrorf(t, err, "query %q", qt)
	}
	hits := search(t, st, c, Q(`"refund" AND policy:`, 5))
	require.NotEmpty(t, hits)
}

func (s suite) cancellation(t *testing.T) {
	st := s.newStore(t)
	c, r := uuid.New(), uuid.New()
	replace(t, st, c, r, Passages(r, "Hours", "open from nine"))
	cctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	_, err := st.Search(cctx, c, Q("open", 5))
	require.ErrorIs(t, err, context.Canceled)
	err = st.ReplaceResource(cctx, c, r, Info, Passages(r, "Hours", "closed"))
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, time.Since(start), time.Second)
	// The cancelled replacement changed nothing.
	hits := search(t, st, c, Q("open from nine", 5))
	require.Len(t, hits, 1)
	require.Equal(t, "open from nine", hits[0].Text)
}

func (s suite) ping(t *testing.T) {
	st := s.newStore(t)
	require.NoError(t, st.Ping(ctx(t)))
}
