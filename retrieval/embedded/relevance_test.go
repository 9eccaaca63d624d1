package embedded_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/retrieval"
	"concierge/retrieval/embed"
)

// corpus is a small help centre.
func corpus(t testing.TB, b *bundle) map[string]uuid.UUID {
	ids := map[string]uuid.UUID{}
	ids["refund"] = b.index(t, "Refund policy",
		[2]string{"Eligibility", "You can ask for a refund within 30 days of purchase if the item is unused and in its original packaging."},
		[2]string{"How refunds are paid", "We pay the money back to the original payment method within 5 business days."})
	ids["canada"] = b.index(t, "Shipping to Canada",
		[2]string{"Costs and delays", "Delivery takes 5 to 7 business days and costs $15 per parcel."})
	ids["password"] = b.index(t, "Account help",
		[2]string{"Resetting your password", "Click 'Forgot password' on the sign-in page and follow the link we email you."},
		[2]string{"Deleting your account", "Write to support and we will delete your account and data within 48 hours."})
	ids["hours"] = b.index(t, "Contact us",
		[2]string{"Opening hours", "Our support team answers Monday to Friday, 9am to 6pm Central European Time."})
	ids["warranty"] = b.index(t, "Warranty",
		[2]string{"Coverage", "Every product carries a two-year warranty covering manufacturing defects."})
	ids["gift"] = b.index(t, "Gift cards",
		[2]string{"Using a gift card", "Gift cards never expire and can be combined with discount codes at checkout."})
	return ids
}

func TestRelevance(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ids := corpus(t, b)
	for _, tc := range []struct{ q, want string }{
		{"refunds", "refund"},
		{"refund", "refund"},
		{"Can I get refunded?", "refund"},
		{"refnd policy", "refund"},                          // typo
		{"how much does shipping to Canada cost", "canada"}, // the title carries "Canada"
		{"when are you open", "hours"},                      // the heading carries "open"
		{"I forgot my password", "password"},
		{"réset passwörd", "password"}, // accents
		{"warranties", "warranty"},
		{"do gift cards expire", "gift"},
	} {
		hits := b.search(t, tc.q, 5)
		require.NotEmpty(t, hits, tc.q)
		require.Equalf(t, ids[tc.want], hits[0].ResourceID, "%q: top hit %q", tc.q, hits[0].Text)
		require.NotEmptyf(t, b.svc.Relevant(hits), "%q: top score %.3f under the threshold", tc.q, hits[0].Score)
		t.Logf("%-40q top %.3f", tc.q, hits[0].Score)
	}
	// Questions the knowledge does not answer fall under the threshold.
	for _, q := range []string{"quantum chromodynamics on a lattice", "best pizza recipe with anchovies", "xyzzy plugh", "what is the capital of Peru"} {
		hits := b.search(t, q, 5)
		top := 0.0
		if len(hits) > 0 {
			top = hits[0].Score
		}
		t.Logf("%-40q top %.3f (irrelevant)", q, top)
		require.Emptyf(t, b.svc.Relevant(hits), "%q: %v", q, hits)
	}
}

func TestDiversification(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := newSynth(7)
	long := make([][2]string, 200)
	for i := range long {
		long[i] = [2]string{fmt.Sprintf("Chapter %d", i), "The warranty terms are discussed here. " + s.text(40)}
	}
	longID := b.index(t, "Complete product manual warranty edition", long...)
	short := b.index(t, "Warranty length", [2]string{"", "How long is the warranty? Two years from delivery, parts and labour included."})
	hits := b.search(t, "how long is the warranty", 5)
	require.Len(t, hits, 5)
	var sawShort bool
	perResource := map[uuid.UUID]int{}
	for _, h := range hits {
		perResource[h.ResourceID]++
		sawShort = sawShort || h.ResourceID == short
	}
	require.True(t, sawShort, "the short resource is in the top 5")
	// Only two resources match, so the long one fills the rest.
	require.Equal(t, 4, perResource[longID])
	require.Equal(t, short, hits[0].ResourceID)
}

func TestPersistence(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ids := corpus(t, b)
	require.NoError(t, b.svc.Close())
	st := open(t, b.dir)
	hits, err := st.Search(t.Context(), mustTenant(b), retrieval.Query{Text: "refund", K: 3})
	require.NoError(t, err)
	require.NotEmpty(t, hits)
	require.Equal(t, ids["refund"], hits[0].ResourceID)
	info, ok, err := st.Info(t.Context(), mustTenant(b))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, embed.NewLocal().Name(), info.Embedder)
}

// TestLarge indexes 100,000 generated chunks and finds a planted passage.
func TestLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 chunks: run without -short")
	}
	b := setup(t)
	s := newSynth(1)
	start := time.Now()
	b.fill(t, s, 100_000, 200)
	t.Logf("indexed 100,000 chunks in %v", time.Since(start))
	planted := b.index(t, "Lost luggage", [2]string{"Claims", "Report lost luggage at the zebracorn desk within 24 hours."})
	for _, q := range []string{"lost luggage", "where do I report lost lugage", "zebracorn desk"} {
		start = time.Now()
		hits := b.search(t, q, 5)
		t.Logf("%q in %v", q, time.Since(start))
		require.NotEmpty(t, hits)
		require.Equal(t, planted, hits[0].ResourceID, q)
		require.NotEmpty(t, b.svc.Relevant(hits))
	}
	for range 5 {
		q := s.query()
		hits := b.search(t, q, 10)
		require.NotEmpty(t, hits, q)
		for i := 1; i < len(hits); i++ {
			require.LessOrEqual(t, hits[i].Score, hits[i-1].Score)
		}
	}
}

func mustTenant(b *bundle) uuid.UUID {
	id, _ := authTenant(b)
	return id
}

func TestQueryTerms(t *testing.T) {
	t.Parallel()
	b := setup(t)
	corpus(t, b)
	// Operators are words, never syntax.
	for _, q := range []string{`refund OR NOT "policy"`, `title:refund`, `NEAR(refund policy, 2)`, strings.Repeat("refund ", 500)} {
		_, err := b.svc.Search(b.ctx, q, 5, nil)
		require.NoError(t, err, q)
	}
}
