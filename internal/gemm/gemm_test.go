package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/minmaxgan/minmax/internal/parallel"
)

// testPools are pools of 1, 2 and 3 threads, shared by the tests.
var testPools = map[int]*parallel.Pool{}

func pool(threads int) *parallel.Pool {
	p, ok := testPools[threads]
	if !ok {
		p = parallel.NewPool(threads)
		testPools[threads] = p
	}
	return p
}

// useKernel selects k for the rest of the (sub)test and restores the
// previous kernel afterwards.
func useKernel(t testing.TB, k Kernel) {
	prev := Current()
	if err := Use(k); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Use(prev) })
}

// gemmCase is one problem: operands with padded leading dimensions, and
// float64 reference values for the positions it checks.
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	lda, ldb, ldc  int
	a, b, c0       []float32
	pos            []int     // checked positions i*n+j
	dot, abs       []float64 // sum a*b and sum |a*b| at pos
}

const sentinel = 12345.5

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.Float64()*2 - 1)
	}
	return s
}

// newCase builds a problem. Leading dimensions exceed the minimum by pad;
// the gaps of C hold a sentinel that must survive. If sample > 0 only that
// many random positions (plus the corners) are checked.
func newCase(rng *rand.Rand, transA, transB bool, m, n, k, pad, sample int) *gemmCase {
	tc := &gemmCase{transA: transA, transB: transB, m: m, n: n, k: k}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	tc.lda, tc.ldb, tc.ldc = ac+pad, bc+pad, n+pad
	tc.a = randSlice(rng, (ar-1)*tc.lda+ac)
	tc.b = randSlice(rng, (br-1)*tc.ldb+bc)
	tc.c0 = randSlice(rng, (m-1)*tc.ldc+n)
	for i := 0; i < m; i++ {
		for j := n; j < tc.ldc && i*tc.ldc+j < len(tc.c0); j++ {
			tc.c0[i*tc.ldc+j] = sentinel
		}
	}
	if sample <= 0 {
		for p := 0; p < m*n; p++ {
			tc.pos = append(tc.pos, p)
		}
	} else {
		tc.pos = append(tc.pos, 0, n-1, (m-1)*n, m*n-1)
		for range sample {
			tc.pos = append(tc.pos, rng.IntN(m*n))
		}
	}
	for _, p := range tc.pos {
		i, j := p/n, p%n
		var d, s float64
		for q := 0; q < k; q++ {
			x := float64(tc.opA(i, q)) * float64(tc.opB(q, j))
			d += x
			s += math.Abs(x)
		}
		tc.dot = append(tc.dot, d)
		tc.abs = append(tc.abs, s)
	}
	return tc
}

func (tc *gemmCase) opA(i, q int) float32 {
	if tc.transA {
		return tc.a[q*tc.lda+i]
	}
	return tc.a[i*tc.lda+q]
}

func (tc *gemmCase) opB(q, j int) float32 {
	if tc.transB {
		return tc.b[j*tc.ldb+q]
	}
	return tc.b[q*tc.ldb+j]
}

func (tc *gemmCase) String() string {
	return fmt.Sprintf("m=%d n=%d k=%d transA=%v transB=%v", tc.m, tc.n, tc.k, tc.transA, tc.transB)
}

// run computes the case with the current kernel and returns C. When beta
// is 0, C starts out as NaN.
func (tc *gemmCase) run(p *parallel.Pool, alpha, beta float32) []float32 {
	c := append([]float32(nil), tc.c0...)
	if beta == 0 {
		for i := 0; i < tc.m; i++ {
			for j := 0; j < tc.n; j++ {
				c[i*tc.ldc+j] = float32(math.NaN())
			}
		}
	}
	Sgemm(p, tc.transA, tc.transB, tc.m, tc.n, tc.k, alpha, tc.a, tc.lda, tc.b, tc.ldb, beta, c, tc.ldc)
	return c
}

func (tc *gemmCase) check(t *testing.T, what string, alpha, beta float32, c []float32) {
	t.Helper()
	for x, p := range tc.pos {
		i, j := p/tc.n, p%tc.n
		c0 := float64(tc.c0[i*tc.ldc+j])
		if beta == 0 {
			c0 = 0
		}
		want := float64(alpha)*tc.dot[x] + float64(beta)*c0
		tol := 1e-5*(math.Abs(float64(alpha))*tc.abs[x]+math.Abs(float64(beta)*c0)) + 1e-30
		got := float64(c[i*tc.ldc+j])
		if !(math.Abs(got-want) <= tol) {
			t.Fatalf("%s %v alpha=%v beta=%v: C[%d][%d] = %v, want %v (tol %.3g)", what, tc, alpha, beta, i, j, got, want, tol)
		}
	}
	tc.checkOutside(t, what, c)
}

