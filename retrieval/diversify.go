package retrieval

import (
	"slices"

	"github.com/google/uuid"
)

// PerResource is how many passages of one resource a store's top K holds
// unless too few resources match to fill K, so that one long document
// cannot crowd out the answer.
const PerResource = 2

// Diversify returns the k best hits holding at most PerResource passages
// of one resource (topped up with the best skipped ones when too few
// resources match), sorted by score, best first. Ties keep their order.
func Diversify(hits []Hit, k int) []Hit {
	byScore := func(a, b Hit) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	}
	slices.SortStableFunc(hits, byScore)
	out := make([]Hit, 0, min(k, len(hits)))
	var skipped []Hit
	per := map[uuid.UUID]int{}
	for _, h := range hits {
		if len(out) == k {
			break
		}
		if per[h.ResourceID] >= PerResource {
			skipped = append(skipped, h)
			continue
		}
		per[h.ResourceID]++
		out = append(out, h)
	}
	for _, h := range skipped {
		if len(out) == k {
			break
		}
		out = append(out, h)
	}
	slices.SortStableFunc(out, byScore)
	return out
}
