package gemm

import (
	"fmt"
	"slices"
	"sync"
	"unsafe"

	"github.com/minmaxgan/minmax/internal/parallel"
)

// Taps is the A operand of a direct convolution (SgemmTaps): A is not
// packed, the micro-kernel reads it where it lies. X holds Images images,
// each a grid of Plane positions in rows of Width, with C values per
// position (a padded image, channel-last). Row r of A is the output at
// image img, grid row y < OH and column x < OW, r = img·OH·OW + y·OW + x;
// at grid position q = img·Plane + y·Width + x it has, for tap t, the C
// values from position q + Offs[t]: columns [t·C, (t+1)·C).
//
// The kernel computes 12 consecutive grid positions at a time (32 on
// AMX), those past OW in a grid row too (their results are dropped), so X
// must hold Len() values, the padding and the slack after the last image
// zero or any finite value.
//
// Offs must be non-empty and non-negative (the taps of a kernel over a
// padded image).
//
// Stride (0 or 1 for every position) is the step between the grid
// positions of consecutive outputs, along rows and columns alike: row r
// is then at q = img·Plane + y·Stride·Width + x·Stride, the positions of
// a convolution of that stride. Only SgemmTapsW takes a stride above 1
// (in bfloat16 with an even Width and a Plane a multiple of 2·Stride).
//
// In BFloat16, XB may hold the values already rounded (BF16Bits), X then
// unused: SgemmTaps otherwise rounds X into a copy of its own first.
//
// Float32 makes SgemmTapsW sum in float32 at any precision, for products
// whose values each take part in too few products for their conversion
// to pairs to pay (tensor's kernel gradient of unfolded patches: 0.08 ms
// in float32 against 0.24 in bfloat16 at 2 threads).
type Taps struct {
	X                    []float32
	XB                   []uint16
	XP                   []uint32 // SgemmTapsW's bfloat16 pairs, see PairsLen
	C                    int
	Images, Plane, Width int
	OH, OW               int
	Offs                 []int
	Stride               int
	Float32              bool
	// Unpadded, when set, says that X holds the images without their
	// padding, for SgemmTapsW in float32 (UnpaddedAvailable): Plane,
	// Width, Offs and the outputs' positions are the padded grid's as
	// above, whose positions outside the image are zero, and which the
	// weight gradient skips instead of reading zeros there.
	Unpadded *Unpadded
}

// Unpadded is the image of a Taps read without its padding: H×W
// positions, the padded grid having PH rows above and PW columns left of
// them.
type Unpadded struct{ H, W, PH, PW int }

// step is the grid step between consecutive outputs (Stride, at least 1).
func (a *Taps) step() int { return max(1, a.Stride) }

// tapRows is the tile height of the direct kernels: the 12 rows of the
// AVX-512 kernels' strips, the 32 of the AMX kernel's (maxTapRows).
const (
	tapRows    = 12
	maxTapRows = 32
)

// stripRows is the number of grid positions of im's strips.
func stripRows(im *impl) int {
	if im.amx {
		return im.mr
	}
	return tapRows
}

// strips is the number of strips of rows positions per image.
func (a *Taps) strips(rows int) int { return (a.OH*a.Width + rows - 1) / rows }

// Len is the number of values X must hold: every strip's reads.
func (a *Taps) Len() int {
	if a.Images == 0 {
		return 0
	}
	maxOff := 0
	for _, o := range a.Offs {
		maxOff = max(maxOff, o)
	}
	// The strips of every kernel that may read X, so that the length
	// does not depend on the precision.
	reach := a.strips(tapRows) * tapRows
	if amxImpl != nil {
		reach = max(reach, a.strips(amxImpl.mr)*amxImpl.mr)
	}
	return ((a.Images-1)*a.Plane + reach + maxOff) * a.C
}

// TapsAvailable says whether SgemmTaps can run on images of c channels:
// the current kernel has a direct form (AVX-512; in BFloat16, AVX-512 BF16
// and c even, since each of the kernel's steps multiplies a pair of
// consecutive channels, or AMX and c a multiple of 32, since its tiles
// take 16 pairs of channels of one tap). Elsewhere convolutions pack A.
func TapsAvailable(c int) bool {
	im := tapsImpl()
	if im.amx {
		return c%32 == 0
	}
	return im.taps != nil && (!im.bf16 || c%2 == 0)
}

