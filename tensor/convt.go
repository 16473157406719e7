package tensor

import (
	"sync"

	"github.com/minmaxgan/minmax/internal/cpucache"
	"github.com/minmaxgan/minmax/internal/gemm"
	"github.com/minmaxgan/minmax/internal/parallel"
)

// ConvTMatMul computes a transposed convolution of geometry g (g.H×g.W
// the big image, OH×OW the small one): out, n images of g.H×g.W×cout, is
// Col2Im(x·w, bias), for x the n small images, (n·OH·OW)×cin, and w,
// cin×(KH·KW·cout). The columns x·w are not written to memory: each
// thread takes a few images at a time (gemm.RowBlocks, w packed once) and
// folds their columns into them a panel of rows at a time, as the
// product completes each (colFold), or where the product has no panels
// multiplies the block's rows into a buffer and folds them at once; the
// threads claim the blocks one after another (parallel.Pool.ForChunks),
// so a core that runs slower takes fewer.
// dcgan28's first generator layer has 12.8 MB of columns
// (64 images of 7×7 to 14×14, 64 channels), which MatMul wrote and
// Col2Im read back from memory: 7% of its step.
//
// The bits are those of MatMul then Col2Im, at any thread count.
func ConvTMatMul(out, x, w, bias []float32, n, cin, cout int, g ConvGeom) {
	convTMatMul(out, x, w, bias, nil, 0, n, cin, cout, g)
}

// ConvTMatMulLeakyMask is ConvTMatMul (no bias) followed by LeakyMask(out,
// mask, out, slope): the gradient reaching a LeakyReLU of output mask
// through the convolution whose input gradient this transposed
// convolution is. Each image is masked by the thread that folded its
// columns, while it is in that thread's cache, where a pass after it read
// the gradient back from memory (dcgan28's first discriminator layer, 3.2
// MB). The bits are those of ConvTMatMul then LeakyMask.
func ConvTMatMulLeakyMask(out, x, w, mask []float32, slope float32, n, cin, cout int, g ConvGeom) {
	if len(mask) < n*g.H*g.W*cout {
		panic("tensor.ConvTMatMulLeakyMask: mask too short for the geometry")
	}
	convTMatMul(out, x, w, nil, mask, slope, n, cin, cout, g)
}

func convTMatMul(out, x, w, bias, mask []float32, slope float32, n, cin, cout int, g ConvGeom) {
	plane, k := g.OH*g.OW, g.PatchLen(cout)
	rows := n * plane
	if len(x) < rows*cin || len(w) < cin*k || len(out) < n*g.H*g.W*cout || (bias != nil && len(bias) != cout) {
		panic("tensor.ConvTMatMul: buffer too short for the geometry")
	}
	if rows < 2 || k < 2 || cin < 1 {
		// Matrix-vector shapes, which the product sums in an order of
		// its own: the columns in a buffer.
		bp, col := floatsFrom(&convTPool, rows*k)
		MatMul(col, x, w, rows, k, cin, false, false, false)
		Col2Im(out, col, bias, n, cout, g)
		convTPool.Put(bp)
		if mask != nil {
			size := n * g.H * g.W * cout
			LeakyMask(out[:size], mask[:size], out[:size], slope)
		}
		return
	}
	per := max(1, convTBlockBytes/(plane*k*4)) // images per block
	p := parallel.Default()
	per = evenBlocks(n, per, p.Threads())
	blocks := (n + per - 1) / per
	parts := min(p.Threads(), blocks)
	j := convTJobs.Get().(*convTJob)
	*j = convTJob{out: out, bias: bias, mask: mask, slope: slope, n: n, per: per, c: cout, g: g, bufs: j.bufs, folds: j.folds}
	j.rb = gemm.NewRowBlocks(parts, rows, k, cin, x, cin, false, w, k)
	for len(j.bufs) < parts {
		j.bufs = append(j.bufs, nil)
	}
	j.panel = j.rb.PanelRows()
	need := per * plane * k
	if j.panel > 0 && foldPanels {
		need = j.panel * k
	} else {
		j.panel = 0
	}
	for len(j.folds) < parts {
		j.folds = append(j.folds, new(colFold))
	}
	for i := range parts {
		if len(j.bufs[i]) < need {
			j.bufs[i] = make([]float32, need)
		}
	}
	p.ForChunks(blocks, 1, parts, j)
	j.rb.Close()
	for _, f := range j.folds {
		*f = colFold{}
	}
	*j = convTJob{bufs: j.bufs, folds: j.folds}
	convTJobs.Put(j)
}

// evenBlocks returns a number of images per block, at most per, that
// cuts n images into a multiple of threads blocks of equal size (but for
// the last) where blocks of at least per/2 allow it (else per): the
// threads then end together where the cores run at one speed. dcgan28's
// 64 images in blocks of 5 made 13 for two threads, and the one that
// took the seventh computed it alone: at two threads its step's main
// thread waited 5% of ConvTMatMul's time. Its last layer (blocks of up
// to 83 images) ran as one block, on one thread.
func evenBlocks(n, per, threads int) int {
	if threads < 2 {
		return per
	}
	for q := per; q >= max(1, per/2); q-- {
		b := (n + q - 1) / q
		if b%threads != 0 {
			continue
		}
		// The same number of blocks, as equal as they come.
		if e := (n + b - 1) / b; (n+e-1)/e == b {
			return e
		}
		return q
	}
	return per
}

