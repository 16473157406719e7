//go:build amd64

package tensor

//go:noescape
func adamAVX2(w, gr, m, v *float32, n int, c *AdamConsts)

// adamSIMD updates the multiple-of-8 head of the slices and returns how
// many elements it did.
func adamSIMD(w, g, m, v []float32, c *AdamConsts) int {
	n := len(w) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	adamAVX2(&w[0], &g[0], &m[0], &v[0], n, c)
	return n
}
