package gemm

import (
	"fmt"
	"slices"
	"sync"
	"unsafe"

	"github.com/minmaxgan/minmax/internal/parallel"
)

// The weight gradient of a direct convolution. For the convolution
// out = A·wᵀ of SgemmTaps, the kernel's gradient is dw = dyᵀ·A: for tap t,
// input channel c and output channel j,
//
//	dw[j][t·C + c] = Σ over outputs r at grid position q(r) of dy[r][j] · X[q(r) + Offs[t]][c]
//
// a sum over the outputs of every image, read where they lie: dy row by
// row, X at the tap's offset. The packed path (SgemmRowsB on gathered
// patches) copies every patch, 9 values per value of X for a 3×3 kernel;
// here nothing is packed in float32, and in bfloat16 X and dy are turned
// into pairs of positions once (VDPBF16PS sums pairs along the sum's
// index, here the positions: two consecutive outputs, which read X a
// stride apart; see operands).
//
// A tile of dw is 12 output channels (8 or 4 for the last) by 32 input
// channels of one tap. Parts take ranges of tiles; each tile sums the
// images chunk by chunk (each chunk's rows of dy and of X stay in L2 while
// all the part's tiles read them), in the same order at any thread count.

// tapsWKernel is a weight-gradient micro-kernel (see asm_gen.go's
// wgrad512): the tile summed over nseg segments of positions.
type tapsWKernel func(nseg int, seg *int, a *float32, as int, b *float32, bs int, c *float32, ldc int, mode int)

// TapsWAvailable says whether SgemmTapsW can compute the weight gradient
// for a and n output channels on this CPU at the current precision: a
// kernel with a direct form, C a multiple of 32, n a multiple of 4, and
// in BFloat16 an even grid width and a plane a multiple of twice the
// stride (so that every grid row starts a pair of pairs' steps, see
// operands).
func TapsWAvailable(a *Taps, n int) bool {
	im := a.wImpl()
	if im.wgrad[0] == nil || a.C <= 0 || a.C%32 != 0 || n%4 != 0 || n == 0 {
		return false
	}
	return !im.bf16 || (a.Width%2 == 0 && a.Plane%(2*a.step()) == 0)
}

// UnpaddedAvailable says whether SgemmTapsW reads images without their
// padding (Taps.Unpadded) for a and n output channels: TapsWAvailable in
// float32 (a.Float32 or the precision) on a kernel with the segment form
// (the bfloat16 kernels have none).
func UnpaddedAvailable(a *Taps, n int) bool {
	return a.wImpl().wgradSeg[0] != nil && TapsWAvailable(a, n)
}

