package tensor

import (
	"sync"
	"sync/atomic"

	"github.com/minmaxgan/minmax/internal/parallel"
)

// Large elementwise kernels and column sums run on the worker pool. Each
// element (each column, for the sums) is computed exactly as by the serial
// loop, so results do not depend on the thread count.

// parallelGrain is the least number of elements per part worth the hand-off
// to another thread. The values of an elementwise op were mostly just
// written by the calling thread, so the other core reads its part through
// the shared cache: at 16,384 (about 1-2 µs of work) the toy step's
// 512×128 activations were split, and its main thread spent 7% of its
// samples waiting at ReLU, its mask and the bias gradients' column sums.
// At 65,536 they stay on one thread: the toy step at 2 threads 1.026x and
// 1.042x (nine alternations), dcgan28 unchanged (its tensors are larger).
const parallelGrain = 65536

const (
	elemReLU = iota
	elemReLUMask
	elemLeaky
	elemColSum
	elemBin     // dst = a op b, elements [lo, hi)
	elemBinRowB // rows [lo, hi) of dst = a op b, b one row of width w
	elemBinRowA // rows [lo, hi) of dst = a op b, a one row of width w
	elemBinGen  // rows [lo, hi) of a general broadcast (see binRows)
	elemBcast   // rows [lo, hi) of a general BroadcastTo (see bcastRows)
	elemSoftmax // lines [lo, hi) of a softmax (w: the axis length)
	elemScalarR // dst = x op slope, elements [lo, hi)
	elemScalarL // dst = slope op x, elements [lo, hi)
	elemAffine  // dst = slope·x + shift, elements [lo, hi)
	elemTanh    // dst = tanh(x), elements [lo, hi)
	elemSigmoid // dst = sigmoid(x), elements [lo, hi)
)

type elemJob struct {
	kind      int
	dst, x, g []float32
	slope     float32
	shift     float32 // elemAffine's constant term
	w         int     // row width for elemColSum and the row kinds
	op        BinOp
	bc        bcast // the general broadcast kinds
	next      int64 // the next chunk of a transcendental kind (atomic)
}

// transChunk is the chunk of elements that the threads of tanh and the
// sigmoid take in turn: their cost varies with the value (math.Tanh is a
// rational function near 0, an exponential further out, a constant past
// 22), so halves split by index took unequal times (a generator's output
// is saturated over its images' backgrounds): at 2 threads the dcgan28
// step waited 1.4% of its time at its tanh.
const transChunk = 2048

// transcendental runs f over the chunks of j.x that this thread takes.
func (j *elemJob) transcendental(f func(dst, x []float32)) {
	n := int64(len(j.x))
	for {
		lo := (atomic.AddInt64(&j.next, 1) - 1) * transChunk
		if lo >= n {
			return
		}
		hi := min(n, lo+transChunk)
		f(j.dst[lo:hi], j.x[lo:hi])
	}
}

var elemJobs = sync.Pool{New: func() any { return new(elemJob) }}

