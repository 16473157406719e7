package gemm

import (
	"fmt"
	"sync"
)

// ceilingKC is the depth of the panels the ceiling loop runs the kernel
// on: A and B panels of the 12×32 AVX-512 tile then take 22 KiB, which
// fits in any current core's L1d (32 KiB or more), so that nothing the
// kernel reads misses.
const ceilingKC = 128

// Ceiling is the float32 micro-kernel that Sgemm uses, as a loop that
// measures its own ceiling on this core: the kernel called again and again
// on one packed A and one packed B panel of depth 128 that stay in L1,
// accumulating into one C tile (beta 1). Nothing else runs: no packing, no
// cache misses, no edges. No product of Sgemm can run faster than this
// loop, which is why `minmax bench --workload peak` reports it beside the
// FMA peak.
type Ceiling struct {
	// Name is "fp32-kernel-" and the kernel's name and tile, e.g.
	// "fp32-kernel-avx512-12x32".
	Name string
	// Doc says what the loop runs.
	Doc string
	// FlopsPerCall is the floating-point operations of one kernel call:
	// 2·MR·NR·128.
	FlopsPerCall float64
	// Run calls the kernel n times on the calling goroutine (with panels of
	// its own) and returns the sum of the C tile, which is exactly
	// MR·NR·n·2⁻¹³ for n up to 2¹⁶: every A and B value is 2⁻¹⁰, so each
	// call adds 128·2⁻²⁰ to each element (at most 8, exact in float32),
	// and the elements are summed in float64.
	Run func(n int) float32
}

// CeilingLoop returns the ceiling loop of the float32 kernel Sgemm uses
// now (Current).
func CeilingLoop() Ceiling {
	im := current.Load()
	pool := &sync.Pool{New: func() any { return newCeilingPanels(im) }}
	return Ceiling{
		Name:         fmt.Sprintf("fp32-kernel-%v-%dx%d", im.kind, im.mr, im.nr),
		Doc:          fmt.Sprintf("the %v micro-kernel (%d×%d tile) on packed panels of depth %d in L1, beta 1", im.kind, im.mr, im.nr, ceilingKC),
		FlopsPerCall: 2 * float64(im.mr*im.nr*ceilingKC),
		Run: func(n int) float32 {
			p := pool.Get().(*ceilingPanels)
			defer pool.Put(p)
			clear(p.c)
			for range n {
				im.fn(ceilingKC, &p.a[0], &p.b[0], &p.c[0], im.nr, 1)
			}
			var s float64
			for _, v := range p.c {
				s += float64(v)
			}
			return float32(s)
		},
	}
}

// ceilingPanels are one goroutine's operands of the ceiling loop,
// 64-byte aligned as packed panels are.
type ceilingPanels struct{ a, b, c []float32 }

func newCeilingPanels(im *impl) *ceilingPanels {
	const v = 1.0 / 1024 // 2⁻¹⁰: every product 2⁻²⁰, every sum exact
	p := &ceilingPanels{a: alignedFloats(im.mr * ceilingKC), b: alignedFloats(im.nr * ceilingKC), c: alignedFloats(im.mr * im.nr)}
	for i := range p.a {
		p.a[i] = v
	}
	for i := range p.b {
		p.b[i] = v
	}
	return p
}