// RowsAvailable says whether the kernel of the current precision reads a
// computed A in place through row pointers (SgemmRowsA over StridedRows
// runs: AVX-512, AVX2, AVX-512 BF16); the AMX kernel has no such form and
// packs those rows.
func RowsAvailable() bool { return tapsImpl().rows != nil }

// tapsImpl is the kernel SgemmTaps uses at the current precision.
func tapsImpl() *impl {
	if bf16Impl != nil && Precision(precision.Load()) == BFloat16 {
		return bf16Impl
	}
	return current.Load()
}

// SgemmTaps computes C = A·wᵀ for A given by a (rows a.Images·a.OH·a.OW, K
// = len(a.Offs)·a.C) and w, n×K row-major, starting each element of C from
// bias (len n), from C itself (accumulate) or from nothing. Every element
// is computed exactly as Sgemm computes it (the same K chunks, the same
// fused multiply-adds in the same order), so for n ≥ 2 the result is
// bit-identical to SgemmRowsA on the same rows (which computes n == 1 as
// matrix-vector products, summed in another order), at any thread count.
// In BFloat16 the values of X and w are rounded to bfloat16 first (X into
// a copy of half its size, which the kernel then reads in place), and the
// result is bit-identical to SgemmRowsA's in BFloat16 likewise: the same
// pairs of K steps, the same chunks. It panics unless
// TapsAvailable(a.C).
func SgemmTaps(pool *parallel.Pool, a *Taps, n int, w, bias []float32, accumulate bool, c []float32) {
	if !TapsAvailable(a.C) {
		panic(fmt.Sprintf("gemm.SgemmTaps: no direct kernel for %d channels on this CPU or at this precision (check TapsAvailable)", a.C))
	}
	im := tapsImpl()
	k := len(a.Offs) * a.C
	m := a.Images * a.OH * a.OW
	if im.bf16 && !InBF16(m, n, k) {
		im = current.Load() // a short sum stays float32, as in Sgemm
	}
	values := len(a.X) // the operand the kernel will read
	if im.bf16 && a.XB != nil {
		values = len(a.XB)
	}
	if a.C < 1 || len(a.Offs) == 0 || slices.Min(a.Offs) < 0 || a.step() != 1 || a.OW > a.Width || a.OH*a.Width > a.Plane || values < a.Len() || len(w) < n*k || len(c) < m*n ||
		(bias != nil && (len(bias) != n || accumulate)) {
		panic(fmt.Sprintf("gemm.SgemmTaps: inconsistent operands (C %d, grid %dx%d of plane %d width %d, stride %d, X %d of %d, w %d, c %d)",
			a.C, a.OH, a.OW, a.Plane, a.Width, a.Stride, values, a.Len(), len(w), len(c)))
	}
	if m == 0 || n == 0 {
		return
	}
	if pool == nil {
		pool = parallel.Default()
	}
	tj := tapJobs.Get().(*tapJob)
	tj.a, tj.n, tj.k, tj.c, tj.bias, tj.accumulate = a, n, k, c, bias, accumulate
	tj.im = im
	// The K chunks of Sgemm (job.kChunk), so each element sees the same
	// partial sums.
	tj.job.args, tj.job.im = args{k: k}, im
	tj.job.cutK()
	tj.packW(w)
	tj.rows = stripRows(im)
	total := a.Images * a.strips(tj.rows)
	threads := pool.Threads()
	if 2*float64(m)*float64(n)*float64(k) < parallelMinFlops {
		threads = 1
	}
	switch {
	case !im.bf16:
		tj.x, tj.elem = unsafe.Pointer(&a.X[0]), 4
	case a.XB != nil:
		tj.x, tj.elem = unsafe.Pointer(&a.XB[0]), 2
	default:
		tj.convertX(pool, threads)
	}
	tj.segments()
	parts := max(1, min(threads, total))
	for len(tj.ws) < parts {
		tj.ws = append(tj.ws, new(tapWorkspace))
	}
	if parts == 1 {
		tj.Run(0, 0, total)
	} else {
		pool.ForParts(total, parts, tj)
	}
	tj.a, tj.c, tj.bias, tj.x = nil, nil, nil, nil
	tapJobs.Put(tj)
}