// convTBlockBytes bounds the columns of a block of images (ConvTMatMul):
// half the L2, which also holds the packed kernel.
var convTBlockBytes = cpucache.Detect().L2 / 2

// convTJob runs ConvTMatMul's blocks of images on the worker pool.
type convTJob struct {
	rb     gemm.RowBlocks
	out    []float32
	bias   []float32
	n, per int // images, images per block
	c      int
	g      ConvGeom
	bufs   [][]float32 // per part: one block's columns, or one panel's (panel)
	folds  []*colFold  // per part, where panel > 0
	// panel is the rows of columns computed at a time where the product
	// hands them over a panel at a time (gemm.RowBlocks.PanelRows), else 0
	// (a block of images' columns, then folded).
	panel int
	// mask, when set, masks each image once folded (LeakyMask, slope).
	mask  []float32
	slope float32
}

var (
	convTJobs = sync.Pool{New: func() any { return new(convTJob) }}
	convTPool = sync.Pool{New: func() any { return new([]float32) }}
)

func (j *convTJob) Run(part, lo, hi int) {
	g := &j.g
	plane, k := g.OH*g.OW, g.PatchLen(j.c)
	img := g.H * g.W * j.c
	col := j.bufs[part]
	if j.panel > 0 {
		f := j.folds[part]
		*f = colFold{j: j, col: col, img: -1}
		for b := lo; b < hi; b++ {
			i0, i1 := b*j.per, min(j.n, (b+1)*j.per)
			j.rb.RowsFolded(part, i0*plane, i1*plane, col, k, f)
			f.finish()
		}
		return
	}
	for b := lo; b < hi; b++ {
		i0, i1 := b*j.per, min(j.n, (b+1)*j.per)
		j.rb.Rows(part, i0*plane, i1*plane, col, k)
		for i := i0; i < i1; i++ {
			col2imImage(j.out[i0*img:], col, j.bias, i-i0, j.c, g)
			if j.mask != nil {
				o := j.out[i*img : (i+1)*img]
				leakySerial(o, j.mask[i*img:(i+1)*img], o, j.slope)
			}
		}
	}
}

// foldPanels lets ConvTMatMul fold its columns a panel of rows at a time
// (tests compare it with folding blocks of images).
var foldPanels = true

// colFold folds a transposed convolution's columns into their images as
// the product completes them, a panel of rows at a time (gemm.Folder):
// each image is set to the bias (or zero) before its first position, the
// positions' patches are added in order (addPatch), and with a mask each
// output row is masked once the last patch row that reaches it has been
// added. Those are the operations, in the same order, of col2imImage and
// LeakyMask over the whole image: the same bits. Folded a block of images
// after its product, the columns (1 MB a block in dcgan28) had gone from
// L1 and partly from L2 (the fold took 8-10 µs an image in the step,
// against 4 on columns in cache); folded a panel at a time, dcgan28's step
// at 1 thread ran 11.27-11.72 against 10.98-11.57 step/s (six
// alternations, all ahead).
type colFold struct {
	j      *convTJob
	col    []float32 // the panel's rows
	img    int       // the image being folded, −1 none
	masked int       // its output rows masked so far
}

// Fold implements gemm.Folder.
func (f *colFold) Fold(r0, r1 int) {
	j := f.j
	g, c := &j.g, j.c
	plane, k, size := g.OH*g.OW, g.PatchLen(c), g.H*g.W*c
	for r := r0; r < r1; r++ {
		if img := r / plane; img != f.img {
			f.finish()
			f.img, f.masked = img, 0
			out := j.out[img*size : (img+1)*size]
			if j.bias == nil {
				clear(out)
			} else {
				FillRows(out, j.bias)
			}
		}
		q := r % plane
		oy, ox := q/g.OW, q%g.OW
		addPatch(j.out[f.img*size:(f.img+1)*size], f.col[(r-r0)*k:(r-r0+1)*k], oy, ox, c, g)
		if j.mask != nil && ox == g.OW-1 && oy+1 < g.OH {
			// The rows above the next patch row's first are complete.
			f.maskTo(min(g.H, (oy+1)*g.SH-g.PH))
		}
	}
}

// finish masks the rest of the current image, if any.
func (f *colFold) finish() {
	if f.img >= 0 && f.j.mask != nil {
		f.maskTo(f.j.g.H)
	}
	f.img = -1
}

// maskTo masks the current image's output rows [f.masked, done).
func (f *colFold) maskTo(done int) {
	if done <= f.masked {
		return
	}
	j := f.j
	row := j.g.W * j.c
	base := f.img * j.g.H * row
	o := j.out[base+f.masked*row : base+done*row]
	leakySerial(o, j.mask[base+f.masked*row:base+done*row], o, j.slope)
	f.masked = done
}
