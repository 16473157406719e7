package gemm

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TUNE="kern;th;m,n,k;kc,mc,nc;kc,mc,nc..."
func BenchmarkTune(b *testing.B) {
	spec := os.Getenv("TUNE")
	if spec == "" {
		b.Skip()
	}
	f := strings.Split(spec, ";")
	var im *impl
	var kern Kernel
	for _, x := range impls {
		if x.kind.String() == f[0] {
			im, kern = x, x.kind
		}
	}
	th, _ := strconv.Atoi(f[1])
	var mnk [3]int
	for i, s := range strings.Split(f[2], ",") {
		mnk[i], _ = strconv.Atoi(s)
	}
	save := *im
	defer func() { *im = save }()
	for _, cfg := range f[3:] {
		var v [3]int
		for i, s := range strings.Split(cfg, ",") {
			v[i], _ = strconv.Atoi(s)
		}
		b.Run(fmt.Sprintf("kc=%d,mc=%d,nc=%d", v[0], v[1], v[2]), func(b *testing.B) {
			im.kc, im.mc, im.nc = v[0], v[1], v[2]
			benchSgemm(b, kern, th, false, false, mnk[0], mnk[1], mnk[2])
		})
	}
}

func BenchmarkKernelOnly(b *testing.B) {
	for _, im := range impls {
		for _, kc := range []int{64, 256, 512} {
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