// SgemmTapsW computes dw = dyᵀ·A, n×K row-major (K = len(a.Offs)·a.C),
// for A given by a as in SgemmTaps (X is read; XB is ignored; in BFloat16
// XP may hold X's values already in pairs, see PairsLen, X then unused) and
// dy, (a.Images·a.OH·a.OW)×n row-major, setting dw or (accumulate) adding
// to it. X must hold the values up to the last one read (MinLenW). In
// BFloat16 the values of X and dy are rounded to bfloat16 and the products
// summed in float32. Every element of dw is summed in the same order at
// any thread count, but not in the order SgemmRowsB sums the same product,
// so the two differ by rounding. It panics unless TapsWAvailable(a, n).
func SgemmTapsW(pool *parallel.Pool, a *Taps, n int, dy, dw []float32, accumulate bool) {
	if !TapsWAvailable(a, n) {
		panic(fmt.Sprintf("gemm.SgemmTapsW: no direct weight-gradient kernel for %d channels in, %d out on this CPU or at this precision (check TapsWAvailable)", a.C, n))
	}
	k := len(a.Offs) * a.C
	rows := a.Images * a.OH * a.OW
	im := a.wImpl()
	values, need := len(a.X), a.MinLenW() // the operand the kernel will read
	if im.bf16 && a.XP != nil {
		values, need = len(a.XP), a.PairsLen()
	}
	if u := a.Unpadded; u != nil {
		if !UnpaddedAvailable(a, n) {
			panic("gemm.SgemmTapsW: images without their padding need the float32 segment kernels (check UnpaddedAvailable)")
		}
		need = a.Images * u.H * u.W * a.C
		if u.PH < 0 || u.PW < 0 || u.H < 1 || u.W < 1 || (u.H+2*u.PH)*(u.W+2*u.PW) > a.Plane || u.W+2*u.PW > a.Width {
			panic(fmt.Sprintf("gemm.SgemmTapsW: unpadded image %dx%d, padding %dx%d, in a grid of %d positions in rows of %d", u.H, u.W, u.PH, u.PW, a.Plane, a.Width))
		}
	}
	s := a.step()
	if len(a.Offs) == 0 || slices.Min(a.Offs) < 0 || a.OW > 0 && (a.OW-1)*s >= a.Width || a.OH > 0 && ((a.OH-1)*s+1)*a.Width > a.Plane ||
		values < need || len(dy) < rows*n || len(dw) < n*k {
		panic(fmt.Sprintf("gemm.SgemmTapsW: inconsistent operands (C %d, grid %dx%d of plane %d width %d, stride %d, X %d of %d, dy %d, dw %d)",
			a.C, a.OH, a.OW, a.Plane, a.Width, a.Stride, values, need, len(dy), len(dw)))
	}
	if k == 0 {
		return
	}
	if rows == 0 {
		if !accumulate {
			clear(dw[:n*k])
		}
		return
	}
	if pool == nil {
		pool = parallel.Default()
	}
	j := tapsWJobs.Get().(*tapsWJob)
	j.a, j.n, j.k, j.dw, j.accumulate, j.im = a, n, k, dw, accumulate, im
	threads := pool.Threads()
	if 2*float64(rows)*float64(n)*float64(k) < parallelMinFlops {
		threads = 1
	}
	j.operands(pool, threads, dy)
	j.chunks()
	j.tiles = j.jbs * len(a.Offs) * (a.C / 32)
	j.partials(n * k)
	items := j.groups * j.tiles
	parts := max(1, min(threads, items))
	if parts == 1 {
		j.Run(0, 0, items)
	} else {
		pool.ForParts(items, parts, j)
	}
	// The groups' sums, added to the first's in order.
	for g := 1; g < j.groups; g++ {
		im.axpy(1, j.part[(g-1)*n*k:g*n*k], dw[:n*k])
	}
	j.a, j.dw, j.x, j.dy = nil, nil, nil, nil
	tapsWJobs.Put(j)
}

// wImpl is the kernel SgemmTapsW runs for a: float32 where a.Float32 says
// so, else the precision's (tapsImpl).
func (a *Taps) wImpl() *impl {
	if a.Float32 {
		return current.Load()
	}
	return tapsImpl()
}

// MinLenW is the number of values X must hold for SgemmTapsW: up to the
// last position a tap reads (fewer than Len, which covers the direct
// kernel's whole strips).
func (a *Taps) MinLenW() int {
	if a.Images == 0 || a.OH == 0 || a.OW == 0 || len(a.Offs) == 0 {
		return 0
	}
	return a.lastPos()*a.C + a.C
}

// lastPos is the last grid position the weight gradient reads.
func (a *Taps) lastPos() int {
	s := a.step()
	return (a.Images-1)*a.Plane + (a.OH-1)*s*a.Width + (a.OW-1)*s + slices.Max(a.Offs)
}