// tapJob is one SgemmTaps call handed to the pool: parts take ranges of
// strips.
type tapJob struct {
	job        job // the K chunks (kChunk)
	im         *impl
	a          *Taps
	rows       int // grid positions per strip (stripRows)
	n, k       int
	c, bias    []float32
	accumulate bool
	packed     []float32 // w packed: per K chunk, per 32-column panel, kc×32 (bf16: in pair rows; AMX: see packWAMX)
	chunkBuf   []float32 // one K chunk of w packed (packWAMX)
	chunkAt    []int     // offset of each chunk's panels in packed
	ws         []*tapWorkspace
	x          unsafe.Pointer // the A values the kernel reads: a.X, or xb in BFloat16
	elem       int            // their size in bytes (4, or 2 for bfloat16)
	xb         []uint16       // a.X rounded to bfloat16 (BFloat16)
	conv       bf16Job        // convertX's parallel job
	segs       []int          // per K chunk, its segments (segments)
	segAt      []int          // chunk pi's segments are segs[segAt[pi]:segAt[pi+1]]
}

// segments lists each K chunk's segments for the kernel: pairs of a byte
// offset from a strip's first grid position into the values and a number
// of kernel steps (K steps, or pairs of them in BFloat16, where C, the
// chunks and the taps start at even K). They are the same for every strip.
func (tj *tapJob) segments() {
	a := tj.a
	step := 4 / tj.elem
	tj.segs, tj.segAt = tj.segs[:0], append(tj.segAt[:0], 0)
	for pi := range tj.job.nk {
		p0, p1 := tj.job.kChunk(pi)
		for p := p0; p < p1; {
			t := p / a.C
			end := min(p1, (t+1)*a.C)
			tj.segs = append(tj.segs, (a.Offs[t]*a.C+p-t*a.C)*tj.elem, (end-p)/step)
			p = end
		}
		tj.segAt = append(tj.segAt, len(tj.segs))
	}
}

// convertX rounds the direct operand's values to bfloat16 into tj.xb
// (pooled with the job), in parallel parts of whole 16-value blocks.
func (tj *tapJob) convertX(pool *parallel.Pool, threads int) {
	x := tj.a.X[:tj.a.Len()]
	if cap(tj.xb) < len(x) {
		tj.xb = make([]uint16, len(x))
	}
	tj.xb = tj.xb[:len(x)]
	tj.x, tj.elem = unsafe.Pointer(&tj.xb[0]), 2
	if threads == 1 || len(x) < 1<<16 {
		ToBF16(tj.xb, x)
		return
	}
	tj.conv = bf16Job{dst: tj.xb, src: x}
	pool.ForParts(len(x)/16+1, threads, &tj.conv)
	tj.conv = bf16Job{}
}

// bf16Job converts blocks [lo, hi) of 16 values of src into dst.
type bf16Job struct {
	dst []uint16
	src []float32
}

func (j *bf16Job) Run(_, lo, hi int) {
	lo, hi = min(16*lo, len(j.src)), min(16*hi, len(j.src))
	ToBF16(j.dst[lo:hi], j.src[lo:hi])
}

// tapWorkspace is a part's tile and row offsets.
type tapWorkspace struct {
	tile [maxTapRows * 32]float32
	rows [maxTapRows]int
}

var tapJobs = sync.Pool{New: func() any { return new(tapJob) }}

// packW packs wᵀ (K×n) as Sgemm packs its B blocks: 32-column panels,
// per K chunk (columns past n in the last panel are left as they are: the
// kernel's tile for a partial panel is merged column by column). On AMX
// (packWAMX) each panel's pair rows run through all of K, chunk after
// chunk, so that one call of the kernel can sum every chunk: its tiles
// accumulate in float32, and storing C between chunks and loading it
// again, as the packed product does, changes no bit.
func (tj *tapJob) packW(w []float32) {
	nr := tj.im.nr
	panels := (tj.n + nr - 1) / nr
	if tj.im.amx {
		tj.packWAMX(w, panels)
		return
	}
	tj.chunkAt = tj.chunkAt[:0]
	size := 0
	for pi := range tj.job.nk {
		p0, p1 := tj.job.kChunk(pi)
		tj.chunkAt = append(tj.chunkAt, size)
		size += (p1 - p0) * panels * nr
	}
	if cap(tj.packed) < size {
		tj.packed = alignedFloats(size)
	}
	tj.packed = tj.packed[:size]
	for pi := range tj.job.nk {
		p0, p1 := tj.job.kChunk(pi)
		dst := tj.packed[tj.chunkAt[pi]:]
		packB(tj.im, dst, w, tj.k, true, 0, tj.n, p0, p1-p0)
		if tj.im.bf16 {
			kc := p1 - p0
			for jp := range panels {
				toPairs(dst[jp*kc*nr:(jp+1)*kc*nr], nr, kc)
			}
		}
	}
}

