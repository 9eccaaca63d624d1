package weaviate_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/retrieval"
	"concierge/retrieval/weaviate"
)

// go test -run '^$' -bench Search -benchtime 500x ./retrieval/weaviate/
func BenchmarkSearch10k(b *testing.B)  { benchSearch(b, 10_000) }
func BenchmarkSearch100k(b *testing.B) { benchSearch(b, 100_000) }

const (
	benchDim         = 384
	benchPerResource = 250
)

type corpus struct {
	vocab   []string
	centers [][]float32
}

func newCorpus(rng *rand.Rand, resources int) *corpus {
	c := &corpus{}
	syll := []string{"ka", "lo", "mi", "ne", "ra", "to", "su", "vi", "de", "po", "an", "el", "or", "un", "is"}
	for len(c.vocab) < 3000 {
		var w strings.Builder
		for range 2 + rng.IntN(3) {
			w.WriteString(syll[rng.IntN(len(syll))])
		}
		c.vocab = append(c.vocab, w.String())
	}
	for range resources {
		c.centers = append(c.centers, randUnit(rng, nil, 0))
	}
	return c
}

// randUnit is a random unit vector, near center when given.
func randUnit(rng *rand.Rand, center []float32, noise float64) []float32 {
	v := make([]float32, benchDim)
	var n float64
	for i := range v {
		x := rng.NormFloat64()
		if center != nil {
			x = float64(center[i]) + noise*x/math.Sqrt(benchDim)
		}
		v[i] = float32(x)
		n += x * x
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
	return v
}

// words draws n words with a Zipf-like distribution: the first hundred
// words of the vocabulary are as frequent as English stopwords.
func (c *corpus) words(rng *rand.Rand, n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = c.vocab[int(float64(len(c.vocab))*math.Pow(rng.Float64(), 3))]
	}
	return strings.Join(ws, " ")
}

// question draws n content words (not among the hundred most frequent):
// like a real question once its stopwords are gone.
func (c *corpus) question(rng *rand.Rand, n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = c.vocab[100+int(float64(len(c.vocab)-100)*math.Pow(rng.Float64(), 2))]
	}
	return strings.Join(ws, " ")
}

var (
	benchMu      sync.Mutex
	benchIndexes = map[int]uuid.UUID{}
)

func benchSearch(b *testing.B, n int) {
	need(b)
	st := newStore(b, weaviate.Config{GRPC: serverGRPC})
	rng := rand.New(rand.NewPCG(uint64(n), 1))
	resources := n / benchPerResource
	corp := newCorpus(rng, resources)
	info := retrieval.IndexInfo{Embedder: "bench-random", Dimension: benchDim}

	benchMu.Lock()
	company, ok := benchIndexes[n]
	if !ok {
		company = uuid.New()
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, resources)
		sem := make(chan struct{}, 2)
		for r := range resources {
			ps := make([]retrieval.Passage, benchPerResource)
			res := uuid.New()
			for i := range ps {
				ps[i] = retrieval.Passage{
					ChunkID: uuid.New(), ResourceID: res, Ordinal: i,
					Title: corp.words(rng, 3), Heading: corp.words(rng, 4), URL: "https://example.com/doc",
					Text: corp.words(rng, 60), Vector: randUnit(rng, corp.centers[r], 1),
				}
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				defer cancel()
				if err := st.ReplaceResource(ctx, company, res, info, ps); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(b, err)
		}
		el := time.Since(start)
		b.Logf("indexed %d chunks (%d resources, dim %d) in %s: %.0f chunks/s", n, resources, benchDim, el.Round(time.Millisecond), float64(n)/el.Seconds())
		benchIndexes[n] = company
		// Searches are measured in steady state: once Weaviate has flushed
		// the fresh writes from its memtables (after 5s with
		// scripts/weaviate.sh; BM25 over a big memtable is much slower).
		time.Sleep(8 * time.Second)
		b.Cleanup(func() {
			benchMu.Lock()
			delete(benchIndexes, n)
			benchMu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			st.DeleteCompany(ctx, company)
		})
	}
	benchMu.Unlock()

	queries := make([]retrieval.Query, 256)
	for i := range queries {
		queries[i] = retrieval.Query{
			Text:   corp.question(rng, 2+rng.IntN(5)),
			Vector: randUnit(rng, corp.centers[rng.IntN(resources)], 1.5),
			K:      retrieval.DefaultK,
		}
	}
	ctx := context.Background()
	for i := range 20 { // warm up
		_, err := st.Search(ctx, company, queries[i])
		require.NoError(b, err)
	}
	var lat []time.Duration
	i := 0
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		hits, err := st.Search(ctx, company, queries[i%len(queries)])
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if len(hits) == 0 {
			b.Fatal("no hits")
		}
		i++
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.Log(fmt.Sprintf("%d searches over %d chunks: p50 %.2f ms, p95 %.2f ms, p99 %.2f ms", len(lat), n, pct(0.5), pct(0.95), pct(0.99)))
}
