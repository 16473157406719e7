package gemm

import "unsafe"

// A computed A whose rows lie in memory in runs (StridedRows: the patches
// of a convolution) can be read in place by the micro-kernel instead of
// being packed. Packing A transposes it: each 12-row micro-panel is
// rewritten k-major, and a panel serves only n/32 tiles, so for the
// narrow products of convolutions (dcgan28's 3136×128×1024, four B
// panels a row panel) the transposition and the gathering of the patches
// at the padding took 17% of the product. The rows kernels
// (sgemmRowsAVX512, and sgemmRowsAVX2 for 6 rows) broadcast A's values
// from row pointers instead; only the rows that are not in memory
// (patches over the padding) are gathered, rows past the edge of C read
// zeros. Every element of C sees
// the multiply-adds of the packed kernel in the same order, so the
// results are bit-identical to the packed path.

// rowsKernel is a micro-kernel reading A through row pointers: seg holds
// nseg segments of rowsMR+1 words, the addresses of up to 12 rows' next
// values (the kernel reads its MR first) and the segment's number of k
// steps; B is a packed panel as for microKernel, read on across the
// segments; C and beta as for microKernel, except that where bias is not
// nil (the tile's nr values of it) C is set to the product plus the bias
// and beta is not read: the bits of C filled with the bias and the
// product added under beta 1.
type rowsKernel func(nseg int, seg *uintptr, b, c *float32, ldc int, beta float32, bias *float32)

// inPlaceMinK is the shortest K chunk for which a stored A is read in
// place (inPlace): its rows are one segment, whose 13 loads cost less
// than packing the rows and, where there is a bias, filling C with it
// first (the packed kernel has no bias). dcgan28's first discriminator
// layer (K 16, 12,544×64, a bias) wrote its 3.2 MB output twice; its
// step at 1 thread, five alternations: 11.08-11.34 against 10.85-11.10
// step/s, four ahead.
const inPlaceMinK = 16

// rowsMinSpan is the shortest run of contiguous columns (StridedRows.Span)
// for which a computed A is read in place: each segment costs 13 loads
// and a loop entry, against 12 cycles of arithmetic a step at two FMAs a
// cycle.
const rowsMinSpan = 32

// StridedRowsBF16 is a StridedRows that also holds its values rounded to
// bfloat16 (to nearest even, as ToBF16), which the bfloat16 rows kernel
// reads in place: RunBF16 is Run over those values (src nil for rows that
// are not in memory: Row gathers them and they are rounded). The spans of
// a K chunk must have even lengths, since the kernel reads pairs; a chunk
// with an odd one is packed.
type StridedRowsBF16 interface {
	StridedRows
	RunBF16(i0, n, p0 int) (src []uint16, ld, count int)
}

// useRows says whether rows [i0, i0+rows) of j's computed A are read in
// place for the K chunk from p0: the kernel has a rows form, A is
// StridedRows with long runs (in bfloat16, StridedRowsBF16 with even
// spans) and unscaled (packing folds alpha into A; the rows kernel
// cannot).
func (j *job) useRows(p0, kc int) (StridedRows, bool) {
	if j.im.rows == nil || j.alpha != 1 {
		return nil, false
	}
	if j.inPlace() && kc >= inPlaceMinK {
		j.stored = inPlaceA{a: j.a, lda: j.lda}
		return &j.stored, true
	}
	s, ok := j.ga.(StridedRows)
	if !ok || s.Span(p0, kc) < rowsMinSpan {
		return nil, false
	}
	if j.im.bf16 {
		if _, ok := s.(StridedRowsBF16); !ok {
			return nil, false
		}
		for p := 0; p < kc; {
			m := s.Span(p0+p, kc-p)
			if m%2 != 0 {
				return nil, false
			}
			p += m
		}
	}
	return s, true
}

// rowSegments fills ws.segs with the segments of rows [i0, i0+rows) of A
// over columns [p0, p0+kc), one per run of columns contiguous in every row
// (Span), and returns their number. Rows that are not in memory are
// gathered into ws.rows (row t's columns at t·kc; in bfloat16 rounded into
// ws.rowsB), rows past the edge of C read ws.zero. In bfloat16 the
// addresses are of the rounded values (RunBF16) and a segment's steps are
// pairs.
func (j *job) rowSegments(ws *workspace, s StridedRows, i0, rows, p0, kc int) int {
	if len(ws.zero) < kc {
		ws.zero = make([]float32, kc)
	}
	sb, bf16 := s.(StridedRowsBF16)
	bf16 = bf16 && j.im.bf16
	if bf16 && len(ws.rowsB) < rowsMR*kc {
		ws.rowsB = make([]uint16, rowsMR*kc)
	}
	ws.segs = ws.segs[:0]
	n := 0
	for p := 0; p < kc; {
		m := s.Span(p0+p, kc-p)
		at := len(ws.segs)
		ws.segs = append(ws.segs, noSegment[:]...)
		seg := ws.segs[at:]
		for i := 0; i < rows; {
			// The run's first row and the bytes between its rows (base
			// 0: rows to gather).
			var base, ld uintptr
			var cnt int
			if bf16 {
				src, l, c := sb.RunBF16(i0+i, rows-i, p0+p)
				if cnt = c; src != nil {
					base, ld = uintptr(unsafe.Pointer(&src[0])), uintptr(2*l)
				}
			} else {
				src, l, c := s.Run(i0+i, rows-i, p0+p)
				if cnt = c; src != nil {
					base, ld = uintptr(unsafe.Pointer(&src[0])), uintptr(4*l)
				}
			}
			for t := i; t < i+cnt; t++ {
				switch g := ws.rows[t*kc+p : t*kc+p+m]; {
				case base != 0:
					seg[t] = base + uintptr(t-i)*ld
				case bf16:
					s.Row(g, i0+t, p0+p)
					gb := ws.rowsB[t*kc+p : t*kc+p+m]
					ToBF16(gb, g)
					seg[t] = uintptr(unsafe.Pointer(&gb[0]))
				default:
					s.Row(g, i0+t, p0+p)
					seg[t] = uintptr(unsafe.Pointer(&g[0]))
				}
			}
			i += cnt
		}
		for t := rows; t < rowsMR; t++ {
			seg[t] = uintptr(unsafe.Pointer(&ws.zero[0]))
		}
		seg[rowsMR] = uintptr(m)
		if bf16 {
			seg[rowsMR] = uintptr(m / 2)
		}
		p += m
		n++
	}
	return n
}