// checkOutside fails if the gaps between C's rows lost their sentinel.
func (tc *gemmCase) checkOutside(t *testing.T, what string, c []float32) {
	t.Helper()
	for i := 0; i < tc.m; i++ {
		for j := tc.n; j < tc.ldc && i*tc.ldc+j < len(c); j++ {
			if c[i*tc.ldc+j] != sentinel {
				t.Fatalf("%s %v: wrote outside C at [%d][%d]", what, tc, i, j)
			}
		}
	}
}

var (
	alphas = []float32{1, 0.5}
	betas  = []float32{0, 1, -0.5}
)

// TestSgemmSmallShapes checks every m, n, k in {1, 3, 17, 255}, every
// transpose, alpha and beta, on every kernel and on 1, 2 and 3 threads.
func TestSgemmSmallShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dims := []int{1, 3, 17, 255}
	var cases []*gemmCase
	for _, m := range dims {
		for _, n := range dims {
			for _, k := range dims {
				for tr := 0; tr < 4; tr++ {
					cases = append(cases, newCase(rng, tr&1 != 0, tr&2 != 0, m, n, k, 1+tr, 0))
				}
			}
		}
	}
	for _, kern := range Available() {
		t.Run(kern.String(), func(t *testing.T) {
			useKernel(t, kern)
			for _, tc := range cases {
				for _, th := range []int{1, 2, 3} {
					for _, alpha := range alphas {
						for _, beta := range betas {
							c := tc.run(pool(th), alpha, beta)
							tc.check(t, fmt.Sprintf("%v threads=%d", kern, th), alpha, beta, c)
						}
					}
				}
			}
		})
	}
}

// TestSgemmLargeShapes checks big and lopsided shapes (several K chunks,
// several thread tiles, edge tiles in both directions) on sampled entries.
func TestSgemmLargeShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := [][3]int{
		{1000, 999, 1001},
		{13, 1000, 300},
		{1000, 13, 300},
		{64, 6272, 100},
		{6272, 64, 130},
		{512, 128, 256},
		{512, 1, 128},
		{1, 512, 128},
		{2, 3000, 5},
		{257, 255, 513},
		{92, 48, 300}, // edge kernels that fit exactly: 8 rows, 16 columns
		{100, 16, 64},
	}
	var cases []*gemmCase
	for x, s := range shapes {
		tr := x % 4
		cases = append(cases, newCase(rng, tr&1 != 0, tr&2 != 0, s[0], s[1], s[2], 7, 300))
		tr = 3 - tr
		cases = append(cases, newCase(rng, tr&1 != 0, tr&2 != 0, s[0], s[1], s[2], 0, 300))
	}
	for _, kern := range Available() {
		t.Run(kern.String(), func(t *testing.T) {
			useKernel(t, kern)
			// Each case runs two of the six (alpha, beta) pairs, so that
			// every shape sees four of them; this keeps the generic kernel
			// fast enough.
			for x, tc := range cases {
				th := 1 + x%3
				for _, ab := range []int{x % 6, (x + 3) % 6} {
					alpha, beta := alphas[ab%2], betas[ab/2]
					c := tc.run(pool(th), alpha, beta)
					tc.check(t, fmt.Sprintf("%v threads=%d", kern, th), alpha, beta, c)
				}
			}
		})
	}
}

// TestSgemmDeterministic checks that results are bit-identical whatever the
// number of threads.
func TestSgemmDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	shapes := [][3]int{{255, 255, 255}, {700, 33, 600}, {33, 700, 600}, {301, 517, 1001}, {64, 6272, 100}, {512, 1, 9000}, {1, 3000, 1500}, {2999, 1, 1500}}
	for _, kern := range Available() {
		t.Run(kern.String(), func(t *testing.T) {
			useKernel(t, kern)
			for x, s := range shapes {
				tr := x % 4
				tc := newCase(rng, tr&1 != 0, tr&2 != 0, s[0], s[1], s[2], 3, 1)
				for _, beta := range []float32{0, 0.75} {
					ref := tc.run(pool(1), 0.5, beta)
					for _, th := range []int{2, 3, 4} {
						c := tc.run(pool(th), 0.5, beta)
						for i := range c {
							if math.Float32bits(c[i]) != math.Float32bits(ref[i]) {
								t.Fatalf("%v beta=%v: threads=%d differs from threads=1 at %d: %v vs %v", tc, beta, th, i, c[i], ref[i])
							}
						}
					}
				}
			}
		})
	}
}

