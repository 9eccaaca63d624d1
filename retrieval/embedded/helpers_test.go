package embedded_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/retrieval"
	"concierge/retrieval/embed"
	"concierge/viewer"
)

// bundle is a Service on a fresh embedded store with the local embedder,
// and a context acting for one company.
type bundle struct {
	svc *retrieval.Service
	ctx context.Context
	dir string
}

func setup(tb testing.TB) *bundle {
	tb.Helper()
	dir := tb.TempDir()
	st := open(tb, dir)
	return &bundle{
		svc: retrieval.NewService(st, embed.NewLocal()),
		ctx: viewer.SystemContext(tb.Context(), uuid.New()),
		dir: dir,
	}
}

func (b *bundle) index(tb testing.TB, title string, sections ...[2]string) uuid.UUID {
	tb.Helper()
	r := uuid.New()
	ps := make([]retrieval.Passage, len(sections))
	for i, s := range sections {
		ps[i] = retrieval.Passage{Ordinal: i, Title: title, Heading: s[0], Text: s[1]}
	}
	require.NoError(tb, b.svc.IndexResource(b.ctx, r, ps))
	return r
}

func (b *bundle) search(tb testing.TB, q string, k int) []retrieval.Hit {
	tb.Helper()
	hits, err := b.svc.Search(b.ctx, q, k, nil)
	require.NoError(tb, err)
	return hits
}

// synth generates support-like filler text from a Zipf-distributed
// vocabulary of pseudo-words mixed with common English.
type synth struct {
	rng   *rand.Rand
	zipf  *rand.Zipf
	vocab []string
}

var common = strings.Fields(`the a to of and for your you our is are in on with can be will please this that order account
	product service customer support team time days help information contact page use new get more if not it we`)

func newSynth(seed uint64) *synth {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	syl := strings.Fields("ka lo mi ne su ta ri po be da fe gu hi jo ku la me no pu re si to vu wa ze xi yo bra stel")
	vocab := make([]string, 20000)
	seen := map[string]bool{}
	for i := range vocab {
		for {
			var b strings.Builder
			for range 2 + rng.IntN(3) {
				b.WriteString(syl[rng.IntN(len(syl))])
			}
			if w := b.String(); !seen[w] {
				seen[w] = true
				vocab[i] = w
				break
			}
		}
	}
	return &synth{rng: rng, zipf: rand.NewZipf(rng, 1.1, 2, uint64(len(vocab)-1)), vocab: vocab}
}

func (s *synth) text(words int) string {
	var b strings.Builder
	for i := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		if s.rng.IntN(3) == 0 {
			b.WriteString(common[s.rng.IntN(len(common))])
		} else {
			b.WriteString(s.vocab[s.zipf.Uint64()])
		}
	}
	return b.String()
}

// fill indexes n generated chunks in resources of perResource chunks.
func (b *bundle) fill(tb testing.TB, s *synth, n, perResource int) {
	tb.Helper()
	for done := 0; done < n; done += perResource {
		m := min(perResource, n-done)
		ps := make([]retrieval.Passage, m)
		title := s.text(3)
		for i := range ps {
			ps[i] = retrieval.Passage{Ordinal: i, Title: title, Heading: s.text(2), Text: s.text(60)}
		}
		require.NoError(tb, b.svc.IndexResource(b.ctx, uuid.New(), ps))
	}
}

func (s *synth) query() string {
	return fmt.Sprintf("%s %s %s", s.vocab[s.zipf.Uint64()], s.vocab[s.rng.IntN(2000)], s.vocab[s.rng.IntN(len(s.vocab))])
}
