package tensor

import (
	"testing"

	"github.com/minmaxgan/minmax/internal/parallel"
)

func BenchmarkZZPad(b *testing.B) {
	parallel.SetThreads(2)
	n, h, c := 64, 32, 256
	x := make([]float32, n*h*h*c)
	dst := make([]float32, n*(h+2)*(h+2)*c)
	b.SetBytes(int64(4 * (len(x) + len(dst))))
	for range b.N {
		PadImages(dst, x, n, h, h, c, 1, 1)
	}
}