// TestSgemmDegenerate covers k == 0, alpha == 0 and empty outputs.
func TestSgemmDegenerate(t *testing.T) {
	nan := float32(math.NaN())
	for _, beta := range []float32{0, 1, -0.5} {
		c := []float32{nan, 2, 99, 4, nan}
		if beta != 0 {
			c[0], c[4] = 1, 5
		}
		want := []float32{beta * c[0], beta * c[1], 99, beta * c[3], beta * c[4]}
		if beta == 0 {
			want = []float32{0, 0, 99, 0, 0}
		}
		if beta == 1 {
			want = []float32{1, 2, 99, 4, 5}
		}
		// k == 0, A and B empty.
		Sgemm(nil, false, false, 2, 2, 0, 1, nil, 1, nil, 2, beta, c, 3)
		for i := range c {
			if c[i] != want[i] && i != 2 {
				t.Fatalf("k=0 beta=%v: c = %v, want %v", beta, c, want)
			}
		}
	}
	// alpha == 0: A and B (full of NaN) are not read.
	a := []float32{float32(math.NaN()), 1, 1, 1}
	c := []float32{1, 2, 3, 4}
	Sgemm(nil, false, false, 2, 2, 2, 0, a, 2, a, 2, 2, c, 2)
	for i, v := range []float32{2, 4, 6, 8} {
		if c[i] != v {
			t.Fatalf("alpha=0: c = %v", c)
		}
	}
	// m == 0 and n == 0 do nothing, even with nil slices.
	Sgemm(nil, false, false, 0, 5, 5, 1, nil, 5, make([]float32, 25), 5, 0, nil, 5)
	Sgemm(nil, false, false, 5, 0, 5, 1, make([]float32, 25), 5, nil, 1, 0, nil, 1)
}

// TestSgemmPanics checks that bad arguments panic with a message naming
// the argument instead of writing out of bounds.
func TestSgemmPanics(t *testing.T) {
	s := make([]float32, 12)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"negative dimension", func() { Sgemm(nil, false, false, -1, 2, 2, 1, s, 2, s, 2, 0, s, 2) }},
		{"lda", func() { Sgemm(nil, false, false, 2, 2, 3, 1, s, 2, s, 2, 0, s, 2) }},
		{"lda", func() { Sgemm(nil, true, false, 4, 2, 3, 1, s, 3, s, 2, 0, s, 2) }},
		{"ldb", func() { Sgemm(nil, false, true, 2, 2, 3, 1, s, 3, s, 2, 0, s, 2) }},
		{"ldc", func() { Sgemm(nil, false, false, 2, 3, 2, 1, s, 2, s, 3, 0, s, 2) }},
		{"len(a)", func() { Sgemm(nil, false, false, 5, 2, 3, 1, s, 3, s, 2, 0, s, 2) }},
		{"len(b)", func() { Sgemm(nil, false, false, 2, 4, 4, 1, s, 4, s, 4, 0, s, 4) }},
		{"len(c)", func() { Sgemm(nil, false, false, 4, 4, 1, 1, s, 1, s, 4, 0, s[:15-4], 4) }},
		{"len(c)", func() { Sgemm(nil, false, false, 7, 2, 1, 1, s, 1, s, 2, 0, s, 2) }},
		{"overflows", func() { Sgemm(nil, false, false, 3, 2, 1, 1, s, 1, s, 2, 0, s, math.MaxInt/2) }},
	} {
		func() {
			defer func() {
				r := recover()
				msg, _ := r.(string)
				if !strings.Contains(msg, tc.name) {
					t.Errorf("want panic naming %q, got %v", tc.name, r)
				}
			}()
			tc.f()
		}()
	}
}

// TestSgemmNoAllocs checks that repeated calls do not allocate.
func TestSgemmNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, kern := range Available() {
		useKernel(t, kern)
		for _, s := range [][3]int{{300, 200, 300}, {512, 1, 128}, {3, 3, 3}, {64, 1000, 100}} {
			tc := newCase(rng, false, true, s[0], s[1], s[2], 0, 1)
			c := append([]float32(nil), tc.c0...)
			for _, th := range []int{1, 2} {
				p := pool(th)
				f := func() {
					Sgemm(p, tc.transA, tc.transB, tc.m, tc.n, tc.k, 1, tc.a, tc.lda, tc.b, tc.ldb, 0, c, tc.ldc)
				}
				f()
				if n := testing.AllocsPerRun(20, f); n != 0 {
					t.Errorf("%v %v threads=%d: %.1f allocations per call, want 0", kern, tc, th, n)
				}
			}
		}
	}
}

func TestKernels(t *testing.T) {
	av := Available()
	if len(av) == 0 || av[len(av)-1] != Generic {
		t.Fatalf("Available() = %v, want generic last", av)
	}
	if Current() != av[0] {
		t.Fatalf("Current() = %v, want the best, %v", Current(), av[0])
	}
	if err := Use(Kernel(42)); err == nil {
		t.Fatal("Use(42) succeeded")
	}
	for _, k := range []Kernel{Generic, AVX2, AVX512, Kernel(9)} {
		if k.String() == "" {
			t.Fatal("empty name")
		}
	}
}