// tapsWJob is one SgemmTapsW call: its operands as the kernel reads them,
// the segments (one per output grid row) and the image chunks.
type tapsWJob struct {
	a          *Taps
	n, k       int
	dw         []float32
	accumulate bool
	im         *impl
	x, dy      unsafe.Pointer // B and A as the kernel reads them
	elem       int            // bytes per value in X's and dy's layout (4, or 2 in pairs)
	odd        int            // bfloat16: byte offset of X's second class of pairs (see operands)
	owp        int            // dy's rows per grid row as laid out: OW, or in pairs OW rounded up to even
	pairBuf    []uint32       // bfloat16: dy's pairs, after X's two classes (see operands) unless XP holds them
	pairs      pairJob
	segs       []int // per output grid row: (byte offset into x, steps)
	// With a.Unpadded, the segments of each tap instead (tapSegs), three
	// words each: tap t's of image i start at word 3·(tapAt[t] +
	// i·tapCount[t]).
	tapAt, tapCount []int
	chunkAt         []int // chunk i is images [chunkAt[i], chunkAt[i+1])
	jbs             int   // row blocks of 12 output channels
	tiles           int   // tiles of dw: jbs × taps × 32-channel panels
	// The images are summed in j.groups fixed groups, none empty (group
	// g's chunks are chunkAt's [groupChunk[g], groupChunk[g+1])), group
	// g > 0 into part[(g-1)·len(dw):], added to dw at the end.
	groups     int
	groupChunk [tapsWGroups + 1]int
	part       []float32
}

// tapsWGroups is the number of groups of images whose sums SgemmTapsW
// takes apart and adds at the end for a strided operand (Stride > 1 and at
// least two images; one group otherwise), the same at any thread count
// (so the bits are). The groups are the halves of the images that
// PadImages hands to the two threads of a 2-thread pool, and the job
// gives each group's tiles to the same thread: each thread then reads the
// part of the fresh padded copy it wrote itself. With the tiles split
// instead, every thread read every image, half of them just written by
// the other core: dcgan28's strided gradient scaled 1.48x at 2 threads
// (187 and 276 GFLOP/s), against 1.85x on a copy read twice. With the
// groups (BenchmarkConvWeightStrided64, three alternations): 322-354
// against 279-287 GFLOP/s at 2 threads, 174-182 against 180-191 at 1
// (the groups' extra pass over dw); biggan's shapes
// (BenchmarkConvWeightDirect) the same or faster at 2 threads. But biggan32's step at 2
// threads, whose stride-1 gradients read the padded copy their forward
// made (long out of cache by then), ran at 0.95 of the rate without them
// (nine alternations), dcgan28's at 1.02: stride 1 keeps one group.
const tapsWGroups = 2

// partials sizes the groups' sum buffers for a dw of size values.
func (j *tapsWJob) partials(size int) {
	need := (j.groups - 1) * size
	if cap(j.part) < need {
		j.part = make([]float32, need)
	}
	j.part = j.part[:need]
}

var tapsWJobs = sync.Pool{New: func() any { return new(tapsWJob) }}

