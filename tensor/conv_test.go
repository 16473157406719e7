package tensor

import (
	"math"
	"strings"
	"testing"
)

// Col2Im is the adjoint of Im2Col: <Im2Col(x), c> = <x, Col2Im(c)> for
// every geometry (including padding that the kernel hangs over and strides
// that skip pixels), and Col2Im starts from the bias.
func TestCol2ImIsAdjointOfIm2Col(t *testing.T) {
	rng := NewRNG(2)
	for _, p := range []struct{ n, h, w, c, k, s, pad int }{
		{2, 5, 5, 1, 3, 1, 1}, {1, 7, 6, 3, 4, 2, 1}, {3, 9, 8, 2, 3, 3, 0}, {1, 4, 4, 5, 4, 1, 2}, {2, 28, 28, 1, 4, 2, 1},
	} {
		g, err := NewConvGeom(p.h, p.w, p.k, p.k, p.s, p.s, p.pad, p.pad)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, p.n*p.h*p.w*p.c)
		col := make([]float32, p.n*g.OH*g.OW*g.PatchLen(p.c))
		rng.Normal(x, 0, 1)
		rng.Normal(col, 0, 1)
		ux := make([]float32, len(col))
		Im2Col(ux, x, p.n, p.c, g)
		bias := make([]float32, p.c)
		rng.Normal(bias, 0, 1)
		folded := make([]float32, len(x))
		Col2Im(folded, col, bias, p.n, p.c, g)
		var lhs, rhs, bsum float64
		for i := range col {
			lhs += float64(ux[i]) * float64(col[i])
		}
		for i := range x {
			rhs += float64(x[i]) * float64(folded[i])
			bsum += float64(x[i]) * float64(bias[i%p.c])
		}
		if d := math.Abs(lhs - (rhs - bsum)); d > 1e-3*(1+math.Abs(lhs)) {
			t.Errorf("%+v: <Im2Col(x), c> = %g but <x, Col2Im(c)> = %g", p, lhs, rhs-bsum)
		}
	}
}

func TestConvGeomErrors(t *testing.T) {
	for _, c := range []struct {
		h, k, s, p int
		want       string
	}{{5, 0, 1, 0, "kernel"}, {5, 3, 0, 0, "stride"}, {5, 3, 1, -1, "padding"}, {2, 5, 1, 1, "larger"}} {
		if _, err := NewConvGeom(c.h, c.h, c.k, c.k, c.s, c.s, c.p, c.p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want one about the %s", c, err, c.want)
		}
	}
	if _, err := NewConvTGeom(7, 7, 4, 4, 2, 2, 1, 1, 2, 2); err == nil {
		t.Error("output padding 2 with stride 2 was accepted")
	}
	g, err := NewConvTGeom(7, 7, 4, 4, 2, 2, 1, 1, 0, 0)
	if err != nil || g.H != 14 || g.OH != 7 {
		t.Errorf("7×7 up by a stride-2 kernel-4 padding-1 transposed convolution: %+v, %v; want 14×14", g, err)
	}
}
