package gemm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// benchSgemm times C = A*B (+ transposes) and reports GFLOP/s.
func benchSgemm(b *testing.B, kern Kernel, threads int, transA, transB bool, m, n, k int) {
	useKernel(b, kern)
	rng := rand.New(rand.NewPCG(1, 1))
	a := randSlice(rng, m*k)
	bb := randSlice(rng, k*n)
	c := randSlice(rng, m*n)
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	p := pool(threads)
	Sgemm(p, transA, transB, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Sgemm(p, transA, transB, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemm1024 is the 1024×1024×1024 product on every kernel with
// 1 and 2 threads.
func BenchmarkSgemm1024(b *testing.B) {
	for _, kern := range Available() {
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("%v/threads=%d", kern, th), func(b *testing.B) {
				benchSgemm(b, kern, th, false, false, 1024, 1024, 1024)
			})
		}
	}
}

// smallShapes are typical GAN layer products: m, n, k and transposes.
var smallShapes = []struct {
	m, n, k        int
	transA, transB bool
}{
	{512, 128, 256, false, false},
	{512, 128, 256, false, true},
	{512, 128, 128, true, false},
	{512, 1, 128, false, false},
	{512, 1, 128, false, true},
	{64, 6272, 100, false, false},
	{64, 6272, 100, false, true},
	{100, 6272, 64, true, false},
	{6272, 64, 1024, false, false},
	{6272, 64, 1024, false, true},
	{1024, 64, 6272, true, false},
}

// BenchmarkSgemmSmall times the small GAN shapes on every kernel with 1
// and 2 threads.
func BenchmarkSgemmSmall(b *testing.B) {
	for _, kern := range Available() {
		for _, s := range smallShapes {
			for _, th := range []int{1, 2} {
				name := fmt.Sprintf("%dx%dx%d", s.m, s.n, s.k)
				if s.transA {
					name += ",tA"
				}
				if s.transB {
					name += ",tB"
				}
				b.Run(fmt.Sprintf("%v/%s/threads=%d", kern, name, th), func(b *testing.B) {
					benchSgemm(b, kern, th, s.transA, s.transB, s.m, s.n, s.k)
				})
			}
		}
	}
}

// BenchmarkMicroKernel times each micro-kernel alone on packed panels that
// sit in L1, i.e. its ceiling (peak on Zen 4: 32 flop/cycle/core).
func BenchmarkMicroKernel(b *testing.B) {
	for _, im := range impls {
		for _, kc := range []int{64, 256} {
			b.Run(fmt.Sprintf("%v/kc=%d", im.kind, kc), func(b *testing.B) {
				a := alignedFloats(im.mr * kc)
				bb := alignedFloats(im.nr * kc)
				c := alignedFloats(im.mr * im.nr)
				for i := 0; i < b.N; i++ {
					im.fn(kc, &a[0], &bb[0], &c[0], im.nr, 1)
				}
				b.ReportMetric(2*float64(im.mr*im.nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkBlocking re-tunes the cache blocking. It runs only when
// GEMM_TUNE is set, to "kernel;threads;m,n,k;kc,mc,nc;kc,mc,nc;...", e.g.
//
//	GEMM_TUNE='avx512;1;1024,1024,1024;256,192,1024;384,192,512' \
//		go test -run xxx -bench Blocking ./internal/gemm/
//
// mc must be a multiple of the kernel's MR and nc of its NR.
func BenchmarkBlocking(b *testing.B) {
	spec := os.Getenv("GEMM_TUNE")
	if spec == "" {
		b.Skip("GEMM_TUNE not set")
	}
	f := strings.Split(spec, ";")
	if len(f) < 4 {
		b.Fatal("GEMM_TUNE: want kernel;threads;m,n,k;kc,mc,nc...")
	}
	var im *impl
	for _, x := range impls {
		if x.kind.String() == f[0] {
			im = x
		}
	}
	if im == nil {
		b.Skipf("kernel %q not available", f[0])
	}
	th, _ := strconv.Atoi(f[1])
	mnk := atoi3(b, f[2])
	save := *im
	defer func() { *im = save }()
	for _, cfg := range f[3:] {
		v := atoi3(b, cfg)
		if v[0] < 1 || v[1] < im.mr || v[1]%im.mr != 0 || v[2] < im.nr || v[2]%im.nr != 0 {
			b.Fatalf("bad blocking %v for %v", v, im.kind)
		}
		b.Run(fmt.Sprintf("kc=%d,mc=%d,nc=%d", v[0], v[1], v[2]), func(b *testing.B) {
			im.kc, im.mc, im.nc = v[0], v[1], v[2]
			benchSgemm(b, im.kind, th, false, false, mnk[0], mnk[1], mnk[2])
		})
	}
}

func atoi3(b *testing.B, s string) [3]int {
	var v [3]int
	f := strings.Split(s, ",")
	if len(f) != 3 {
		b.Fatalf("want three numbers, got %q", s)
	}
	for i := range v {
		var err error
		if v[i], err = strconv.Atoi(f[i]); err != nil {
			b.Fatal(err)
		}
	}
	return v
}

// BenchmarkSgemm1024BF16 is the 1024³ product in bfloat16 against float32
// on the AVX-512 kernel, with 1 and 2 threads.
func BenchmarkSgemm1024BF16(b *testing.B) {
	if !HasBFloat16() {
		b.Skip("no AVX-512 BF16")
	}
	for _, prec := range []Precision{Float32, BFloat16} {
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("%v/threads=%d", prec, th), func(b *testing.B) {
				SetPrecision(prec)
				defer SetPrecision(Float32)
				benchSgemm(b, AVX512, th, false, false, 1024, 1024, 1024)
			})
		}
	}
}