// packWAMX is packW for the AMX kernel: panel jp's pair rows at
// jp·(K/2)·32 words, K chunk pi's from pair row p0/2 on (K and the chunk
// bounds are multiples of 32, TapsAvailable and kChunk).
func (tj *tapJob) packWAMX(w []float32, panels int) {
	nr := tj.im.nr
	size := panels * tj.k / 2 * nr
	if cap(tj.packed) < size {
		tj.packed = alignedFloats(size)
	}
	tj.packed = tj.packed[:size]
	for pi := range tj.job.nk {
		p0, p1 := tj.job.kChunk(pi)
		kc := p1 - p0
		if cap(tj.chunkBuf) < kc*panels*nr {
			tj.chunkBuf = alignedFloats(kc * panels * nr)
		}
		buf := tj.chunkBuf[:kc*panels*nr]
		packB(tj.im, buf, w, tj.k, true, 0, tj.n, p0, kc)
		for jp := range panels {
			panel := buf[jp*kc*nr : (jp+1)*kc*nr]
			toPairs(panel, nr, kc)
			copy(tj.packed[tj.panelAt(pi, jp):], panel[:kc/2*nr])
		}
	}
}

// panelAt is the offset in tj.packed of K chunk pi's panel jp.
func (tj *tapJob) panelAt(pi, jp int) int {
	if tj.im.amx {
		p0, _ := tj.job.kChunk(pi)
		return (jp*tj.k + p0) / 2 * tj.im.nr
	}
	p0, p1 := tj.job.kChunk(pi)
	return tj.chunkAt[pi] + jp*(p1-p0)*tj.im.nr
}

// Run implements parallel.Job for strips [lo, hi). Where the packed
// kernel fits in L2 (tapResidentBytes) each strip takes all K chunks in
// turn while its tile of C is in L1; otherwise K chunk by K chunk, each
// strip's tiles for all column panels of the chunk (C then goes through
// memory once per chunk). Each element of C sees the same operations in
// the same order either way.
func (tj *tapJob) Run(part, lo, hi int) {
	if len(tj.packed)*4 <= tapResidentBytes {
		for s := lo; s < hi; s++ {
			if tj.im.amx {
				tj.strip(part, s, 0, tj.job.nk)
				continue
			}
			for pi := range tj.job.nk {
				tj.strip(part, s, pi, pi+1)
			}
		}
		return
	}
	for pi := range tj.job.nk {
		for s := lo; s < hi; s++ {
			tj.strip(part, s, pi, pi+1)
		}
	}
}

// strip computes strip s's tiles of K chunks [pi, pi1) for every column
// panel: one chunk, or on AMX all of them in one call (see packW).
func (tj *tapJob) strip(part, s, pi, pi1 int) {
	a, im, ws := tj.a, tj.im, tj.ws[part]
	nr := im.nr
	panels := (tj.n + nr - 1) / nr
	spi := a.strips(tj.rows)
	mode := tapAdd
	switch {
	case pi == 0 && tj.bias != nil:
		mode = tapBias
	case pi == 0 && !tj.accumulate:
		mode = tapStore
	}
	img, q0 := s/spi, (s%spi)*tj.rows
	seg := tj.segs[tj.segAt[pi]:tj.segAt[pi1]]
	// The segments' offsets are from the strip's first grid position.
	x := (*float32)(unsafe.Add(tj.x, (img*a.Plane+q0)*a.C*tj.elem))
	tj.rowOffsets(ws, img, q0)
	for jp := range panels {
		b := &tj.packed[tj.panelAt(pi, jp)]
		j0 := jp * nr
		if cols := tj.n - j0; cols < nr && im.amx {
			tj.amxPartial(ws, seg, x, b, j0, cols, mode)
			continue
		} else if cols < nr {
			// A partial panel: the tile, then its valid columns.
			im.taps(len(seg)/2, &seg[0], x, a.C*tj.elem, b, &ws.tile[0], &tileRows[0], tapStore, nil)
			tj.merge(ws, j0, cols, mode)
			continue
		}
		var bias *float32
		if mode == tapBias {
			bias = &tj.bias[j0]
		}
		im.taps(len(seg)/2, &seg[0], x, a.C*tj.elem, b, &tj.c[j0], &ws.rows[0], mode, bias)
	}
}

