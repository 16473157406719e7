package tensor

import (
	"fmt"
	"sync"

	"github.com/minmaxgan/minmax/internal/gemm"
	"github.com/minmaxgan/minmax/internal/parallel"
)

// Convolutions in minmax work on channel-last images, NHWC: a batch of N
// images of H×W pixels with C channels stored as an (N·H·W)×C matrix. With
// this layout the unfolded patches of im2col are runs of C contiguous
// floats, a convolution's output comes straight out of one GEMM as
// (N·OH·OW)×O without a transposition, and bias and batch normalisation
// broadcast over rows. docs/architecture.md has the measurements that chose
// it over NCHW.

// ConvGeom is the geometry shared by a convolution and its transpose: the
// "big" image is H×W, the "small" one OH×OW, the kernel KH×KW, applied with
// stride SH×SW to the big image zero-padded by PH (top and bottom) and PW
// (left and right), so OH = (H + 2·PH − KH)/SH + 1 (rounded down) and
// likewise for OW. A convolution maps big to small; a transposed
// convolution maps small to big.
type ConvGeom struct {
	H, W, OH, OW int
	KH, KW       int
	SH, SW       int
	PH, PW       int
}

// NewConvGeom returns the geometry of a convolution of an H×W image with a
// KH×KW kernel, or an error naming what does not fit.
func NewConvGeom(h, w, kh, kw, sh, sw, ph, pw int) (ConvGeom, error) {
	g := ConvGeom{H: h, W: w, KH: kh, KW: kw, SH: sh, SW: sw, PH: ph, PW: pw}
	switch {
	case kh < 1 || kw < 1:
		return g, fmt.Errorf("kernel %d×%d: sizes must be at least 1", kh, kw)
	case sh < 1 || sw < 1:
		return g, fmt.Errorf("stride %d×%d: must be at least 1", sh, sw)
	case ph < 0 || pw < 0:
		return g, fmt.Errorf("padding %d×%d: must not be negative", ph, pw)
	case h < 1 || w < 1:
		return g, fmt.Errorf("image %d×%d: sizes must be at least 1", h, w)
	case h+2*ph < kh || w+2*pw < kw:
		return g, fmt.Errorf("kernel %d×%d is larger than the padded image %d×%d", kh, kw, h+2*ph, w+2*pw)
	}
	g.OH = (h+2*ph-kh)/sh + 1
	g.OW = (w+2*pw-kw)/sw + 1
	return g, nil
}

// NewConvTGeom returns the geometry of a transposed convolution that maps
// an H×W image to one of (H−1)·SH − 2·PH + KH + outPad rows (and likewise
// for columns): the inverse of NewConvGeom, with outPad (< stride) choosing
// among the big sizes that a strided convolution maps to the same size.
func NewConvTGeom(h, w, kh, kw, sh, sw, ph, pw, outPadH, outPadW int) (ConvGeom, error) {
	if outPadH < 0 || outPadW < 0 || (outPadH >= sh && sh > 0) || (outPadW >= sw && sw > 0) {
		return ConvGeom{}, fmt.Errorf("output padding %d×%d: must be non-negative and less than the stride %d×%d", outPadH, outPadW, sh, sw)
	}
	bh := (h-1)*sh - 2*ph + kh + outPadH
	bw := (w-1)*sw - 2*pw + kw + outPadW
	if h < 1 || w < 1 || bh < 1 || bw < 1 {
		return ConvGeom{}, fmt.Errorf("image %d×%d with kernel %d×%d, stride %d×%d and padding %d×%d gives an empty output", h, w, kh, kw, sh, sw, ph, pw)
	}
	g, err := NewConvGeom(bh, bw, kh, kw, sh, sw, ph, pw)
	if err != nil {
		return g, err
	}
	if g.OH != h || g.OW != w {
		return g, fmt.Errorf("internal: transposed geometry %d×%d -> %d×%d does not invert", h, w, bh, bw)
	}
	return g, nil
}

// PatchLen is the length of one unfolded patch for c channels: KH·KW·c.
func (g ConvGeom) PatchLen(c int) int { return g.KH * g.KW * c }

// convJob runs im2col or col2im over the worker pool.
type convJob struct {
	col, img []float32
	bias     []float32
	c        int
	g        ConvGeom
	scatter  bool // col2im (else im2col)
}

var convJobs = sync.Pool{New: func() any { return new(convJob) }}

func (j *convJob) Run(_, lo, hi int) {
	if j.scatter {
		for n := lo; n < hi; n++ {
			col2imImage(j.img, j.col, j.bias, n, j.c, &j.g)
		}
		return
	}
	im2colRows(j.col, j.img, lo, hi, j.c, &j.g)
}

// Im2Col unfolds the patches of x, n images of g.H×g.W×c (NHWC), into col,
// an (n·OH·OW)×(KH·KW·c) matrix: row (i, oy, ox) holds the pixels under the
// kernel placed at output position (oy, ox) of image i, ordered
// (ky, kx, channel), zeros where the kernel hangs over the padding. Rows are
// spread over the worker pool.
func Im2Col(col, x []float32, n, c int, g ConvGeom) {
	rows := n * g.OH * g.OW
	if len(col) < rows*g.PatchLen(c) || len(x) < n*g.H*g.W*c {
		panic("tensor.Im2Col: buffer too short for the geometry")
	}
	j := convJobs.Get().(*convJob)
	*j = convJob{col: col, img: x, c: c, g: g}
	p := parallel.Default()
	p.ForParts(rows, p.PartsFor(rows, 64), j)
	*j = convJob{}
	convJobs.Put(j)
}

func im2colRows(col, x []float32, lo, hi, c int, g *ConvGeom) {
	k := g.PatchLen(c)
	plane := g.OH * g.OW
	for r := lo; r < hi; r++ {
		img := r / plane
		oy := (r % plane) / g.OW
		ox := r % g.OW
		dst := col[r*k : (r+1)*k]
		base := img * g.H * g.W * c
		d := 0
		for ky := 0; ky < g.KH; ky++ {
			iy := oy*g.SH - g.PH + ky
			if iy < 0 || iy >= g.H {
				clear(dst[d : d+g.KW*c])
				d += g.KW * c
				continue
			}
			row := base + iy*g.W*c
			ix0 := ox*g.SW - g.PW
			if g.SW == 1 {
				// Stride 1: the taps of a kernel row that fall inside the
				// image are one contiguous run of the input row.
				kx0, kx1 := max(0, -ix0), min(g.KW, g.W-ix0)
				if kx0 > 0 {
					clear(dst[d : d+kx0*c])
				}
				if kx1 > kx0 {
					copy(dst[d+kx0*c:d+kx1*c], x[row+(ix0+kx0)*c:row+(ix0+kx1)*c])
				}
				if kx1 < g.KW {
					clear(dst[d+max(kx1, kx0)*c : d+g.KW*c])
				}
				d += g.KW * c
				continue
			}
			if c == 1 {
				for kx := 0; kx < g.KW; kx++ {
					ix := ix0 + kx
					if ix < 0 || ix >= g.W {
						dst[d] = 0
					} else {
						dst[d] = x[row+ix]
					}
					d++
				}
				continue
			}
			for kx := 0; kx < g.KW; kx++ {
				ix := ix0 + kx
				if ix < 0 || ix >= g.W {
					clear(dst[d : d+c])
				} else {
					copy(dst[d:d+c], x[row+ix*c:row+ix*c+c])
				}
				d += c
			}
		}
	}
}

// unfoldMaxK bounds the patch length (KH·KW·c) of the convolutions that
// are computed through unfolded patches (unfolds).
const unfoldMaxK = 64

// unfolds says whether ConvMatMul unfolds the patches of x into a matrix
// and multiplies that (unfold, then MatMul), and ConvMatMulKeep keeps it
// for the kernel gradient: images of so few channels that a kernel row
// is a run shorter than padBelow and a patch at most unfoldMaxK values
// (a discriminator's gray or RGB input, K = 16 or 27), into more than
// fewChannels, where neither direct path applies. Read in place, such
// patches cost the rows kernel a segment of 4 to 9 values per kernel row
// and row of A, and the kernel gradient gathered every patch through
// patches.Row; the unfolded matrix is small (K values per output
// position, a few times the image). dcgan28's first discriminator
// convolution (64 images of 28×28×1 into 14×14×64;
// BenchmarkConvFewChannels, one thread, Zen 5, two alternations): the
// forward product 0.32 ms against 0.49-0.50 read in place, the kernel
// gradient from the kept matrix 0.40 ms against 0.83 gathered, and
// unfolding anew (a transposed convolution's kernel gradient, G's last
// layer) 0.52-0.53 ms. The bits are those of Im2Col then MatMul, as on
// the other paths.
func unfolds(c, o, rows int, g ConvGeom) bool {
	return g.KW*c < padBelow && g.PatchLen(c) <= unfoldMaxK && o > fewChannels && rows >= 64 &&
		!g.IsPointwise() && !direct(c, o, rows, g) && !fewDirect(c, o, rows, g)
}

