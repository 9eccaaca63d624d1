package embedded

import (
	"database/sql"
	"errors"

	"concierge/retrieval/internal/terms"
)

// Scoring. Reciprocal rank fusion ranks well but its values mean nothing
// on their own (the best hit of a nonsense query still has rank 1), so a
// hit's Score mixes it with two absolute signals, each in [0, 1]:
//
//   - semantic: the cosine of the query and passage vectors, scaled so
//     that cosSaturation counts as a perfect match (lexical embedders give
//     modest cosines even for a passage that answers the query);
//   - lexical: the share of the query's content words (stemmed) found in
//     the passage's title, heading or text, a word absent but whose first
//     letters begin a passage word counting half (typos), multiplied by
//     0.5 + 0.5·bm25/best bm25 of the query, so the BM25 order shows;
//   - fused: RRF divided by its maximum (rank 1 in both lists).
//
// Score = semanticWeight·semantic + lexicalWeight·lexical + fusedWeight·fused.
// A query whose words a passage does not contain scores low however it
// ranks, which is what makes retrieval.Service's threshold meaningful.
const (
	cosSaturation  = 0.6
	semanticWeight = 0.35
	lexicalWeight  = 0.45
	fusedWeight    = 0.20
)

func score(cd *candidate, qterms []string, maxBM25 float64) float64 {
	sem := 0.0
	if cd.cos > 0 {
		sem = clamp01(cd.cos / cosSaturation)
	}
	lex := coverage(qterms, cd.hit.Title+" \n "+cd.hit.Heading+" \n "+cd.hit.Text)
	if maxBM25 > 0 {
		lex *= 0.5 + 0.5*clamp01(cd.bm25/maxBM25)
	} else {
		lex *= 0.5
	}
	fused := clamp01(cd.rrf * float64(rrfK+1) / 2)
	return clamp01(semanticWeight*sem + lexicalWeight*lex + fusedWeight*fused)
}

// coverage is the share of qterms (stemmed content words) found in text.
// A query has a few terms, so each word of text is compared with them
// directly, and the scan stops stemming once every term is found.
func coverage(qterms []string, text string) float64 {
	if len(qterms) == 0 {
		return 0
	}
	const (
		none = iota
		prefix
		exact
	)
	found := make([]uint8, len(qterms))
	left := len(qterms)
	terms.Words(text, func(w string) {
		if left == 0 {
			return
		}
		st := terms.Stem(w)
		for i, q := range qterms {
			switch {
			case found[i] == exact:
			case st == q:
				found[i] = exact
				left--
			case found[i] == none && len(q) > prefixLen && len(w) >= prefixLen && w[:prefixLen] == q[:prefixLen]:
				found[i] = prefix
			}
		}
	})
	var got float64
	for _, f := range found {
		switch f {
		case exact:
			got++
		case prefix:
			got += 0.5
		}
	}
	return got / float64(len(qterms))
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