// operands points the kernel at X and dy, in BFloat16 after turning them
// into pairs. A pair step of the kernel takes two consecutive outputs of
// a grid row, which read X at positions p and p+s (s the stride) for
// each tap. X's pairs come in two classes: class h holds, from position
// h·s, rows of s·C words, row q pairing positions h·s + 2s·q + r with
// those s further (r < s), so that consecutive steps are one row apart;
// a tap at offset off reads class (off mod 2s)/s (see runGroup). At
// stride 1 these are the pairs starting at even positions, then at odd
// ones. Pair partners past the last value of X are zero. dy's pairs are
// of consecutive rows within a grid row; an odd OW pairs each grid row's
// last output with a zero (its partner in X is then multiplied by zero).
func (j *tapsWJob) operands(pool *parallel.Pool, threads int, dy []float32) {
	a := j.a
	if !j.im.bf16 {
		j.x, j.dy, j.elem, j.odd, j.owp = unsafe.Pointer(&a.X[0]), unsafe.Pointer(&dy[0]), 4, 0, a.OW
		return
	}
	s := a.step()
	even, odd := a.PairCounts()
	j.owp = (a.OW + 1) &^ 1
	dyWords := a.Images * a.OH * j.owp / 2 * j.n
	xpLen := (even + odd) * s * a.C
	need := dyWords
	if a.XP == nil {
		need += xpLen
	}
	if cap(j.pairBuf) < need {
		j.pairBuf = make([]uint32, need)
	}
	buf := j.pairBuf[:need]
	dyp := buf[need-dyWords:]
	grids := 0 // dy in one run of pairs where OW is even, grid row by grid row where odd
	if a.OW%2 == 1 {
		grids = a.Images * a.OH
	}
	j.pairs.tasks = append(j.pairs.tasks[:0], pairTask{dst: dyp, src: dy, w: j.n, kq: dyWords / j.n, ow: a.OW, grids: grids})
	xp := a.XP
	if xp == nil {
		xp = buf[:xpLen]
		w := s * a.C
		for h, rows := range [2]int{even, odd} {
			dst := xp[h*even*w : (h*even+rows)*w]
			src := a.X[min(len(a.X), h*w):]
			// Rows whose both halves lie in X, then the rest with zeros.
			full := min(rows, len(src)/(2*w))
			j.pairs.tasks = append(j.pairs.tasks, pairTask{dst: dst, src: src, w: w, kq: full})
			for q := full; q < rows; q++ {
				for i := range w {
					lo, hi := float32(0), float32(0)
					if t := 2*q*w + i; t < len(src) {
						lo = src[t]
					}
					if t := (2*q+1)*w + i; t < len(src) {
						hi = src[t]
					}
					dst[q*w+i] = pairWord(lo, hi)
				}
			}
		}
	}
	j.pairs.run(pool, threads)
	clear(j.pairs.tasks)
	j.x, j.dy, j.elem, j.odd = unsafe.Pointer(&xp[0]), unsafe.Pointer(&dyp[0]), 2, even*s*a.C*4
}

// PairCounts are the numbers of pair rows of X's two classes in
// SgemmTapsW's bfloat16 layout (see PairsLen): enough for the first
// position of every pair read, up to the last position read.
func (a *Taps) PairCounts() (class0, class1 int) {
	s, pos := a.step(), a.lastPos()+1
	return (pos + 2*s - 1) / (2 * s), max(0, (pos-s+2*s-1)/(2*s))
}

// PairsLen is the number of words XP must hold for SgemmTapsW in
// BFloat16, at stride s: PairCounts rows of s·C words in each of two
// classes; row q of class h pairs positions h·s + 2s·q + r with those s
// further, r < s (word r·C + c for channel c), which is PairRows of the 2s
// positions from h·s + 2s·q on with w = s·C; partners past the last
// position of X are zero. At stride 1 these are the pairs (2j, 2j+1),
// then (2j+1, 2j+2).
func (a *Taps) PairsLen() int {
	if a.MinLenW() == 0 {
		return 0
	}
	even, odd := a.PairCounts()
	return (even + odd) * a.step() * a.C
}

// chunks lists the segments and cuts the images into chunks of about
// tapsWChunkBytes of operands.
func (j *tapsWJob) chunks() {
	a := j.a
	step := 4 / j.elem
	j.segs = j.segs[:0]
	perImage := (a.OH*a.OW*j.n + a.Plane*a.C) * j.elem
	if a.Unpadded != nil {
		// The chunks stay those of the padded image (where the sums are
		// cut), though an image now takes less of L2.
		j.tapSegs()
	} else {
		for img := range a.Images {
			for y := range a.OH {
				j.segs = append(j.segs, (img*a.Plane+y*a.step()*a.Width)*a.C*j.elem, (a.OW+step-1)/step)
			}
		}
	}
	per := max(1, tapsWChunkBytes/perImage)
	j.chunkAt = j.chunkAt[:0]
	j.groups = 1
	if a.step() > 1 && a.Images >= tapsWGroups {
		j.groups = tapsWGroups
	}
	for g := range j.groups {
		lo, hi := parallel.Split(a.Images, j.groups, g)
		j.groupChunk[g] = len(j.chunkAt)
		for img := lo; img < hi; img += per {
			j.chunkAt = append(j.chunkAt, img)
		}
	}
	j.groupChunk[j.groups] = len(j.chunkAt)
	j.chunkAt = append(j.chunkAt, a.Images)
	j.jbs = (j.n + 11) / 12
}