// unfoldPool holds the unfolded patches of the products that do not keep
// them (patchMatrix).
var unfoldPool = sync.Pool{New: func() any { return new([]float32) }}

// floatsFrom takes a buffer of n floats from pool (a pool of *[]float32),
// grown where it is short; the handle goes back to the pool when done.
func floatsFrom(pool *sync.Pool, n int) (*[]float32, []float32) {
	bp := pool.Get().(*[]float32)
	if cap(*bp) < n {
		*bp = make([]float32, n)
	}
	return bp, (*bp)[:n]
}

// patchMatrix returns the buffer for size values of unfolded patches:
// keep where it has that length (it then holds them, or will), else one
// from unfoldPool, whose handle bp the caller puts back.
func patchMatrix(keep []float32, size int) (col []float32, bp *[]float32) {
	if len(keep) == size {
		return keep, nil
	}
	bp, col = floatsFrom(&unfoldPool, size)
	return col, bp
}

// unfold is Im2Col for images of few channels (a kernel row of at most a
// few dozen values): where the kernel hangs over the padding, the images
// are copied zero-padded first (stridedPatches.pad), and every patch is
// then copied from that copy a kernel row at a time, with one bounds
// check and no call per run. The result is Im2Col's (which stays the
// plain reference the tests check it against).
func unfold(col, x []float32, n, c int, g ConvGeom) {
	rows := n * g.OH * g.OW
	if len(col) < rows*g.PatchLen(c) || len(x) < n*g.H*g.W*c {
		panic("tensor.unfold: buffer too short for the geometry")
	}
	p := getPatches(x, c, g)
	if g.PH > 0 || g.PW > 0 {
		p.pad(x, n, c, g)
	}
	j := unfoldJobs.Get().(*unfoldJob)
	*j = unfoldJob{col: col, xp: p.x, hp: p.g.H, wp: p.g.W, c: c, g: g}
	pool := parallel.Default()
	pool.ForParts(n*g.OH, pool.PartsFor(rows*g.PatchLen(c), parallelGrain), j)
	*j = unfoldJob{}
	unfoldJobs.Put(j)
	p.release()
}

var unfoldJobs = sync.Pool{New: func() any { return new(unfoldJob) }}

// unfoldJob unfolds output rows (image·OH + oy) of patches from xp, the
// images padded to hp×wp.
type unfoldJob struct {
	col, xp []float32
	hp, wp  int
	c       int
	g       ConvGeom
}

func (j *unfoldJob) Run(_, lo, hi int) {
	g, c := &j.g, j.c
	k, run := g.PatchLen(c), g.KW*c
	step := g.SW * c
	if run == 4 && g.KH == 4 { // k = 16: a patch is a cache line
		for r := lo; r < hi; r++ {
			img, oy := r/g.OH, r%g.OH
			row := j.xp[((img*j.hp+oy*g.SH)*j.wp)*c:]
			patches16(j.col[r*g.OW*k:(r+1)*g.OW*k], row, j.wp*c, g.OW, step)
		}
		return
	}
	for r := lo; r < hi; r++ {
		img, oy := r/g.OH, r%g.OH
		dst := j.col[r*g.OW*k : (r+1)*g.OW*k]
		for ky := range g.KH {
			row := j.xp[((img*j.hp+oy*g.SH+ky)*j.wp)*c:]
			d, s := ky*run, 0
			switch run { // runs of a few values: no call, one bounds check
			case 4: // 4 taps of 1 channel
				for range g.OW {
					*(*[4]float32)(dst[d:]) = *(*[4]float32)(row[s:])
					d, s = d+k, s+step
				}
			case 9: // 3 taps of 3 channels (3×3 kernels on RGB)
				for range g.OW {
					*(*[9]float32)(dst[d:]) = *(*[9]float32)(row[s:])
					d, s = d+k, s+step
				}
			default:
				for range g.OW {
					copy(dst[d:d+run], row[s:s+run])
					d, s = d+k, s+step
				}
			}
		}
	}
}

// patches16 writes count patches of 4×4 values, patch i taking 4 values
// from each of 4 rows ld apart, starting at src[i·ss]; each patch's 16
// values (a cache line) are written together.
func patches16(dst, src []float32, ld, count, ss int) {
	if count <= 0 {
		return
	}
	dst = dst[:count*16]
	r0 := src[:(count-1)*ss+4]
	r1 := src[ld : ld+(count-1)*ss+4]
	r2 := src[2*ld : 2*ld+(count-1)*ss+4]
	r3 := src[3*ld : 3*ld+(count-1)*ss+4]
	for i := range count {
		s := i * ss
		d := (*[16]float32)(dst[i*16:])
		*(*[4]float32)(d[0:]) = *(*[4]float32)(r0[s:])
		*(*[4]float32)(d[4:]) = *(*[4]float32)(r1[s:])
		*(*[4]float32)(d[8:]) = *(*[4]float32)(r2[s:])
		*(*[4]float32)(d[12:]) = *(*[4]float32)(r3[s:])
	}
}

// IsPointwise reports whether the geometry is a 1×1 kernel with stride 1
// and no padding, whose unfolded patches are the image itself.
func (g ConvGeom) IsPointwise() bool {
	return g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.PH == 0 && g.PW == 0
}

// FillRows writes row into each of the len(dst)/len(row) rows of dst:
// by doubling copies up to a block of whole rows of about 8 KB, then by
// copies of that block, which stays in the L1 cache (doubling all the way
// reads back what was written, from memory, for large dst).
func FillRows(dst, row []float32) {
	if len(row) == 0 || len(dst) == 0 {
		return
	}
	block := max(len(row), 2048/len(row)*len(row))
	n := copy(dst, row)
	for n < len(dst) && n < block {
		n += copy(dst[n:], dst[:min(n, block-n)])
	}
	for n < len(dst) {
		n += copy(dst[n:], dst[:block])
	}
}

// Col2Im is the adjoint of Im2Col: it folds col, (n·OH·OW)×(KH·KW·c), back
// into dst, n images of g.H×g.W×c, summing the contributions that overlap;
// dst starts from bias (one value per channel) or from zero when bias is
// nil. Images are spread over the worker pool; each is summed in a fixed
// order, so the result does not depend on the thread count.
func Col2Im(dst, col, bias []float32, n, c int, g ConvGeom) {
	if len(col) < n*g.OH*g.OW*g.PatchLen(c) || len(dst) < n*g.H*g.W*c || (bias != nil && len(bias) != c) {
		panic("tensor.Col2Im: buffer too short for the geometry")
	}
	j := convJobs.Get().(*convJob)
	*j = convJob{col: col, img: dst, bias: bias, c: c, g: g, scatter: true}
	parallel.Default().For(n, j)
	*j = convJob{}
	convJobs.Put(j)
}

func col2imImage(dst, col, bias []float32, img, c int, g *ConvGeom) {
	out := dst[img*g.H*g.W*c : (img+1)*g.H*g.W*c]
	if bias == nil {
		clear(out)
	} else {
		FillRows(out, bias)
	}
	k := g.PatchLen(c)
	r := img * g.OH * g.OW
	for oy := 0; oy < g.OH; oy++ {
		for ox := 0; ox < g.OW; ox++ {
			addPatch(out, col[r*k:(r+1)*k], oy, ox, c, g)
			r++
		}
	}
}