// The direct kernel's store modes: C = tile, C = C + tile (as the
// micro-kernel's beta 1, later K chunks and accumulation), C = bias + tile.
const (
	tapStore = 0
	tapAdd   = 1
	tapBias  = 2
)

// tileRows are the byte offsets of the rows of a 12×32 tile.
var tileRows = func() (r [maxTapRows]int) {
	for i := range r {
		r[i] = i * 32 * 4
	}
	return r
}()

// rowOffsets sets ws.rows to the byte offsets in C (from column 0) of the
// rows of the strip at grid position q0 of image img, -1 for positions
// past a grid row's OW outputs or past the image's OH rows.
func (tj *tapJob) rowOffsets(ws *tapWorkspace, img, q0 int) {
	a := tj.a
	y, x := q0/a.Width, q0%a.Width
	// C's byte offset of the first output at or after (y, x).
	row := ((img*a.OH+y)*a.OW + min(x, a.OW)) * tj.n * 4
	for i := range tj.rows {
		if y >= a.OH || x >= a.OW {
			ws.rows[i] = -1
		} else {
			ws.rows[i] = row
			row += tj.n * 4
		}
		if x++; x == a.Width {
			x, y = 0, y+1
		}
	}
}

// merge folds the valid rows of a strip's tile (ws.rows) into C's columns
// [j0, j0+cols) under mode, with the kernel's arithmetic.
func (tj *tapJob) merge(ws *tapWorkspace, j0, cols, mode int) {
	for i, off := range ws.rows[:tj.rows] {
		if off < 0 {
			continue
		}
		r := off / 4
		dst := tj.c[r+j0 : r+j0+cols]
		src := ws.tile[i*32 : i*32+cols]
		switch mode {
		case tapBias:
			bias := tj.bias[j0 : j0+cols]
			for x, v := range src {
				dst[x] = v + bias[x]
			}
		case tapStore:
			copy(dst, src)
		default:
			for x, v := range src {
				dst[x] += v
			}
		}
	}
}

// tapsKernel is the direct micro-kernel: the 12×32 tile of nseg segments
// of k steps, segment s reading A rows rs bytes apart from byte offset
// seg[2s] of a for seg[2s+1] steps, B from the packed panel b (32 floats
// per step); row i of the tile goes to c + rows[i] bytes (dropped where
// rows[i] < 0) under mode (tapStore, tapAdd, tapBias with the 32 values
// at bias).
type tapsKernel func(nseg int, seg *int, a *float32, rs int, b, c *float32, rows *int, mode int, bias *float32)

// amxPartial computes a strip's tile for the partial column panel at j0
// (cols < 32 columns of C) with the AMX direct kernel, which sums onto
// C's rows (or the bias) in its tile: the valid rows and columns are
// copied into ws.tile, summed there (tileRows), and copied back, so each
// element sees what a whole panel's would.
func (tj *tapJob) amxPartial(ws *tapWorkspace, seg []int, x, b *float32, j0, cols, mode int) {
	a := tj.a
	t := ws.tile[:tj.rows*32]
	for i, off := range ws.rows[:tj.rows] {
		switch {
		case off < 0:
		case mode == tapBias:
			copy(t[i*32:i*32+cols], tj.bias[j0:j0+cols])
		case mode == tapAdd:
			copy(t[i*32:i*32+cols], tj.c[off/4+j0:off/4+j0+cols])
		}
	}
	if mode == tapBias {
		mode = tapAdd
	}
	tj.im.taps(len(seg)/2, &seg[0], x, a.C*tj.elem, b, &t[0], &tileRows[0], mode, nil)
	for i, off := range ws.rows[:tj.rows] {
		if off >= 0 {
			copy(tj.c[off/4+j0:off/4+j0+cols], t[i*32:i*32+cols])
		}
	}
}