func (j *elemJob) Run(_, lo, hi int) {
	switch j.kind {
	case elemReLU:
		reluSerial(j.dst[lo:hi], j.x[lo:hi])
	case elemReLUMask:
		reluMaskSerial(j.dst[lo:hi], j.x[lo:hi], j.g[lo:hi])
	case elemLeaky:
		leakySerial(j.dst[lo:hi], j.x[lo:hi], j.g[lo:hi], j.slope)
	case elemColSum: // columns [lo, hi) of a rows×w matrix
		colSum(j.dst[lo:hi], j.x, j.w, lo)
	case elemBin:
		binRow(j.op, j.dst[lo:hi], j.x[lo:hi], j.g[lo:hi])
	case elemBinRowB:
		for r := lo * j.w; r < hi*j.w; r += j.w {
			binRow(j.op, j.dst[r:r+j.w], j.x[r:r+j.w], j.g)
		}
	case elemBinRowA:
		for r := lo * j.w; r < hi*j.w; r += j.w {
			binRow(j.op, j.dst[r:r+j.w], j.x, j.g[r:r+j.w])
		}
	case elemBinGen:
		j.bc.binRows(j.op, j.dst, j.x, j.g, lo, hi)
	case elemBcast:
		j.bc.copyRows(j.dst, j.x, lo, hi)
	case elemSoftmax:
		softmaxLines(j.dst, j.x, lo, hi, j.w)
	case elemScalarR:
		binScalarRight(j.op, j.dst[lo:hi], j.x[lo:hi], j.slope)
	case elemScalarL:
		binScalarLeft(j.op, j.dst[lo:hi], j.slope, j.x[lo:hi])
	case elemAffine:
		affineSerial(j.dst[lo:hi], j.x[lo:hi], j.slope, j.shift)
	case elemTanh: // every element of x, in chunks (lo and hi unused)
		j.transcendental(tanhSerial)
	case elemSigmoid:
		j.transcendental(sigmoidSerial)
	}
}

// runElems runs kind over n items (elements or columns) when there is
// enough work per thread, and reports whether it did.
func runElems(kind, n, work int, dst, x, g []float32, slope float32, w int) bool {
	return runElemJob(n, work, elemJob{kind: kind, dst: dst, x: x, g: g, slope: slope, w: w})
}

// runBinary runs a binary kernel of kind (elemBin over n elements, or a
// row kind over n rows of width w) on the pool when it is large enough.
func runBinary(kind int, op BinOp, n, work int, dst, a, b []float32, w int) bool {
	return runElemJob(n, work, elemJob{kind: kind, op: op, dst: dst, x: a, g: b, w: w})
}

// runElemJob runs job over n items on the pool when work (the number of
// elements touched) is worth more than one thread, and reports whether it
// did; the job struct comes from a pool, so this does not allocate.
func runElemJob(n, work int, job elemJob) bool {
	p := parallel.Default()
	parts := p.PartsFor(work, parallelGrain)
	if parts < 2 {
		return false
	}
	j := elemJobs.Get().(*elemJob)
	*j = job
	p.ForParts(n, parts, j)
	*j = elemJob{}
	elemJobs.Put(j)
	return true
}

// colSum adds the columns [off, off+len(dst)) of x (rows of width w) into
// dst, row by row: with AVX-512, 16 columns at a time summed in registers
// over all the rows (simdColSum); the rest through binRow (AVX2 adds
// where the CPU has them). Both are bit-identical to a scalar loop. Row
// by row through binRow these sums were 5% of the toy step (its bias
// gradients), then 1.7% of it at two threads, on the main thread alone.
func colSum(dst, x []float32, w, off int) {
	if m := simdColSum(dst, x[off:], len(x)/w, w); m > 0 {
		dst, off = dst[m:], off+m
	}
	if len(dst) == 0 {
		return
	}
	for r := 0; r+w <= len(x); r += w {
		binRow(OpAdd, dst, dst, x[r+off:r+off+len(dst)])
	}
}

// colSumBlocks writes the column sums of x (rows of width w, a tall
// matrix: isTall) into dst: BatchNormSums's float64 sums over fixed blocks
// of rows, added in order, so they do not depend on the thread count
// (split by columns, two threads would each read half of every row of a
// narrow matrix, and stream all of it from memory), rounded to float32.
func colSumBlocks(dst, x []float32, w int) {
	bp := colSumBufs.Get().(*[]float64)
	if cap(*bp) < w {
		*bp = make([]float64, w)
	}
	sum := (*bp)[:w]
	BatchNormSums(sum, x, len(x)/w, w)
	for i, v := range sum {
		dst[i] = float32(v)
	}
	colSumBufs.Put(bp)
}

var colSumBufs = sync.Pool{New: func() any { return new([]float64) }}