// addPatch adds src, the patch of output position (oy, ox) (the KH·KW·c
// columns of its row), to the image out: kernel row by kernel row, the
// taps that fall inside the image. A fold adds its patches in position
// order, so every element sums its terms in that order.
func addPatch(out, src []float32, oy, ox, c int, g *ConvGeom) {
	s := 0
	for ky := 0; ky < g.KH; ky++ {
		iy := oy*g.SH - g.PH + ky
		if iy < 0 || iy >= g.H {
			s += g.KW * c
			continue
		}
		// The taps of this kernel row that fall inside the image, kx in
		// [kx0, kx1), add to one contiguous run of it (any stride), each
		// element once: one call for the run.
		ix0 := ox*g.SW - g.PW
		kx0, kx1 := max(0, -ix0), min(g.KW, g.W-ix0)
		if kx0 < kx1 {
			at := (iy*g.W + ix0 + kx0) * c
			d := out[at : at+(kx1-kx0)*c]
			v := src[s+kx0*c : s+kx1*c]
			j := 0
			if len(d) >= 8 {
				// Shorter runs (images of one or a few channels: a
				// kernel row of 4 values) are added inline: the call
				// cost more than the run (dcgan28's last layer, 64
				// images, folded in 324 µs with the call, 272 without).
				j = simdBin(0, d, d, v) // d += v, bit-identical to the loop
			}
			for i := j; i < len(d); i++ {
				d[i] += v[i]
			}
		}
		s += g.KW * c
	}
}

// patches serves the rows of im2col(x) without unfolding x: the computed
// operand of ConvMatMul and ConvWeightMatMul (gemm.Rows).
type patches struct {
	x []float32
	c int
	g ConvGeom
}

// Row writes columns [p0, p0+len(dst)) of row r of im2col(x): the taps
// (ky, kx, channel) of the kernel at output position r, zero over the
// padding. Taps of one kernel row that lie inside the image are contiguous
// in x (for any stride), and are copied as one run.
func (p *patches) Row(dst []float32, r, p0 int) {
	g, c := &p.g, p.c
	plane := g.OH * g.OW
	img := r / plane
	oy := (r % plane) / g.OW
	ox := r % g.OW
	base := img * g.H * g.W * c
	p1 := p0 + len(dst)
	rowLen := g.KW * c
	for q := p0; q < p1; {
		ky := q / rowLen
		end := min(p1, (ky+1)*rowLen) // the rest of this kernel row
		d := dst[q-p0 : end-p0]
		iy := oy*g.SH - g.PH + ky
		if iy < 0 || iy >= g.H {
			clear(d)
			q = end
			continue
		}
		// Columns [q, end) are taps kx.. of this kernel row, whatever the
		// stride: consecutive taps read consecutive image columns, so the
		// taps inside the image, kx in [max(0, -ix0), W - ix0), are one
		// contiguous run of it, copied at once.
		ix0 := ox*g.SW - g.PW // image column of tap kx = 0
		in0 := ky*rowLen + max(0, -ix0)*c
		in1 := ky*rowLen + min(g.KW, g.W-ix0)*c
		lo, hi := max(q, in0), min(end, in1)
		if hi <= lo {
			clear(d)
		} else {
			clear(d[:lo-q])
			src := base + iy*g.W*c + (ix0*c + lo - ky*rowLen)
			copy(d[lo-q:hi-q], p.x[src:src+hi-lo])
			clear(d[hi-q:])
		}
		q = end
	}
}

// ConvMatMul computes out = im2col(x)·wᵀ + bias, (n·OH·OW)×o, for n
// images x of g.H×g.W×c (NHWC), a kernel w, o×(KH·KW·c), and bias (o
// values, or nil for none), adding to out when accumulate is set (then
// bias must be nil). x is not unfolded: the product packs each block of
// patches straight from the image, or reads them there in place (the
// rows kernel, gemm.StridedRows), so the result is bit-identical to
// Im2Col, FillRows with the bias and MatMul, without the unfolded matrix
// (KH·KW times the image) in memory or a separate pass for the bias. x is
// not padded either, but for images of very few channels (see padBelow)
// and in bfloat16, where the patches are read from a padded copy rounded
// once (stridedPatches.padBF16).
func ConvMatMul(out, x, w, bias []float32, n, c, o int, g ConvGeom, accumulate bool) {
	ConvMatMulKeep(out, x, w, bias, n, c, o, g, accumulate, nil)
}

// KeepLen is the length of what ConvMatMulKeep can leave for
// ConvWeightMatMulPadded: the unfolded patches of an image of few
// channels (unfolds), or else the padded copy of the image where the
// convolution takes both direct paths in float32 and one of them reads
// it (the direct forward kernel, or a kernel gradient that reads no
// unpadded images: weightsUnpadded), or 0 (in bfloat16 the direct paths'
// two copies differ: rounded values, and pairs of positions).
func KeepLen(n, c, o int, g ConvGeom) int {
	rows := n * g.OH * g.OW
	if unfolds(c, o, rows, g) {
		return rows * g.PatchLen(c)
	}
	if gemm.CurrentPrecision() != gemm.Float32 || o%4 != 0 || !direct(c, o, rows, g) || !directWeights(c, o, rows, g) {
		return 0
	}
	if rowsPadded(c, g) && weightsUnpadded(n, c, o, g) {
		return 0 // both read x where it lies
	}
	a := directTaps(n, c, g, []int{(g.KH-1)*(g.W+2*g.PW) + g.KW - 1}) // Len needs the largest offset only
	return a.Len()
}

// ConvMatMulKeep is ConvMatMul, which leaves the unfolded patches or the
// zero-padded copy of x it makes (see KeepLen) in keep when len(keep) is
// KeepLen (keep is otherwise unused) and says whether it did: the
// convolution's kernel gradient then reads it (ConvWeightMatMulPadded)
// instead of unfolding or padding x again.
func ConvMatMulKeep(out, x, w, bias []float32, n, c, o int, g ConvGeom, accumulate bool, keep []float32) (kept bool) {
	return convMatMul(out, x, w, bias, n, c, o, g, accumulate, keep, outOp{})
}

// ConvMatMulReLUMask is ConvMatMul without a bias or accumulate, its
// output kept where mask (of the output's shape) is > 0 or NaN and zeroed
// elsewhere: ReLUMask(out, mask, out) after it, the gradient of a ReLU
// whose output is mask reaching it through a convolution (a stride-1
// transposed convolution's input gradient, computed as a convolution).
// The mask is applied as ConvMatMulAct applies an activation: by the
// product's threads to the tiles they finish, or in a pass after it.
func ConvMatMulReLUMask(out, x, w, mask []float32, n, c, o int, g ConvGeom) {
	if len(mask) < n*g.OH*g.OW*o {
		panic("tensor.ConvMatMulReLUMask: mask shorter than the output")
	}
	convMatMul(out, x, w, nil, n, c, o, g, false, nil, outOp{mask: mask})
}

// ConvMatMulAct is ConvMatMulKeep without accumulate, with the activation
// act applied to the output: by the product's threads as they finish its
// tiles where the convolution is a packed product (unfolded patches,
// patches gathered or read in place), else in a pass after it (the direct
// kernels, few channels). The values are those of ConvMatMulKeep then the
// activation.
func ConvMatMulAct(out, x, w, bias []float32, n, c, o int, g ConvGeom, keep []float32, act Act) (kept bool) {
	return convMatMul(out, x, w, bias, n, c, o, g, false, keep, outOp{act: act})
}

