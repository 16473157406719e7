//go:build !amd64

package optim

var useAVX2 = false

type adamConsts struct {
	b1, c1, b2, c2, step, inv, eps float32 // read by the assembly: keep first, in this order
	wd, decay                      float32
}

func adamSIMD(w, g, m, v []float32, c *adamConsts) int { return 0 }
