//go:build amd64

package optim

import "golang.org/x/sys/cpu"

// useAVX2 selects the assembly Adam update; tests turn it off to compare.
var useAVX2 = cpu.X86.HasAVX2

// adamConsts are the per-step constants of the update, in the order the
// assembly reads them.
type adamConsts struct {
	b1, c1, b2, c2, step, inv, eps float32 // read by the assembly: keep first, in this order
	wd, decay                      float32
}

//go:noescape
func adamAVX2(w, gr, m, v *float32, n int, c *adamConsts)

// adamSIMD updates the multiple-of-8 head of the slices and returns how
// many elements it did.
func adamSIMD(w, g, m, v []float32, c *adamConsts) int {
	n := len(w) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	adamAVX2(&w[0], &g[0], &m[0], &v[0], n, c)
	return n
}
