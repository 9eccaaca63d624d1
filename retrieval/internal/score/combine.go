package score

import "math"

// Scoring. Rank fusion ranks well but its values mean nothing on their
// own (the best hit of a nonsense query still has rank 1), so a hit's
// score mixes it with absolute signals, each in [0, 1]:
//
//   - semantic: the cosine of the query and passage vectors, scaled so
//     that CosSaturation counts as a perfect match (lexical embedders give
//     modest cosines even for a passage that answers the query);
//   - lexical: the IDF-weighted share of the query's content words found in
//     the passage (Coverage: a rare word counts more than a common one, a
//     word in every passage, such as the resource's title, almost nothing;
//     a typo counts only when it is one or two edits from an indexed word),
//     multiplied by 0.6 + 0.4·bm25/best bm25 of the query, so the BM25
//     order shows, plus a bonus for words of the heading;
//   - fused: the rank fusion value divided by its maximum (rank 1 in both
//     lists), scaled by the coverage, so that ranking first on weak
//     evidence earns little.
//
// Score = SemanticWeight·semantic + LexicalWeight·lexical + FusedWeight·fused.
// A query whose words a passage does not contain scores low however it
// ranks, which is what makes retrieval.Service's threshold meaningful, and
// every store computing its scores with Combine makes it mean the same.
const (
	CosFloor       = 0.0
	CosSaturation  = 0.4
	SemanticWeight = 0.50
	LexicalWeight  = 0.45
	FusedWeight    = 0.05
	HeadingBonus   = 0.15
)

// Signals are a candidate's rank-based evidence.
type Signals struct {
	// Cos is the cosine of the query and passage vectors (-1 when unknown).
	Cos float64
	// BM25 is the passage's (positive) BM25 score for the query, 0 when it
	// is no keyword match; MaxBM25 the best of the query's candidates (0:
	// none).
	BM25, MaxBM25 float64
	// Fused is the reciprocal rank fusion value over its maximum (1: first
	// in both rankings); values over 1 count as 1.
	Fused float64
}

// Combine is the score of a passage with signals sig and match m (m from
// Coverage), in [0, 1].
func Combine(sig Signals, m Match) float64 {
	sem := Clamp01((sig.Cos - CosFloor) / (CosSaturation - CosFloor))
	lex := m.Coverage
	if sig.MaxBM25 > 0 {
		lex *= 0.6 + 0.4*Clamp01(sig.BM25/sig.MaxBM25)
	} else {
		lex *= 0.6
	}
	lex = Clamp01(lex + HeadingBonus*m.Heading)
	fused := Clamp01(sig.Fused) * m.Coverage
	return Clamp01(SemanticWeight*sem + LexicalWeight*lex + FusedWeight*fused)
}

// Clamp01 is x within [0, 1], NaN as 0.
func Clamp01(x float64) float64 {
	if math.IsNaN(x) || x < 0 {
		return 0
	}
	return min(x, 1)
}
