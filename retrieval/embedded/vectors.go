package embedded

import (
	"runtime"
	"slices"
	"sync"

	"github.com/google/uuid"
)

// The in-memory vectors of a company, laid out for an exact scan.
//
// Vectors are stored column-major in blocks of blockRows rows: column d of a
// block holds dimension d of each of its rows, contiguously. The cosine of
// a (unit) query with every row of a block is then a sum, over the query's
// nonzero dimensions only, of the query's value times a column: dimensions
// where the query is zero cost nothing. That is exact (the same products
// are summed, only in another order), and it pays off for sparse queries,
// which is what the local embedder gives a short question (40-90 nonzero
// dimensions of 384); a dense query costs about what a row-major scan does.
//
// Each row records its passage's rowid (0 marks a free slot) and segment
// (the resource's rows). Removing a resource frees its slots, later rows
// fill them, and the blocks are compacted when more than half the slots are
// free, so the scan never covers more than twice the live rows.

// blockRows is the number of rows of a full block; a company's last block
// grows up to it, so a small company holds a small block.
const blockRows = 1024

// segment is one resource's rows.
type segment struct {
	resource uuid.UUID
	slots    []int32 // global slot: block*blockRows + row
}

// vecIndex is the vectors of one company. Its user synchronises access
// (company.mu): writes are exclusive, searches shared.
type vecIndex struct {
	dim    int
	blocks []*vblock
	live   int
	free   []int32 // free slots, reused by the next rows
}

type vblock struct {
	n      int       // rows in use (live or free)
	stride int       // allocated rows per column
	cols   []float32 // dim*stride: column d is cols[d*stride : d*stride+n]
	rowids []int64   // per row; 0 for a free slot
	segs   []*segment
}

func newVecIndex(dim int) *vecIndex { return &vecIndex{dim: dim} }

// len is the number of live rows.
func (x *vecIndex) len() int { return x.live }

// slots is the number of rows in use, live or free.
func (x *vecIndex) slots() int {
	if len(x.blocks) == 0 {
		return 0
	}
	return (len(x.blocks)-1)*blockRows + x.blocks[len(x.blocks)-1].n
}

// add stores the unit vectors vecs (row-major, dim each) of rowids as seg's
// rows.
func (x *vecIndex) add(seg *segment, rowids []int64, vecs []float32) {
	seg.slots = slices.Grow(seg.slots[:0], len(rowids))
	for i, rowid := range rowids {
		slot := x.take()
		x.put(slot, rowid, seg, vecs[i*x.dim:(i+1)*x.dim])
		seg.slots = append(seg.slots, slot)
	}
	x.live += len(rowids)
}

// take returns a free slot, or a new one at the end.
func (x *vecIndex) take() int32 {
	if n := len(x.free); n > 0 {
		s := x.free[n-1]
		x.free = x.free[:n-1]
		return s
	}
	b := x.last()
	b.n++
	return int32((len(x.blocks)-1)*blockRows + b.n - 1)
}

// last returns the block new rows go to, with room for one more row.
func (x *vecIndex) last() *vblock {
	if len(x.blocks) > 0 {
		b := x.blocks[len(x.blocks)-1]
		if b.n < b.stride {
			return b
		}
		if b.stride < blockRows {
			b.grow(x.dim, min(blockRows, 2*b.stride))
			return b
		}
	}
	b := &vblock{}
	b.grow(x.dim, 16)
	x.blocks = append(x.blocks, b)
	return b
}

func (b *vblock) grow(dim, stride int) {
	cols := make([]float32, dim*stride)
	for d := range dim {
		copy(cols[d*stride:d*stride+b.n], b.cols[d*b.stride:d*b.stride+b.n])
	}
	b.cols, b.stride = cols, stride
	b.rowids = slices.Grow(b.rowids, stride-len(b.rowids))[:stride]
	b.segs = slices.Grow(b.segs, stride-len(b.segs))[:stride]
}

func (x *vecIndex) put(slot int32, rowid int64, seg *segment, v []float32) {
	b, r := x.blocks[slot/blockRows], int(slot%blockRows)
	b.rowids[r], b.segs[r] = rowid, seg
	for d, f := range v {
		b.cols[d*b.stride+r] = f
	}
}

// remove frees seg's rows, compacting the blocks if most slots are free.
func (x *vecIndex) remove(seg *segment) {
	for _, slot := range seg.slots {
		b, r := x.blocks[slot/blockRows], int(slot%blockRows)
		b.rowids[r], b.segs[r] = 0, nil
		x.free = append(x.free, slot)
	}
	x.live -= len(seg.slots)
	seg.slots = nil
	if x.live == 0 {
		x.blocks, x.free = nil, nil
		return
	}
	if len(x.free) > 64 && len(x.free) > x.live {
		x.compact()
	}
}