// convMatMul is ConvMatMulKeep with what act does to the output (an
// activation or a ReLU's mask; nothing with accumulate).
func convMatMul(out, x, w, bias []float32, n, c, o int, g ConvGeom, accumulate bool, keep []float32, act outOp) (kept bool) {
	rows, k := n*g.OH*g.OW, g.PatchLen(c)
	if len(x) < n*g.H*g.W*c || len(w) < o*k || len(out) < rows*o || (bias != nil && (len(bias) != o || accumulate)) || ((act.act.Kind != ActNone || act.mask != nil) && accumulate) {
		panic("tensor.ConvMatMul: buffer too short for the geometry, or a bias or an activation with accumulate")
	}
	padded := direct(c, o, rows, g)
	if padded && !rowsPadded(c, g) {
		if len(keep) == 0 || len(keep) != KeepLen(n, c, o, g) {
			keep = nil
		}
		convDirect(out, x, w, bias, n, c, o, g, accumulate, keep)
		act.apply(out[:rows*o])
		return keep != nil
	}
	if fewDirect(c, o, rows, g) {
		convFewTaps(out, x, w, bias, n, c, o, g, accumulate)
		act.apply(out[:rows*o])
		return false
	}
	post, pooled := act.epilogue(o)
	defer putPost(pooled)
	if unfolds(c, o, rows, g) {
		col, bp := patchMatrix(keep, rows*k)
		unfold(col, x, n, c, g)
		switch {
		case post != nil:
			gemm.SgemmPost(nil, false, true, rows, o, k, col, k, w, k, bias, out, o, post)
		case bias != nil:
			MatMulBias(out, col, w, bias, rows, o, k, false, true)
		default:
			MatMul(out, col, w, rows, o, k, false, true, accumulate)
		}
		if bp != nil {
			unfoldPool.Put(bp)
		}
		return bp == nil
	}
	p := getPatches(x, c, g)
	f32 := gemm.CurrentPrecision() == gemm.Float32
	switch {
	case padded && f32 && len(keep) > 0 && len(keep) == KeepLen(n, c, o, g):
		// The padded copy the direct kernel gradient reads (where it
		// reads no unpadded images: weightsUnpadded), made now and read
		// by the product too.
		kept = true
		p.padInto(keep, x, n, c, g)
	case (g.PH > 0 || g.PW > 0) && g.KW*c < padBelow:
		p.pad(x, n, c, g)
	}
	// Otherwise the product reads the patches where they lie in x, and
	// gathers those over the padding (rowsPadded).
	var a gemm.Rows = p
	if o > fewChannels && g.KW*c >= padBelow && g.KW*c%2 == 0 && gemm.CurrentPrecision() == gemm.BFloat16 && gemm.InBF16(rows, o, k) {
		// The product reads the patches in place in bfloat16: from a
		// padded copy of x rounded once, rather than rounding every
		// patch (each value of x KH·KW/(SH·SW) times) as it packs them.
		p.padBF16(x, n, c)
		a = bf16Patches{p}
	}
	switch {
	case o <= fewChannels && rows >= 64:
		convFewChannels(out, w, bias, p, rows, k, o, accumulate)
		act.apply(out[:rows*o])
	case post != nil:
		gemm.SgemmRowsAPost(nil, rows, o, k, a, true, w, k, bias, out, o, post)
	case bias != nil:
		gemm.SgemmRowsABias(nil, rows, o, k, a, true, w, k, bias, out, o)
	case accumulate:
		gemm.SgemmRowsA(nil, rows, o, k, 1, a, true, w, k, 1, out, o)
	default:
		gemm.SgemmRowsA(nil, rows, o, k, 1, a, true, w, k, 0, out, o)
	}
	p.release()
	return kept
}

// rowsPadded says whether a convolution that direct admits is computed
// instead by the rows kernel (gemm.SgemmRowsA), every patch of the
// zero-padded image read in place: where a kernel row holds at least
// rowsPaddedMin values. In float32 the patches are read where they lie
// in x, and those over the padding gathered (stridedPatches), except
// where the forward makes the padded copy its kernel gradient will read
// (KeepLen: CPUs whose kernel gradient reads no unpadded images,
// weightsUnpadded); in bfloat16 from a padded copy rounded once
// (padBF16). The direct kernel computes its strips over the padded grid,
// whose columns past OW (2 of 34 at 32×32, 2 of 18 at 16×16) are
// products thrown away; the rows kernel computes the outputs only, but
// restarts its 12 row pointers at every kernel row, a cost it amortises
// over KW·c steps. BenchmarkConvDirect on Zen 5 (two alternations,
// GFLOP/s, rows over a padded copy against direct):
//
//	128 images 32×32×64 → 64, float32: 163-170 against 157-165 on one
//	  thread, 308-329 against 268-300 on two;
//	64 images 16×16×64 → 64, float32: 165-172 against 122-154, 324-348
//	  against 296-298; bfloat16 304-332 against 242-305, 566-675
//	  against 540-591;
//	64 images 28×28×32 → 32 (KW·c = 96): bfloat16 227-243 against
//	  303-304, 492 against 602-612: direct stays there.
//
// The biggan32 step (64 channels), three alternations: 1.139-1.177
// against 1.069-1.119 step/s on one thread, 1.787-1.938 against
// 1.719-1.913 on two. In float32 the padded copy itself then cost: 52
// ms of a 960 ms biggan32 step at one thread on the Sapphire-Rapids-class
// Xeon (timers, not committed), each 64 images of 32×32×64 (16.8 MB)
// written as 19 MB, then read back from memory by the product and the
// kernel gradient; read in place, the product gathers the patches over
// the padding (12% of the rows at 32×32) into rows it reads from L1, and
// the kernel gradient skips the padding's taps. biggan32, three
// alternations: 1.063-1.079 against 1.005-1.046 step/s on one thread,
// 1.937-1.979 against 1.834-1.890 on two. The rows kernel's products are
// those of the packed path, in the same order, and zeros gathered or
// copied are the same zeros: the bits are unchanged.
//
// Where the kernel reads no rows in place (AMX: gemm.RowsAvailable), the
// direct kernel takes those convolutions, as their patches would
// otherwise be gathered and packed.
func rowsPadded(c int, g ConvGeom) bool { return g.KW*c >= rowsPaddedMin && gemm.RowsAvailable() }

// rowsPaddedMin is rowsPadded's threshold on KW·c.
const rowsPaddedMin = 192

// direct says whether ConvMatMul computes a convolution directly
// (gemm.SgemmTaps: the micro-kernel reads the padded image in place, no
// packed patches) or by the rows kernel reading every patch in place
// (rowsPadded): stride 1, at least directMinChannels channels in and more
// than fewChannels out, where the CPU's kernel has a direct form or the
// kernel rows are long enough for rowsPadded. Without a direct form
// (AVX2) the rows kernel still pays where the kernel gradient is direct;
// where that gradient reads only padded images (AVX2 again), the forward
// makes the padded copy, reads it, and leaves it for the gradient
// (KeepLen) rather than the gradient padding x again (biggan32 on Zen 3,
// two threads: that second copy was 3% of the step).
// Packing the patches of a convolution to few channels costs about as much
// as the product (each packed value serves only o columns): biggan's 3×3
// convolutions of 32 channels at 28×28 spent 0.7 s packing per second of
// kernel.
func direct(c, o, rows int, g ConvGeom) bool {
	return directConv && g.SH == 1 && g.SW == 1 && c >= directMinChannels && o > fewChannels && rows >= 64 &&
		(gemm.TapsAvailable(c) || rowsPadded(c, g))
}

// directWeights says whether ConvWeightMatMul sums the kernel gradient
// directly (gemm.SgemmTapsW, reading a padded copy of the image in place:
// the packed path copies every patch, 9 values per value of the image for
// a 3×3 kernel, and spent as long packing as multiplying on biggan's
// convolutions in bfloat16): the same stride along both axes, at least 64
// outputs, and the kernel's conditions (c a multiple of 32; in bfloat16
// an even padded width and a padded plane a multiple of twice the
// stride); o is rounded up to a multiple of 4 with zero columns of dy.
//
// At stride 2 (DCGAN's 4×4 convolutions) the padded copy is written once
// and read in place, where the packed path copies 4 patch values per value
// of the image: dcgan28's 14×14×64 → 7×7×128 gradient on one thread
// (BenchmarkConvWeightStrided64, three alternations on Zen 5) ran at
// 168-191 GFLOP/s against 135-158 packed; the dcgan28 step, with the
// C-tile prefetch of the same change, 1.054x at 1 thread and 1.041x at 2.
func directWeights(c, o, rows int, g ConvGeom) bool {
	if !directConv || g.SH != g.SW || g.IsPointwise() || rows < 64 {
		return false
	}
	a := directTaps(1, c, g, nil)
	return gemm.TapsWAvailable(&a, (o+3)&^3)
}