// tapSegs lists, for each tap and image, the segments of an image read
// without its padding: per output grid row whose tap row lies inside the
// image, the outputs whose tap column does (x0 to x1), as (byte offset of
// the first position read in X, steps, byte offset of the first row of
// dy). Every element of dw then sums the products the padded image gave
// but those of its zeros, in the same order.
func (j *tapsWJob) tapSegs() {
	a, u := j.a, j.a.Unpadded
	s := a.step()
	j.tapAt, j.tapCount = j.tapAt[:0], j.tapCount[:0]
	for _, off := range a.Offs {
		ky, kx := off/a.Width, off%a.Width
		// Outputs x with 0 <= s·x + kx − PW < W, and the same for rows.
		x0, x1 := max(0, (u.PW-kx+s-1)/s), min(a.OW, (u.W-1+u.PW-kx)/s+1)
		if u.W-1+u.PW-kx < 0 {
			x1 = 0
		}
		j.tapAt = append(j.tapAt, len(j.segs)/3)
		count := 0
		for img := range a.Images {
			for y := range a.OH {
				iy := s*y + ky - u.PH
				if iy < 0 || iy >= u.H || x1 <= x0 {
					continue
				}
				j.segs = append(j.segs, ((img*u.H+iy)*u.W+s*x0+kx-u.PW)*a.C*4, x1-x0, ((img*a.OH+y)*a.OW+x0)*j.n*4)
				if img == 0 {
					count++
				}
			}
		}
		j.tapCount = append(j.tapCount, count)
	}
}

// Run implements parallel.Job for items [lo, hi), item g·tiles + t being
// tile t over group g's images: group by group, chunk by chunk, every tile
// of the range.
func (j *tapsWJob) Run(_, lo, hi int) {
	for g := lo / j.tiles; g < j.groups && g*j.tiles < hi; g++ {
		t0, t1 := max(lo, g*j.tiles)-g*j.tiles, min(hi, (g+1)*j.tiles)-g*j.tiles
		j.runGroup(g, t0, t1)
	}
}