// TestSgemmUsesThreads checks that a large enough product is really split
// over the pool (so that the determinism test compares something).
func TestSgemmUsesThreads(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, s := range [][3]int{{255, 255, 255}, {301, 517, 1001}, {2999, 1, 1500}} {
		tc := newCase(rng, false, false, s[0], s[1], s[2], 0, 1)
		tc.run(pool(3), 1, 0)
		x := getCtx()
		parts := len(x.ws)
		putCtx(x)
		if parts < 3 {
			t.Errorf("%v on 3 threads used %d workspaces, want 3", tc, parts)
		}
	}
}

// TestPackLayout checks the packed layouts against their definition for
// every kernel, both orientations and ragged edges.
func TestPackLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, im := range impls {
		for _, trans := range []bool{false, true} {
			for _, s := range [][2]int{{1, 1}, {5, 9}, {12, 16}, {13, 37}, {40, 77}} {
				rows, kc := s[0], s[1]
				ld := max(rows, kc) + 3
				src := randSlice(rng, (max(rows, kc)+4)*ld)
				const i0, p0 = 2, 3
				// op(X)[i][p] for the A-style (rows = m) view.
				at := func(i, p int) float32 {
					if trans {
						return src[(p0+p)*ld+i0+i]
					}
					return src[(i0+i)*ld+p0+p]
				}
				dst := make([]float32, roundUp(rows, im.mr)*kc)
				packA(im, dst, src, ld, trans, i0, rows, p0, kc, 0.5)
				for i := 0; i < roundUp(rows, im.mr); i++ {
					for p := 0; p < kc; p++ {
						want := float32(0)
						if i < rows {
							want = 0.5 * at(i, p)
						}
						if got := dst[(i/im.mr)*im.mr*kc+p*im.mr+i%im.mr]; got != want {
							t.Fatalf("%v packA trans=%v %dx%d: [%d][%d] = %v, want %v", im.kind, trans, rows, kc, i, p, got, want)
						}
					}
				}
				// packB with op(B)[p][j]: B stored kc×cols, or cols×kc if trans.
				cols := rows
				bt := func(p, j int) float32 {
					if trans {
						return src[(i0+j)*ld+p0+p]
					}
					return src[(p0+p)*ld+i0+j]
				}
				dst = make([]float32, roundUp(cols, im.nr)*kc)
				packB(im, dst, src, ld, trans, i0, cols, p0, kc)
				for j := 0; j < roundUp(cols, im.nr); j++ {
					for p := 0; p < kc; p++ {
						want := float32(0)
						if j < cols {
							want = bt(p, j)
						}
						if got := dst[(j/im.nr)*im.nr*kc+p*im.nr+j%im.nr]; got != want {
							t.Fatalf("%v packB trans=%v %dx%d: [%d][%d] = %v, want %v", im.kind, trans, kc, cols, p, j, got, want)
						}
					}
				}
			}
		}
	}
}

// TestEdgeKernels checks that every edge variant computes its corner of
// the tile bit for bit as the full micro-kernel does, for each beta path.
func TestEdgeKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, im := range impls {
		if im.edge == nil {
			continue
		}
		for _, kc := range []int{1, 7, 64, 259} {
			a := randSlice(rng, im.mr*kc)
			b := randSlice(rng, im.nr*kc)
			c0 := randSlice(rng, im.mr*im.nr)
			for _, beta := range []float32{0, 1, -0.5} {
				full := append([]float32(nil), c0...)
				im.fn(kc, &a[0], &b[0], &full[0], im.nr, beta)
				for rows := 1; rows <= im.mr; rows++ {
					for cols := 1; cols <= im.nr; cols++ {
						e := im.edge(rows, cols)
						if e.rows < rows || e.cols < cols || e.rows > im.mr || e.cols > im.nr {
							t.Fatalf("%v edge(%d, %d) covers %d×%d", im.kind, rows, cols, e.rows, e.cols)
						}
						got := append([]float32(nil), c0...)
						e.fn(kc, &a[0], &b[0], &got[0], im.nr, beta)
						for i := 0; i < im.mr; i++ {
							for j := 0; j < im.nr; j++ {
								want := c0[i*im.nr+j]
								if i < e.rows && j < e.cols {
									want = full[i*im.nr+j]
								}
								if math.Float32bits(got[i*im.nr+j]) != math.Float32bits(want) {
									t.Fatalf("%v %d×%d variant, kc=%d beta=%v: [%d][%d] = %v, want %v", im.kind, e.rows, e.cols, kc, beta, i, j, got[i*im.nr+j], want)
								}
							}
						}
					}
				}
			}
		}
	}
}