// patchWeights computes the kernel gradient dw = dyᵀ·col of a convolution
// of unfolded patches (col, rows×k, k the patch length, with rows = n
// output grids of g) through the direct kernel gradient, where it can:
// the product is a sum of rows outer products of o by k values, and its
// transpose colᵀ·dy is the direct kernel gradient of "images" of o
// channels (dy's rows, one tap at offset 0) with k output channels, in
// tiles of 12 patch columns by 32 channels of dy read where they lie. The
// packed product packs all of dy and col to fill a 64×16 result (dcgan28's
// first discriminator layer, K = 12,544): 0.36-0.40 ms against 0.13-0.14
// through the direct kernel at 1 thread, 0.25-0.35 against 0.07-0.08 at 2
// (BenchmarkConvWeightPatches). It needs o a multiple of 32, k of 4, and
// a kernel gradient for that geometry on this CPU (gemm.TapsWAvailable);
// it reports whether it computed dw. The sums run in the direct kernel's
// order, not MatMul's: the two differ by rounding. They are float32 sums
// of float32 products at any precision (gemm.Taps.Float32): each value
// takes part in 16 or 64 products, too few for bfloat16 pairs to pay (2
// threads: 0.08 ms against 0.24 in bfloat16, and 0.37-0.40 packed in
// bfloat16).
func patchWeights(dw, dy, col []float32, n, o, k int, g ConvGeom) bool {
	if !patchDirect(n, o, k, g) {
		return false
	}
	d := directPool.Get().(*directOperand)
	defer directPool.Put(d)
	d.taps = patchTaps(n, o, g, append(d.taps.Offs[:0], 0))
	d.taps.X = dy
	if cap(d.zbuf) < o*k {
		d.zbuf = make([]float32, o*k)
	}
	dwt := d.zbuf[:o*k] // k×o
	gemm.SgemmTapsW(nil, &d.taps, k, col, dwt, false)
	d.taps.X = nil
	for i := range o {
		row := dw[i*k : (i+1)*k]
		for j := range row {
			row[j] = dwt[j*o+i]
		}
	}
	return true
}

// patchTaps is the geometry under which patchWeights reads the output
// gradient of n grids of g with o channels (offs: the one tap, 0).
func patchTaps(n, o int, g ConvGeom, offs []int) gemm.Taps {
	return gemm.Taps{C: o, Images: n, Plane: g.OH * g.OW, Width: g.OW, OH: g.OH, OW: g.OW, Offs: offs, Stride: 1, Float32: true}
}

// patchDirect says whether patchWeights computes the kernel gradient of
// patches of length k with o output channels over n grids of g.
func patchDirect(n, o, k int, g ConvGeom) bool {
	if !directConv || o%32 != 0 || k%4 != 0 {
		return false
	}
	a := patchTaps(n, o, g, []int{0})
	return gemm.TapsWAvailable(&a, k)
}

// directConv switches the direct path on (tests and benchmarks compare
// it with the packed one).
var directConv = true

// directMinChannels: images of fewer channels than this are convolved
// through packed patches (their taps are runs too short for the direct
// kernel's loop over channels; the threshold is a guess, not measured:
// the convolutions of 1 and 3 channels measured so far are padded and
// packed, see padBelow).
const directMinChannels = 8

// convDirect is ConvMatMul through gemm.SgemmTaps: the image is copied
// once, zero-padded and with the slack the kernel's strips read past the
// last image, and every tap of the kernel is an offset into the copy.
func convDirect(out, x, w, bias []float32, n, c, o int, g ConvGeom, accumulate bool, keep []float32) {
	d := directPool.Get().(*directOperand)
	d.geometry(n, c, g)
	need := d.taps.Len()
	if keep != nil { // float32, the caller's buffer (KeepLen)
		d.taps.X = keep
		PadImages(keep, x, n, g.H, g.W, c, g.PH, g.PW)
		clear(keep[n*d.taps.Plane*c:])
	} else if gemm.InBF16(n*g.OH*g.OW, o, len(d.taps.Offs)*c) {
		// The padded copy is rounded to bfloat16 as it is made: half
		// the bytes, and no second pass in SgemmTaps.
		if cap(d.bbuf) < need {
			d.bbuf = make([]uint16, need)
		}
		d.taps.XB = d.bbuf[:need]
		padImages(nil, d.taps.XB, x, n, g.H, g.W, c, g.PH, g.PW)
		clear(d.taps.XB[n*d.taps.Plane*c:])
	} else {
		if cap(d.buf) < need {
			d.buf = make([]float32, need)
		}
		d.taps.X = d.buf[:need]
		PadImages(d.taps.X, x, n, g.H, g.W, c, g.PH, g.PW)
		clear(d.taps.X[n*d.taps.Plane*c:])
	}
	gemm.SgemmTaps(nil, &d.taps, o, w, bias, accumulate, out)
	d.taps.X, d.taps.XB = nil, nil
	directPool.Put(d)
}

// directOperand is a pooled direct operand and its padded copy (float32,
// or bfloat16 bits in BFloat16), so that steady-state convolutions
// allocate nothing.
type directOperand struct {
	taps gemm.Taps
	buf  []float32
	bbuf []uint16
	pbuf []uint32      // the weight gradient's pairs (gemm.Taps.XP)
	zbuf []float32     // convFewTaps's transposed kernel and products
	unp  gemm.Unpadded // taps.Unpadded's image, kept here so as not to allocate
}

var directPool = sync.Pool{New: func() any { return new(directOperand) }}

// unpaddedWeights lets the direct kernel gradient read images without
// their padding (gemm.Taps.Unpadded); tests turn it off to compare.
var unpaddedWeights = true

// geometry sets d.taps to the direct operand of n images of c channels
// padded as g pads them (X and XB unset).
func (d *directOperand) geometry(n, c int, g ConvGeom) {
	wp := g.W + 2*g.PW
	offs := d.taps.Offs[:0]
	for ky := range g.KH {
		for kx := range g.KW {
			offs = append(offs, ky*wp+kx)
		}
	}
	d.taps = directTaps(n, c, g, offs)
}

// weightsUnpadded says whether the direct kernel gradient of a
// convolution of n images of c channels into o under g reads the images
// where they lie, skipping the taps over the padding (gemm.Unpadded),
// rather than a padded copy: in float32 where the kernel has that form.
func weightsUnpadded(n, c, o int, g ConvGeom) bool {
	a := directTaps(n, c, g, []int{0})
	return unpaddedWeights && gemm.UnpaddedAvailable(&a, o)
}

// directTaps is the direct operand of n images of c channels padded as g
// pads them, with the tap offsets offs (X and XB unset).
func directTaps(n, c int, g ConvGeom, offs []int) gemm.Taps {
	wp := g.W + 2*g.PW
	return gemm.Taps{C: c, Images: n, Plane: (g.H + 2*g.PH) * wp, Width: wp, OH: g.OH, OW: g.OW, Offs: offs, Stride: g.SH}
}

// fewDirect says whether ConvMatMul computes a stride-1 convolution to
// at most fewChannels channels tap by tap (convFewTaps): from at least
// directMinChannels channels, where the gathered patches would be packed
// row by row for a matrix-vector product (G's last layer, 32 channels to
// 1 at 28×28, spent 6 ms a step gathering them).
func fewDirect(c, o, rows int, g ConvGeom) bool {
	return directConv && g.SH == 1 && g.SW == 1 && !g.IsPointwise() && c >= directMinChannels && o <= fewChannels && rows >= 64
}

// convFewTaps computes ConvMatMul's out for few output channels tap by
// tap: Z = X·Wᵀ over every position of the images X (not padded), one
// column per tap and output channel (one product, no patches), then each
// output is the sum over the taps of Z at the position the tap reads,
// where that lies inside the image (fewTapsJob). Each output is summed
// over the channels within a tap, then over the taps in order: not
// Im2Col then MatMul's order, the same at any thread count.
//
// Z was taken over a padded copy of X before, and the taps summed output
// by output with an index computed per term: on biggan32's last
// generator layer (64 images of 32×32×64 into 3 channels,
// BenchmarkConvFewOut/forward, one thread, Zen 5, three alternations)
// that took 5.8-6.0 ms, this 3.8-3.9. (Its kernel gradient stays the
// direct one with dy widened to 4 channels: as a product over the
// positions, Xᵀ·(dy shifted per tap), it took 5.9 ms against 3.6.)
func convFewTaps(out, x, w, bias []float32, n, c, o int, g ConvGeom, accumulate bool) {
	taps := g.KH * g.KW
	pos := n * g.H * g.W
	cols := taps * o
	need := cols*c + pos*cols
	bp, buf := floatsFrom(&fewPool, need)
	wt, z := buf[:cols*c], buf[cols*c:]
	for oo := range o { // wt[ci][t·o + oo] = w[oo][t][ci]
		for t := range taps {
			src := w[(oo*taps+t)*c : (oo*taps+t+1)*c]
			for ci, v := range src {
				wt[ci*cols+t*o+oo] = v
			}
		}
	}
	gemm.Sgemm(nil, false, false, pos, cols, c, 1, x, c, wt, cols, 0, z, cols)
	j := fewTapsJobs.Get().(*fewTapsJob)
	*j = fewTapsJob{out: out, z: z, bias: bias, accumulate: accumulate, o: o, g: g}
	parallel.Default().For(n*g.OH, j)
	*j = fewTapsJob{}
	fewTapsJobs.Put(j)
	fewPool.Put(bp)
}