// runGroup sums tiles [lo, hi) over group g's images, into dw for group 0
// (onto it when accumulating), into the group's part of j.part otherwise.
func (j *tapsWJob) runGroup(g, lo, hi int) {
	a := j.a
	panels := a.C / 32
	dw := j.dw
	if g > 0 {
		dw = j.part[(g-1)*j.n*j.k : g*j.n*j.k]
	}
	for ci := j.groupChunk[g]; ci < j.groupChunk[g+1]; ci++ {
		i0, i1 := j.chunkAt[ci], j.chunkAt[ci+1]
		var seg []int
		if a.Unpadded == nil {
			seg = j.segs[2*i0*a.OH : 2*i1*a.OH]
		}
		mode := 1
		if ci == j.groupChunk[g] && (g > 0 || !j.accumulate) {
			mode = 0
		}
		r0 := i0 * a.OH * j.owp // the chunk's first row of dy as laid out
		next := ci+1 < j.groupChunk[g+1] && j.elem == 4 && j.im.asmPack
		for tile := lo; tile < hi; tile++ {
			if next {
				j.prefetchChunk(ci+1, tile-lo, hi-lo)
			}
			jb := tile % j.jbs
			t, p := tile/j.jbs/panels, tile/j.jbs%panels
			j0 := 12 * jb
			rows := min(12, j.n-j0)
			off := a.Offs[t]
			if a.Unpadded != nil {
				// The tap's segments of the chunk's images; its offset
				// and A's rows are in them.
				at, cnt := j.tapAt[t], j.tapCount[t]
				seg := j.segs[3*(at+i0*cnt) : 3*(at+i1*cnt)]
				if len(seg) == 0 {
					if mode == 0 {
						for r := range rows {
							clear(dw[(j0+r)*j.k+t*a.C+32*p:][:32])
						}
					}
					continue
				}
				j.im.wgradSeg[rows/4-1](len(seg)/3, &seg[0], (*float32)(unsafe.Add(j.dy, j0*4)), j.n*4,
					(*float32)(unsafe.Add(j.x, 32*p*4)), a.step()*a.C*4, &dw[j0*j.k+t*a.C+32*p], j.k*4, mode)
				continue
			}
			var b unsafe.Pointer
			if j.elem == 4 {
				b = unsafe.Add(j.x, (off*a.C+32*p)*4)
			} else {
				// Class h of the pairs, row (off−h·s)/2s, part r.
				s := a.step()
				h, r := off%(2*s)/s, off%s
				b = unsafe.Add(j.x, h*j.odd+((off-h*s)/(2*s)*s+r)*a.C*4+32*p*4)
			}
			aPtr := (*float32)(unsafe.Add(j.dy, r0*j.n*j.elem+j0*4))
			c := &dw[j0*j.k+t*a.C+32*p]
			j.im.wgrad[rows/4-1](len(seg)/2, &seg[0], aPtr, j.n*4, (*float32)(b), a.step()*a.C*4, c, j.k*4, mode)
		}
	}
}

// prefetchChunk prefetches into L2 part q of nq of chunk ci's operands
// (float32): its rows of dy and its images of X, each one run of memory.
// Spread over the tiles of the chunk before, the reads from memory (or
// the last level cache, where the forward pass left X) overlap with the
// kernel's arithmetic; without them each chunk's first tiles waited on
// every line. The kernel ran at 195-204 GFLOP/s on operands in L2 and at
// 78-84 on strided operands larger than L2; in CPU profiles of dcgan28's
// step at 1 thread its strided kernel gradient took 1.15 s of samples
// with the prefetches (and 0.12 s issuing them) against 1.41 s without.
func (j *tapsWJob) prefetchChunk(ci, q, nq int) {
	a := j.a
	i0, i1 := j.chunkAt[ci], j.chunkAt[ci+1]
	prefetchRun(j.dy, i0*a.OH*j.owp*j.n, i1*a.OH*j.owp*j.n, q, nq)
	plane := a.Plane
	if a.Unpadded != nil {
		plane = a.Unpadded.H * a.Unpadded.W
	}
	prefetchRun(j.x, i0*plane*a.C, min(i1*plane*a.C, len(a.X)), q, nq)
}

// prefetchRun prefetches into L2 part q of nq of the floats [lo, hi) from
// base, by whole cache lines, at most prefetchMaxLines of them.
func prefetchRun(base unsafe.Pointer, lo, hi, q, nq int) {
	lines := (hi - lo + 15) / 16
	l0, l1 := q*lines/nq, min((q+1)*lines/nq, q*lines/nq+prefetchMaxLines)
	if l1 > l0 {
		prefetchL2((*float32)(unsafe.Add(base, (lo+16*l0)*4)), 16, l1-l0, 1)
	}
}

// prefetchMaxLines bounds the lines one prefetchRun issues. A burst of
// thousands fills the line fill buffers and holds the kernel up until
// they drain; the hardware's own prefetchers then serve the rest of the
// chunk. dcgan28's first layer's kernel gradient has four tiles a chunk,
// each issuing about 2,450 lines: in its step at 1 thread that gradient
// took 706-709 against 825-842 µs a call (two runs each). The strided
// gradient of 64 channels (at most 16 lines a run) is not touched.
const prefetchMaxLines = 64