// compact moves the live rows to the front, in order, and drops the free
// slots and the blocks left empty. It runs under the write lock, in place:
// every row moves to a lower slot, so a column-wise gather in slot order
// never overwrites a row it has yet to read.
func (x *vecIndex) compact() {
	remap := make([]int32, len(x.blocks)*blockRows)
	pos := 0 // next slot
	var live []int32
	for bi, b := range x.blocks {
		live = live[:0]
		for r := range b.n {
			if b.rowids[r] != 0 {
				live = append(live, int32(r))
			}
		}
		// The live rows go to pos, pos+1, ...: in one or two blocks.
		for len(live) > 0 {
			nb, off := x.blocks[pos/blockRows], pos%blockRows
			run := live[:min(len(live), blockRows-off)]
			for d := range x.dim {
				src := b.cols[d*b.stride : d*b.stride+b.n]
				dst := nb.cols[d*nb.stride+off:][:len(run)]
				for k, r := range run {
					dst[k] = src[r]
				}
			}
			for k, r := range run {
				nb.rowids[off+k], nb.segs[off+k] = b.rowids[r], b.segs[r]
				remap[bi*blockRows+int(r)] = int32(pos + k)
			}
			pos += len(run)
			live = live[len(run):]
		}
	}
	keep := (pos + blockRows - 1) / blockRows
	clear(x.blocks[keep:])
	x.blocks, x.free = x.blocks[:keep], nil
	for i, b := range x.blocks {
		b.n = min(blockRows, pos-i*blockRows)
		clear(b.rowids[b.n:])
		clear(b.segs[b.n:])
	}
	done := map[*segment]bool{}
	for _, b := range x.blocks {
		for _, sg := range b.segs[:b.n] {
			if sg == nil || done[sg] {
				continue
			}
			done[sg] = true
			for i, s := range sg.slots {
				sg.slots[i] = remap[s]
			}
		}
	}
}

type scored struct {
	rowid    int64
	resource uuid.UUID
	score    float32
}

// better orders hits by score, then rowid: a total order, so the top n is
// the same however the scan is split.
func better(a, b scored) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.rowid < b.rowid
}

// parallelRows is the size from which a scan is split over the CPUs.
const parallelRows = 8192

// nearest returns the n live rows with the largest dot product with the
// unit vector qv (their cosine), best first, skipping the segments skip
// reports (skip may be nil). It scans every row: the result is exact.
func (x *vecIndex) nearest(qv []float32, n int, skip func(*segment) bool) []scored {
	if x.live == 0 || n <= 0 {
		return nil
	}
	// The query's nonzero dimensions.
	nz := make([]int32, 0, len(qv))
	qs := make([]float32, 0, len(qv))
	for d, f := range qv {
		if f != 0 {
			nz = append(nz, int32(d))
			qs = append(qs, f)
		}
	}
	workers := 1
	if x.slots() >= parallelRows {
		workers = min(runtime.GOMAXPROCS(0), len(x.blocks))
	}
	parts := make([]topN, workers)
	scan := func(w int) {
		lo, hi := w*len(x.blocks)/workers, (w+1)*len(x.blocks)/workers
		t := topN{n: n, h: make([]scored, 0, n)}
		var out [blockRows]float32
		for _, b := range x.blocks[lo:hi] {
			o := out[:b.n]
			scoreBlock(o, b.cols, b.stride, nz, qs)
			for r, s := range o {
				if len(t.h) == t.n && s < t.h[0].score {
					continue
				}
				rowid := b.rowids[r]
				if rowid == 0 || (skip != nil && skip(b.segs[r])) {
					continue
				}
				t.push(scored{rowid: rowid, resource: b.segs[r].resource, score: s})
			}
		}
		parts[w] = t
	}
	if workers == 1 {
		scan(0)
	} else {
		var wg sync.WaitGroup
		for w := 1; w < workers; w++ {
			wg.Go(func() { scan(w) })
		}
		scan(0)
		wg.Wait()
	}
	merged := parts[0].h
	for _, p := range parts[1:] {
		merged = append(merged, p.h...)
	}
	slices.SortFunc(merged, func(a, b scored) int {
		if better(a, b) {
			return -1
		}
		if better(b, a) {
			return 1
		}
		return 0
	})
	return merged[:min(n, len(merged))]
}

// scoreBlock sets out[r] to the dot product of row r of a block (columns
// of stride rows in cols) with the sparse query (values qs at dimensions
// nz). Four columns are added per pass over out, which stays in L1.
func scoreBlock(out, cols []float32, stride int, nz []int32, qs []float32) {
	clear(out)
	n := len(out)
	qs = qs[:len(nz)]
	j := 0
	for ; j+4 <= len(nz); j += 4 {
		q0, q1, q2, q3 := qs[j], qs[j+1], qs[j+2], qs[j+3]
		c0 := cols[int(nz[j])*stride:][:n]
		c1 := cols[int(nz[j+1])*stride:][:n]
		c2 := cols[int(nz[j+2])*stride:][:n]
		c3 := cols[int(nz[j+3])*stride:][:n]
		for i := range out {
			out[i] += q0*c0[i] + q1*c1[i] + q2*c2[i] + q3*c3[i]
		}
	}
	for ; j < len(nz); j++ {
		q := qs[j]
		c := cols[int(nz[j])*stride:][:n]
		for i := range out {
			out[i] += q * c[i]
		}
	}
}

// topN keeps the n best hits seen (by better): a min-heap, worst on top.
type topN struct {
	n int
	h []scored
}

func (t *topN) push(s scored) {
	h := t.h
	if len(h) < t.n {
		h = append(h, s)
		for i := len(h) - 1; i > 0; { // sift up
			p := (i - 1) / 2
			if !better(h[p], h[i]) {
				break
			}
			h[p], h[i] = h[i], h[p]
			i = p
		}
		t.h = h
		return
	}
	if !better(s, h[0]) {
		return
	}
	h[0] = s
	for i := 0; ; { // sift down
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		m := l
		if l+1 < len(h) && better(h[l], h[l+1]) {
			m = l + 1
		}
		if !better(h[i], h[m]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