var fewTapsJobs = sync.Pool{New: func() any { return new(fewTapsJob) }}

// fewTapsJob sums convFewTaps's taps for output rows (image·OH + y).
type fewTapsJob struct {
	out, z, bias []float32
	accumulate   bool
	o            int
	g            ConvGeom
}

// outputsIn returns the outputs [lo, hi) along one axis whose tap kx
// reads inside the image: ix = ox·sw − pw + kx in [0, w), for ox from
// ⌈(pw − kx)/sw⌉ to ⌊(w − 1 + pw − kx)/sw⌋, within [0, ow).
func outputsIn(kx, pw, sw, w, ow int) (lo, hi int) {
	if last := w - 1 + pw - kx; last >= 0 {
		hi = min(ow, last/sw+1)
	}
	return min(hi, max(0, (pw-kx+sw-1)/sw)), hi
}

func (j *fewTapsJob) Run(_, lo, hi int) {
	g, o := &j.g, j.o
	cols := g.KH * g.KW * o
	for r := lo; r < hi; r++ {
		img, oy := r/g.OH, r%g.OH
		dst := j.out[r*g.OW*o : (r+1)*g.OW*o]
		switch {
		case j.bias != nil:
			FillRows(dst, j.bias)
		case !j.accumulate:
			clear(dst)
		}
		for ky := range g.KH {
			iy := oy*g.SH - g.PH + ky
			if iy < 0 || iy >= g.H {
				continue
			}
			zrow := j.z[(img*g.H+iy)*g.W*cols : (img*g.H+iy+1)*g.W*cols]
			for kx := range g.KW {
				x0, x1 := outputsIn(kx, g.PW, g.SW, g.W, g.OW)
				if x0 == x1 {
					continue
				}
				// Output ox adds the o values of tap t at image column
				// ix = ox·SW − PW + kx: steps of o in dst, SW·cols in Z.
				zi := (x0*g.SW-g.PW+kx)*cols + (ky*g.KW+kx)*o
				if o == 3 { // RGB: one bounds check per output
					for di := x0 * o; di < x1*o; di += o {
						d, zs := (*[3]float32)(dst[di:]), (*[3]float32)(zrow[zi:])
						d[0], d[1], d[2] = d[0]+zs[0], d[1]+zs[1], d[2]+zs[2]
						zi += g.SW * cols
					}
					continue
				}
				for di := x0 * o; di < x1*o; di += o {
					d, zs := dst[di:di+o], zrow[zi:zi+o]
					for i := range d {
						d[i] += zs[i]
					}
					zi += g.SW * cols
				}
			}
		}
	}
}

// fewChannels: a convolution to at most this many channels is computed
// transposed, outᵀ = w·patchesᵀ (gemm.SgemmRowsBT). As patches·wᵀ each
// 12×32 tile of the product has only o useful columns: G's last layer (64
// to 3 channels at 32×32) cost as much as one to 32 channels.
const fewChannels = 4

// convFewChannels computes ConvMatMul's out (rows×o, o ≤ fewChannels)
// transposed in a scratch buffer that starts from what out's elements
// start from (bias, out itself, or nothing), so each element sees the
// same sums in the same order as the untransposed product: the same bits.
func convFewChannels(out, w, bias []float32, p *stridedPatches, rows, k, o int, accumulate bool) {
	bp, ct := floatsFrom(&fewPool, o*rows)
	var beta float32 = 1
	switch {
	case bias != nil:
		for j := range o {
			d := ct[j*rows : (j+1)*rows]
			for i := range d {
				d[i] = bias[j]
			}
		}
	case accumulate:
		for r := range rows {
			for j := range o {
				ct[j*rows+r] = out[r*o+j]
			}
		}
	default:
		beta = 0
	}
	gemm.SgemmRowsBT(nil, false, o, rows, k, 1, w, k, p, beta, ct, rows)
	for r := range rows {
		for j := range o {
			out[r*o+j] = ct[j*rows+r]
		}
	}
	fewPool.Put(bp)
}

var fewPool = sync.Pool{New: func() any { return new([]float32) }}

// patchPool recycles the operands handed to the GEMM (an interface value
// would otherwise be allocated per convolution) and their padded buffers.
var patchPool = sync.Pool{New: func() any { return new(stridedPatches) }}

// getPatches takes pooled patches of x under g (unpadded).
func getPatches(x []float32, c int, g ConvGeom) *stridedPatches {
	p := patchPool.Get().(*stridedPatches)
	p.patches = patches{x: x, c: c, g: g}
	return p
}

// release returns p, with its padded buffer, to the pool.
func (p *stridedPatches) release() {
	p.patches = patches{}
	patchPool.Put(p)
}

// padBF16 keeps in p a copy of the n images x (p's, unpadded) padded as
// p's geometry pads them and rounded to bfloat16, for RunBF16.
func (p *stridedPatches) padBF16(x []float32, n, c int) {
	g := &p.g
	need := n * (g.H + 2*g.PH) * (g.W + 2*g.PW) * c
	if cap(p.paddedB) < need {
		p.paddedB = make([]uint16, need)
	}
	padImages(nil, p.paddedB[:need], x, n, g.H, g.W, c, g.PH, g.PW)
}

// bf16Patches are stridedPatches with their padded bfloat16 copy made
// (padBF16): gemm.StridedRowsBF16, every patch in memory.
type bf16Patches struct{ *stridedPatches }

// RunBF16 implements gemm.StridedRowsBF16: in the padded copy every patch
// lies in memory, the patches along an output row ld = stride·c apart.
func (p bf16Patches) RunBF16(i0, n, p0 int) ([]uint16, int, int) {
	g, c := &p.g, p.c
	img, oy, ox, ky, q := p.at(i0, p0)
	hp, wp := g.H+2*g.PH, g.W+2*g.PW
	off := img*hp*wp*c + ((oy*g.SH+ky)*wp+ox*g.SW)*c + q
	return p.paddedB[off:], g.SW * c, min(n, g.OW-ox)
}

// padBelow: images whose kernel rows are shorter than this many values
// (KW·c: images of one to a few channels, such as a discriminator's input)
// are padded before their patches are gathered. Their runs are too short
// for the vector packers, so every patch over the padding would be
// gathered alone (dcgan28's first convolution ran at half the speed);
// the padded copy of so few channels is cheap.
const padBelow = 32

// pad makes p serve the patches of x under g through a zero-padded copy
// of x, kept in p for the next convolution.
func (p *stridedPatches) pad(x []float32, n, c int, g ConvGeom) {
	hp, wp := g.H+2*g.PH, g.W+2*g.PW
	need := n * hp * wp * c
	if cap(p.padded) < need {
		p.padded = make([]float32, need)
	}
	buf := p.padded[:need]
	PadImages(buf, x, n, g.H, g.W, c, g.PH, g.PW)
	gp := g
	gp.H, gp.W, gp.PH, gp.PW = hp, wp, 0, 0
	p.patches = patches{x: buf, c: c, g: gp}
}

// padInto is pad into buf, the caller's (KeepLen): it fills its first
// n·(H+2PH)·(W+2PW)·c values and zeroes the rest (the slack the direct
// kernels read past the last image).
func (p *stridedPatches) padInto(buf, x []float32, n, c int, g ConvGeom) {
	hp, wp := g.H+2*g.PH, g.W+2*g.PW
	need := n * hp * wp * c
	PadImages(buf[:need], x, n, g.H, g.W, c, g.PH, g.PW)
	clear(buf[need:])
	gp := g
	gp.H, gp.W, gp.PH, gp.PW = hp, wp, 0, 0
	p.patches = patches{x: buf[:need], c: c, g: gp}
}

// padJob pads images over the worker pool.
type padJob struct {
	dst, x          []float32
	dstb            []uint16 // instead of dst: the values rounded to bfloat16
	h, w, c, ph, pw int
}

func (j *padJob) Run(_, lo, hi int) {
	hp, wp := j.h+2*j.ph, j.w+2*j.pw
	img := hp * wp * j.c
	for i := lo; i < hi; i++ {
		s := j.x[i*j.h*j.w*j.c : (i+1)*j.h*j.w*j.c]
		if j.dstb != nil {
			padImage(j.dstb[i*img:(i+1)*img], s, j.h, j.w, j.c, j.ph, j.pw, gemm.ToBF16)
		} else {
			padImage(j.dst[i*img:(i+1)*img], s, j.h, j.w, j.c, j.ph, j.pw, func(d []float32, s []float32) { copy(d, s) })
		}
	}
}

