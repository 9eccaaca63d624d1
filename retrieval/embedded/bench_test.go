package embedded_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/retrieval"
)

func benchSearch(b *testing.B, n int) {
	bd := setup(b)
	s := newSynth(3)
	bd.fill(b, s, n, 200)
	queries := make([]string, 200)
	for i := range queries {
		queries[i] = s.query()
	}
	bd.search(b, queries[0], 5) // warm
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		_, err := bd.svc.Search(bd.ctx, queries[i%len(queries)]+" "+queries[(i+7)%len(queries)][:3], 5, nil)
		lat = append(lat, time.Since(start))
		require.NoError(b, err)
	}
	slices.Sort(lat)
	ms := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.95), "p95-ms")
}

func BenchmarkSearch10k(b *testing.B)  { benchSearch(b, 10_000) }
func BenchmarkSearch100k(b *testing.B) { benchSearch(b, 100_000) }

// BenchmarkIndex measures indexing through Service (local embedder, no
// cache hits) in resources of 100 chunks of ~60 words.
func BenchmarkIndex(b *testing.B) {
	bd := setup(b)
	s := newSynth(5)
	batches := make([][]retrieval.Passage, 20)
	for i := range batches {
		batches[i] = make([]retrieval.Passage, 100)
		for j := range batches[i] {
			batches[i][j] = retrieval.Passage{Ordinal: j, Title: s.text(3), Heading: s.text(2), Text: s.text(60)}
		}
	}
	chunks := 0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ps := slices.Clone(batches[i%len(batches)])
		for j := range ps {
			ps[j].Text += " " + uuid.NewString() // defeat the cache
		}
		require.NoError(b, bd.svc.IndexResource(bd.ctx, uuid.New(), ps))
		chunks += len(ps)
	}
	b.ReportMetric(float64(chunks)/b.Elapsed().Seconds(), "chunks/s")
}