// pairTask turns kq pairs of rows of w values of src into pair rows of
// dst (the layout of toPairs). With grids > 0 the rows are those of grids
// grid rows of ow rows each, ow odd: each grid row's last row is paired
// with zeros (kq is then grids·(ow+1)/2).
type pairTask struct {
	dst       []uint32
	src       []float32
	w         int
	kq        int
	ow, grids int
}

// pairJob runs pair tasks in parallel parts of pair rows.
type pairJob struct{ tasks []pairTask }

// pairBlock is the pair rows of one part of a pairJob.
const pairBlock = 256

func (pj *pairJob) run(pool *parallel.Pool, threads int) {
	total := 0
	for _, t := range pj.tasks {
		total += t.blocks()
	}
	if threads == 1 || total < 2 {
		pj.Run(0, 0, total)
		return
	}
	// Blocks the threads claim in turn: a core that runs slower takes
	// fewer (the pairs are a memory-bound pass; at 2 threads dcgan28's
	// bfloat16 step waited 0.8% of its main thread's samples here when
	// each thread had half the blocks).
	pool.ForChunks(total, 0, threads, pj)
}

// Run implements parallel.Job for blocks [lo, hi) of pairBlock pair rows,
// numbered through the tasks in turn.
func (pj *pairJob) Run(_, lo, hi int) {
	base := 0
	for _, t := range pj.tasks {
		blocks := t.blocks()
		for b := max(lo, base); b < min(hi, base+blocks); b++ {
			if t.grids > 0 {
				t.gridRows((b-base)*pairBlockGrids, min(t.grids, (b-base+1)*pairBlockGrids))
				continue
			}
			q0 := (b - base) * pairBlock
			q1 := min(t.kq, q0+pairBlock)
			PairRows(t.dst[q0*t.w:q1*t.w], t.src[2*q0*t.w:2*q1*t.w], t.w, q1-q0)
		}
		base += blocks
	}
}

// pairBlockGrids is the grid rows of a block of a task with odd grid rows.
const pairBlockGrids = 64

// blocks is the number of blocks of t.
func (t *pairTask) blocks() int {
	if t.grids > 0 {
		return (t.grids + pairBlockGrids - 1) / pairBlockGrids
	}
	return (t.kq + pairBlock - 1) / pairBlock
}

// gridRows pairs the rows of grid rows [g0, g1) of t (ow odd): ow/2 pairs
// each, then the last row with zeros.
func (t *pairTask) gridRows(g0, g1 int) {
	half := (t.ow + 1) / 2
	for g := g0; g < g1; g++ {
		dst, src := t.dst[g*half*t.w:(g+1)*half*t.w], t.src[g*t.ow*t.w:(g+1)*t.ow*t.w]
		PairRows(dst, src, t.w, t.ow/2)
		last, tail := src[(t.ow-1)*t.w:], dst[(half-1)*t.w:]
		for i := range tail {
			tail[i] = pairWord(last[i], 0)
		}
	}
}

// PairRows sets dst's kq pair rows of w words from src's 2·kq rows of w
// values: word j of pair row q is bfloat16(src row 2q)[j] | bfloat16(src
// row 2q+1)[j] << 16.
func PairRows(dst []uint32, src []float32, w, kq int) {
	if kq == 0 {
		return
	}
	_, _ = dst[kq*w-1], src[2*kq*w-1]
	if bf16PackAsm {
		packBF16Pairs((*float32)(unsafe.Pointer(&dst[0])), &src[0], w, kq, (1<<(w%16))-1)
		return
	}
	for q := range kq {
		r0, r1, d := src[2*q*w:(2*q+1)*w], src[(2*q+1)*w:(2*q+2)*w], dst[q*w:(q+1)*w]
		for i := range d {
			d[i] = pairWord(r0[i], r1[i])
		}
	}
}

// pairWord is the pair word of lo and hi: their bfloat16 bits, lo's in
// the low half.
func pairWord(lo, hi float32) uint32 { return uint32(BF16Bits(lo)) | uint32(BF16Bits(hi))<<16 }