// padPairs writes to xp the bfloat16 pairs of positions of the n images x
// of h×w×c zero-padded by ph rows and pw columns, as gemm.Taps.XP holds
// them for a kernel gradient of stride s (see gemm.Taps.PairsLen), even
// and odd rows in its two classes (gemm.Taps.PairCounts): row q of class
// k pairs the positions k·s + 2s·q + r with those s further (r < s), s·c
// words. At stride 1 these are the pairs (2j, 2j+1), then (2j+1, 2j+2);
// partners past the last position are zero. The pair rows inside
// an image row are made by gemm.PairRows from x in place, those with
// padding in them through a scratch row, so the padded copy of x is never
// written.
func padPairs(xp []uint32, even, odd int, x []float32, n, h, w, c, ph, pw, s int) {
	hp, wp := h+2*ph, w+2*pw
	total := n * hp * wp // positions
	if s < 1 || len(x) < n*h*w*c || len(xp) < (even+odd)*s*c || even > (total+2*s-1)/(2*s) || odd > (total+s-1)/(2*s) {
		panic("tensor.padPairs: inconsistent geometry or buffer")
	}
	j := pairJobs.Get().(*pairPadJob)
	scratch := j.scratch
	*j = pairPadJob{xp: xp, x: x, n: n, h: h, w: w, c: c, ph: ph, pw: pw, s: s, even: even, odd: odd}
	pool := parallel.Default()
	for len(scratch) < pool.Threads() {
		scratch = append(scratch, nil)
	}
	for i := range scratch {
		if cap(scratch[i]) < 2*s*c {
			scratch[i] = make([]float32, 2*s*c)
		}
	}
	j.scratch = scratch
	// Padded rows in chunks the threads claim in turn (a core that runs
	// slower takes fewer).
	pool.ForChunks(n*hp, 0, pool.Threads(), j)
	*j = pairPadJob{scratch: scratch}
	pairJobs.Put(j)
}

var pairJobs = sync.Pool{New: func() any { return new(pairPadJob) }}

// pairPadJob is padPairs's parallel job over padded rows (image·hp + y):
// the pair rows of both classes that start in a row.
type pairPadJob struct {
	xp                 []uint32
	x                  []float32
	n, h, w, c, ph, pw int
	s                  int // the stride
	even, odd          int
	scratch            [][]float32 // per part, the 2s positions of a pair row with padding
}

func (j *pairPadJob) Run(part, lo, hi int) {
	hp, wp, c, s := j.h+2*j.ph, j.w+2*j.pw, j.c, j.s
	w := s * c // words of a pair row
	for r := lo; r < hi; r++ {
		start, end := r*wp, (r+1)*wp // the row's padded positions
		for k := range 2 {
			rows, base := j.even, 0
			if k == 1 {
				rows, base = j.odd, j.even*w
			}
			// Pair row q of class k starts at position k·s + 2s·q.
			first := func(pos int) int { return max(0, pos-k*s+2*s-1) / (2 * s) }
			for q, q1 := first(start), min(rows, first(end)); q < q1; {
				p := k*s + 2*s*q
				// A run of pair rows whose positions are all in one
				// image row.
				if run := j.inRow(p, wp, hp) / (2 * s); run > 0 {
					m := min(run, q1-q)
					src := j.x[j.index(p, wp, hp):]
					gemm.PairRows(j.xp[base+q*w:base+(q+m)*w], src[:2*m*w], w, m)
					q += m
					continue
				}
				// A pair row with padding in it (zeros), or across two
				// rows.
				d := j.xp[base+q*w : base+(q+1)*w]
				buf := j.scratch[part][:2*w]
				values := false
				for t := range 2 * s {
					if v := j.value(p+t, wp, hp); v != nil {
						copy(buf[t*c:(t+1)*c], v)
						values = true
					} else {
						clear(buf[t*c : (t+1)*c])
					}
				}
				if values {
					gemm.PairRows(d, buf, w, 1)
				} else {
					clear(d)
				}
				q++
			}
		}
	}
}

// inRow is how many positions from the padded position p on are image
// values of one image row (0 where p is padding).
func (j *pairPadJob) inRow(p, wp, hp int) int {
	local := p % (hp * wp)
	y, x := local/wp-j.ph, local%wp-j.pw
	if p/(hp*wp) >= j.n || y < 0 || y >= j.h || x < 0 || x >= j.w {
		return 0
	}
	return j.w - x
}

// index is the offset in x of the padded position p's values (an image
// value).
func (j *pairPadJob) index(p, wp, hp int) int {
	img, local := p/(hp*wp), p%(hp*wp)
	return ((img*j.h+local/wp-j.ph)*j.w + local%wp - j.pw) * j.c
}

// value is the padded position p's c values, nil for padding.
func (j *pairPadJob) value(p, wp, hp int) []float32 {
	if j.inRow(p, wp, hp) == 0 {
		return nil
	}
	i := j.index(p, wp, hp)
	return j.x[i : i+j.c]
}

// padImage writes the image s of h×w×c into d with ph rows of zeros above
// and below and pw columns left and right, its rows put by put.
func padImage[T float32 | uint16](d []T, s []float32, h, w, c, ph, pw int, put func([]T, []float32)) {
	wp := w + 2*pw
	clear(d[:ph*wp*c])
	clear(d[(ph+h)*wp*c:])
	for y := range h {
		row := d[(ph+y)*wp*c : (ph+y+1)*wp*c]
		clear(row[:pw*c])
		put(row[pw*c:(pw+w)*c], s[y*w*c:(y+1)*w*c])
		clear(row[(pw+w)*c:])
	}
}

var padJobs = sync.Pool{New: func() any { return new(padJob) }}

// PadImages writes to dst the n images x of h×w×c (NHWC) with ph rows of
// zeros above and below and pw columns left and right.
func PadImages(dst, x []float32, n, h, w, c, ph, pw int) {
	if len(dst) < n*(h+2*ph)*(w+2*pw)*c {
		panic("tensor.PadImages: buffer too short")
	}
	padImages(dst, nil, x, n, h, w, c, ph, pw)
}

// padImages is PadImages into dst, or rounded to bfloat16 into dstb.
func padImages(dst []float32, dstb []uint16, x []float32, n, h, w, c, ph, pw int) {
	if len(x) < n*h*w*c || max(len(dst), len(dstb)) < n*(h+2*ph)*(w+2*pw)*c {
		panic("tensor.PadImages: buffer too short")
	}
	j := padJobs.Get().(*padJob)
	*j = padJob{dst: dst, dstb: dstb, x: x, h: h, w: w, c: c, ph: ph, pw: pw}
	// Images in chunks the threads claim in turn (a core that runs slower
	// takes fewer): at 2 threads biggan32's main thread padded alone for
	// 1.7% of its samples when each had half the images.
	p := parallel.Default()
	p.ForChunks(n, 0, p.Threads(), j)
	*j = padJob{}
	padJobs.Put(j)
}

// stridedPatches are the patches of an image, whose consecutive patches
// along an output row read one run of the image shifted by the stride: the
// GEMM packs them straight from the image (gemm.StridedRows). The patches
// that hang over the padding are gathered by Row instead, so the image is
// not copied into a padded one (at 32×32×64 and a batch of 128, a padded
// copy is 38 MB written and read back per convolution), except for images
// of very few channels (see padBelow).
type stridedPatches struct {
	patches
	padded  []float32 // see pad
	paddedB []uint16  // see padBF16
}

// Span implements gemm.StridedRows: the columns of one kernel row are
// contiguous in the image.
func (p *stridedPatches) Span(p0, kc int) int {
	rowLen := p.g.KW * p.c
	return min(kc, rowLen-p0%rowLen)
}

// at locates row i0 of the patches, column p0: the image, the output
// position (oy, ox), the kernel row ky and the offset q in it.
func (p *stridedPatches) at(i0, p0 int) (img, oy, ox, ky, q int) {
	g := &p.g
	plane := g.OH * g.OW
	rowLen := g.KW * p.c
	return i0 / plane, (i0 % plane) / g.OW, i0 % g.OW, p0 / rowLen, p0 % rowLen
}