// rowsMR is the tallest rows kernel's tile height (AVX-512's), and a
// segment's words but one: every rows kernel reads segments of this
// layout.
const rowsMR = 12

// noSegment is a segment's words before they are filled.
var noSegment [rowsMR + 1]uintptr

// tilesRows is tiles for a row panel of A read in place (useRows): the
// tiles of rows [i0, i0+rows) and columns [jc, jc+nc) of C for the K
// chunk pi at p0. Edge tiles are computed into ws.tile and merged, as
// tiles merges them.
func (j *job) tilesRows(ws *workspace, s StridedRows, b []float32, i0, rows, jc, nc, p0, kc, pi int) {
	im := j.im
	mr, nr := im.mr, im.nr
	nseg := j.rowSegments(ws, s, i0, rows, p0, kc)
	beta := j.beta
	if pi > j.k0 {
		beta = 1
	}
	// The first chunk's full tiles add the bias as they store (the
	// kernel's bias argument); the edge tiles are merged into C filled
	// from it. In biggan32 the fill before the product, a pass over
	// each convolution's output, took 4% of the step.
	bias := pi == j.k0 && j.bias != nil
	for jr := 0; jr < nc; jr += nr {
		cols := min(nr, nc-jr)
		bp := &b[jr*kc]
		off := i0*j.ldc + jc + jr
		if rows == mr && cols == nr {
			var bs *float32
			if bias {
				bs = &j.bias[jc+jr]
			}
			im.rows(nseg, &ws.segs[0], bp, &j.c[off], j.ldc, beta, bs)
			continue
		}
		if bias {
			j.fillBias(off, rows, cols, jc+jr)
		}
		im.rows(nseg, &ws.segs[0], bp, &ws.tile[0], nr, 0, nil)
		mergeTile(j.c[off:], j.ldc, ws.tile[:], nr, rows, cols, beta)
	}
	j.finish(pi, i0, rows, jc, nc)
}

// storedInPlace says whether a stored, untransposed A may be read in
// place by the rows kernel rather than packed (tests compare the two).
var storedInPlace = true

// inPlaceMaxN is the widest product whose stored A is read in place: an
// A micro-panel then serves at most 16 column panels of B, so packing it
// costs more than a 16th of its products. Measured on the Xeon
// (BenchmarkSgemmSmall and BenchmarkSgemm1024, one thread, three runs
// each, in place against packed): 512×128×256 at 198 against 181-185
// GFLOP/s, 6272×64×1024 at 189-191 against 157-167; but 1024³ (32
// column panels, rows 4 KB apart) at 186-191 against 194-195, and
// 64×6272×100 at 138 against 151 in a first run.
const inPlaceMaxN = 512

// inPlace says whether j's A is stored, untransposed and read in place:
// float32 kernels with a rows form, alpha 1, B at most inPlaceMaxN wide,
// rows not a multiple of 4 KB apart (the 12 rows of a tile would then
// share one set of L1), and the product on one thread. Split between two
// threads the same products measured no faster in place (6272×64×1024
// at 332-342 GFLOP/s against 338-340, 512×128×256 at 331-360 against
// 351-376), and the toy's step slower (661-680 against 684-703 step/s).
func (j *job) inPlace() bool {
	return storedInPlace && j.oneThread && j.a != nil && j.ga == nil && !j.transA && j.alpha == 1 &&
		j.im.rows != nil && !j.im.bf16 && j.n <= inPlaceMaxN && j.lda%1024 != 0
}

// inPlaceA is a stored, untransposed A as StridedRows: every row's
// columns are contiguous, lda apart.
type inPlaceA struct {
	a   []float32
	lda int
}

// Row implements Rows.
func (s *inPlaceA) Row(dst []float32, i, p0 int) { copy(dst, s.a[i*s.lda+p0:]) }

// Span implements StridedRows: all kc columns.
func (s *inPlaceA) Span(p0, kc int) int { return kc }

// Run implements StridedRows: all n rows, lda apart.
func (s *inPlaceA) Run(i0, n, p0 int) ([]float32, int, int) {
	return s.a[i0*s.lda+p0:], s.lda, n
}
