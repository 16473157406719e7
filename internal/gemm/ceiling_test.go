package gemm

import (
	"strings"
	"testing"
)

// The ceiling loop runs the kernel Sgemm uses, as many times as asked:
// its checksum is exactly MR·NR·n·2⁻¹³ (each call adds 128 products of
// 2⁻²⁰ to every element), for every kernel this CPU has.
func TestCeilingLoop(t *testing.T) {
	defer Use(Current())
	for _, im := range impls {
		if err := Use(im.kind); err != nil {
			t.Fatal(err)
		}
		c := CeilingLoop()
		if !strings.HasPrefix(c.Name, "fp32-kernel-"+im.kind.String()+"-") || c.FlopsPerCall != float64(2*im.mr*im.nr*ceilingKC) {
			t.Errorf("%v: name %q, %v FLOP a call", im.kind, c.Name, c.FlopsPerCall)
		}
		for _, n := range []int{1, 7, 256, 44035, 1 << 16} {
			want := float32(im.mr*im.nr*n) / 8192
			if got := c.Run(n); got != want {
				t.Errorf("%v: Run(%d) = %v, want %v", im.kind, n, got, want)
			}
		}
	}
}