// Run implements gemm.StridedRows: patches along one output row of one
// image whose columns [p0, p0+Span) lie inside the image are the same run
// of it, ld = stride·c apart; those whose columns touch the padding (at
// the output row's ends, or all of them for a kernel row above or below
// the image) are a run for Row (src nil).
func (p *stridedPatches) Run(i0, n, p0 int) ([]float32, int, int) {
	g, c := &p.g, p.c
	img, oy, ox, ky, q := p.at(i0, p0)
	left := min(n, g.OW-ox)     // rows left on this output row
	if g.PH == 0 && g.PW == 0 { // every tap inside the image
		off := img*g.H*g.W*c + ((oy*g.SH+ky)*g.W+ox*g.SW)*c + q
		return p.x[off:], g.SW * c, left
	}
	iy := oy*g.SH - g.PH + ky
	if iy < 0 || iy >= g.H {
		return nil, 0, left
	}
	// The span holds taps kxLo.. up to at most the kernel row's last,
	// which read image columns ox·SW − PW + kx: all inside the image for
	// ox in [first, last].
	kxLo, kxHi := q/c, g.KW-1
	first := 0
	if d := g.PW - kxLo; d > 0 {
		first = (d + g.SW - 1) / g.SW
	}
	right := g.W - 1 + g.PW - kxHi
	if right < 0 {
		return nil, 0, left
	}
	last := right / g.SW
	switch {
	case ox < first:
		return nil, 0, min(left, first-ox)
	case ox > last:
		return nil, 0, left
	}
	off := img*g.H*g.W*c + (iy*g.W+ox*g.SW-g.PW)*c + q
	return p.x[off:], g.SW * c, min(left, last+1-ox)
}

// ConvWeightMatMul computes dw = dyᵀ·im2col(x), o×(KH·KW·c): the kernel
// gradient of a convolution with output gradient dy, (n·OH·OW)×o. Like
// ConvMatMul it does not unfold x, but for images of few channels
// (unfolds). For c a multiple of 32 and o of 4 where the CPU has the
// kernel (gemm.SgemmTapsW, directWeights), the sum is taken over a padded
// copy of x read in place, in an order of its own (the same at any thread
// count); so is the sum over unfolded patches where patchWeights applies;
// otherwise it is bit-identical to Im2Col then MatMul.
func ConvWeightMatMul(dw, dy, x []float32, n, c, o int, g ConvGeom) {
	ConvWeightMatMulPadded(dw, dy, x, nil, n, c, o, g)
}

// ConvWeightMatMulPadded is ConvWeightMatMul given, in xpad, what
// ConvMatMulKeep left (len(xpad) == KeepLen): the unfolded patches of an
// image of few channels, which the product reads as a stored matrix, or
// the padded copy of x, which the direct kernel gradient reads instead of
// padding x again. It uses x where xpad does not fit (nil, or another
// length).
func ConvWeightMatMulPadded(dw, dy, x, xpad []float32, n, c, o int, g ConvGeom) {
	rows, k := n*g.OH*g.OW, g.PatchLen(c)
	if len(x) < n*g.H*g.W*c || len(dy) < rows*o || len(dw) < o*k {
		panic("tensor.ConvWeightMatMul: buffer too short for the geometry")
	}
	if unfolds(c, o, rows, g) {
		// The patches the forward product unfolded (ConvMatMulKeep), or
		// unfolded now (a transposed convolution's kernel gradient).
		col, bp := patchMatrix(xpad, rows*k)
		if bp != nil {
			unfold(col, x, n, c, g)
		}
		if !patchWeights(dw, dy, col, n, o, k, g) {
			MatMul(dw, dy, col, o, k, rows, true, false, false)
		}
		if bp != nil {
			unfoldPool.Put(bp)
		}
		return
	}
	if o4 := (o + 3) &^ 3; o4 != o && directWeights(c, o, rows, g) {
		// Few output channels (G's last layer): the kernel's tiles are
		// 4 rows at least, so dy gets zero columns up to a multiple of 4.
		d := directPool.Get().(*directOperand)
		need := rows*o4 + o4*k
		if cap(d.zbuf) < need {
			d.zbuf = make([]float32, need)
		}
		dy4, dw4 := d.zbuf[:rows*o4], d.zbuf[rows*o4:need]
		for r := range rows {
			row := dy4[r*o4 : (r+1)*o4]
			copy(row, dy[r*o:(r+1)*o])
			clear(row[o:])
		}
		ConvWeightMatMul(dw4, dy4, x, n, c, o4, g)
		copy(dw[:o*k], dw4[:o*k])
		directPool.Put(d)
		return
	}
	if directWeights(c, o, rows, g) {
		d := directPool.Get().(*directOperand)
		d.geometry(n, c, g)
		switch {
		case len(xpad) > 0 && len(xpad) == KeepLen(n, c, o, g):
			d.taps.X = xpad // the forward's padded copy
		case gemm.CurrentPrecision() == gemm.BFloat16:
			// The pairs of positions the kernel reads, made from x
			// straight away (a padded copy would be written, then read
			// twice: at 2 threads 4% of dcgan28's bfloat16 step, whose
			// strided gradient took it).
			need := d.taps.PairsLen()
			if cap(d.pbuf) < need {
				d.pbuf = make([]uint32, need)
			}
			d.taps.XP = d.pbuf[:need]
			even, odd := d.taps.PairCounts()
			padPairs(d.taps.XP, even, odd, x, n, g.H, g.W, c, g.PH, g.PW, g.SW)
		case unpaddedWeights && gemm.UnpaddedAvailable(&d.taps, o):
			// The images read where they lie, the taps over the padding
			// skipped: no padded copy (written, then read, 2-3% of
			// dcgan28's step, and not faster at two threads).
			d.taps.X = x[:n*g.H*g.W*c]
			d.unp = gemm.Unpadded{H: g.H, W: g.W, PH: g.PH, PW: g.PW}
			d.taps.Unpadded = &d.unp
		default:
			need := n * d.taps.Plane * c // the last position a tap reads is the last one
			if cap(d.buf) < need {
				d.buf = make([]float32, need)
			}
			d.taps.X = d.buf[:need]
			PadImages(d.taps.X, x, n, g.H, g.W, c, g.PH, g.PW)
		}
		gemm.SgemmTapsW(nil, &d.taps, o, dy, dw, false)
		d.taps.X, d.taps.XP, d.taps.Unpadded = nil, nil, nil
		directPool.Put(d)
		return
	}
	p := getPatches(x, c, g)
	gemm.SgemmRowsB(nil, true, o, k, rows, 1, dy, o, p, 0, dw, k)
	p.release()
}

// Flipped returns, for a transposed convolution of geometry g with stride
// 1 whose big image is no larger than its small one (padding of at least
// half the kernel), the geometry of the equivalent convolution of the small
// image: kernel flipped in space (FlipKernel), padding KH−1−PH, producing
// the big image. ok is false where that does not hold or would cost more
// multiply-adds than the transposed convolution.
func (g ConvGeom) Flipped() (ConvGeom, bool) {
	if g.SH != 1 || g.SW != 1 || g.IsPointwise() || 2*g.PH < g.KH-1 || 2*g.PW < g.KW-1 || g.PH > g.KH-1 || g.PW > g.KW-1 {
		return ConvGeom{}, false
	}
	f, err := NewConvGeom(g.OH, g.OW, g.KH, g.KW, 1, 1, g.KH-1-g.PH, g.KW-1-g.PW)
	if err != nil || f.OH != g.H || f.OW != g.W {
		return ConvGeom{}, false
	}
	return f, true
}

// FlipKernel writes to dst, (cout, KH, KW, cin), the kernel w, (cin, KH,
// KW, cout), turned by 180° in space with its channel axes swapped:
// dst[o][ky][kx][i] = w[i][KH−1−ky][KW−1−kx][o].
func FlipKernel(dst, w []float32, cin, kh, kw, cout int) {
	if len(dst) < cout*kh*kw*cin || len(w) < cin*kh*kw*cout {
		panic("tensor.FlipKernel: buffer too short")
	}
	for o := range cout {
		for ky := range kh {
			for kx := range kw {
				d := dst[((o*kh+ky)*kw+kx)*cin:]
				src := ((kh-1-ky)*kw + (kw - 1 - kx)) * cout
				for i := range cin {
					d[i] = w[i*kh*kw*cout+src+o]
				}
			}
		}
	}
}
