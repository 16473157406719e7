package autograd_test

import (
	"math"
	"sync"
	"testing"

	"github.com/minmaxgan/minmax/autograd"
	"github.com/minmaxgan/minmax/cluster"
	"github.com/minmaxgan/minmax/internal/parallel"
	"github.com/minmaxgan/minmax/tensor"
)

// syncBNFigures are what one process computes from its rows of the batch:
// the outputs, the gradients of a first-order loss (Σ w·y) with respect to
// x, γ and β, and the gradients of a second-order one (the squared norm
// of ∂(Σ w·y)/∂x, as R1 takes it) with respect to γ and x.
type syncBNFigures struct {
	y, dx, dgamma, dbeta, d2gamma, d2x []float32
}

// runBN computes the figures for the rows x (rows×c), with synchronised
// batch norm over tp's group when sync is set, else plain batch norm.
func runBN(t *testing.T, tp *autograd.Tape, sync bool, x, w []float32, rows, c int, gamma, beta *autograd.Param) syncBNFigures {
	t.Helper()
	bn := func(xn *autograd.Node) *autograd.Node {
		if sync {
			return tp.SyncBatchNorm(xn, tp.Param(gamma), tp.Param(beta), 1e-5)
		}
		return tp.BatchNorm(xn, tp.Param(gamma), tp.Param(beta), 1e-5)
	}
	xt, _ := tensor.FromData(append([]float32(nil), x...), rows, c)
	wt, _ := tensor.FromData(append([]float32(nil), w...), rows, c)
	var f syncBNFigures
	tp.Reset()
	xn := tp.Leaf(xt)
	y := bn(xn)
	loss := tp.Sum(tp.Mul(y, tp.Leaf(wt)), false)
	f.y = append(f.y, y.Data()...)
	gs, err := tp.Grad(loss, []*autograd.Node{xn, tp.Param(gamma), tp.Param(beta)}, false)
	if err != nil {
		t.Fatal(err)
	}
	f.dx, f.dgamma, f.dbeta = append([]float32(nil), gs[0].Data()...), append([]float32(nil), gs[1].Data()...), append([]float32(nil), gs[2].Data()...)

	// Second order: the penalty ‖∂(Σ w·y)/∂x‖², then its gradient.
	tp.Reset()
	xn = tp.Leaf(xt)
	y = bn(xn)
	loss = tp.Sum(tp.Mul(y, tp.Leaf(wt)), false)
	dx, err := tp.GradOf(loss, xn, true)
	if err != nil {
		t.Fatal(err)
	}
	pen := tp.Sum(tp.Square(dx), false)
	gs, err = tp.Grad(pen, []*autograd.Node{tp.Param(gamma), xn}, false)
	if err != nil {
		t.Fatal(err)
	}
	f.d2gamma, f.d2x = append([]float32(nil), gs[0].Data()...), append([]float32(nil), gs[1].Data()...)
	if err := tp.Err(); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestSyncBatchNormMatchesWholeBatch: three ranks holding 5, 4 and 3 rows
// of a 12-row batch, with synchronised batch norm, compute what one
// process computes with batch norm over the 12 rows: outputs and
// gradients with respect to x (to second order); γ's and β's gradients
// summed over the ranks.
func TestSyncBatchNormMatchesWholeBatch(t *testing.T) {
	defer parallel.SetThreads(parallel.Default().Threads())
	parallel.SetThreads(1) // the ranks are goroutines sharing the worker pool
	const c = 7
	split := []int{5, 4, 3}
	rows := 12
	rng := tensor.NewRNG(11)
	x := make([]float32, rows*c)
	w := make([]float32, rows*c)
	rng.Normal(x, 0.5, 2)
	rng.Normal(w, 0, 1)
	gamma := autograd.NewParam("weight", tensor.New(c))
	beta := autograd.NewParam("bias", tensor.New(c))
	rng.Normal(gamma.Value.Data, 1, 0.3)
	rng.Normal(beta.Value.Data, 0, 0.3)

	whole := runBN(t, autograd.NewTape(), false, x, w, rows, c, gamma, beta)

	comms := cluster.Local(len(split))
	figs := make([]syncBNFigures, len(split))
	var wg sync.WaitGroup
	lo := 0
	for r, n := range split {
		wg.Add(1)
		go func(r, lo, n int) {
			defer wg.Done()
			tp := autograd.NewTape()
			tp.SetAllReducer(comms[r])
			// Each rank its own γ and β (the same values), as on separate machines.
			g := autograd.NewParam("weight", gamma.Value.Clone())
			b := autograd.NewParam("bias", beta.Value.Clone())
			figs[r] = runBN(t, tp, true, x[lo*c:(lo+n)*c], w[lo*c:(lo+n)*c], n, c, g, b)
		}(r, lo, n)
		lo += n
	}
	wg.Wait()

	var y, dx, d2x []float32
	dgamma, dbeta, d2gamma := make([]float32, c), make([]float32, c), make([]float32, c)
	for _, f := range figs {
		y = append(y, f.y...)
		dx = append(dx, f.dx...)
		d2x = append(d2x, f.d2x...)
		for i := range c {
			dgamma[i] += f.dgamma[i]
			dbeta[i] += f.dbeta[i]
			d2gamma[i] += f.d2gamma[i]
		}
	}
	for _, cmp := range []struct {
		name      string
		got, want []float32
	}{
		{"y", y, whole.y}, {"dL/dx", dx, whole.dx}, {"dL/dγ", dgamma, whole.dgamma}, {"dL/dβ", dbeta, whole.dbeta},
		{"d‖∂L/∂x‖²/dγ", d2gamma, whole.d2gamma}, {"d‖∂L/∂x‖²/dx", d2x, whole.d2x},
	} {
		if len(cmp.got) != len(cmp.want) {
			t.Fatalf("%s: %d numbers, want %d", cmp.name, len(cmp.got), len(cmp.want))
		}
		worst := 0.0
		for i := range cmp.got {
			d := math.Abs(float64(cmp.got[i]-cmp.want[i])) / (1 + math.Abs(float64(cmp.want[i])))
			worst = max(worst, d)
		}
		// float32 arithmetic in a different order: a few units in the
		// last place of the largest terms.
		if worst > 2e-5 {
			t.Errorf("%s: synchronised over 3 ranks differs from the whole batch by %.3g (relative)", cmp.name, worst)
		}
		t.Logf("%s: largest difference %.3g", cmp.name, worst)
	}
}

// TestAllReduceGradient: y = AllReduce(x) on every rank; with the loss of
// rank r being Σ a_r·y, the gradient with respect to x on each rank is
// Σ_r a_r (every rank's loss sees every x).
func TestAllReduceGradient(t *testing.T) {
	comms := cluster.Local(2)
	a := [][]float32{{1, 2, 3}, {10, 20, 30}}
	xs := [][]float32{{1, 1, 1}, {2, 3, 4}}
	got := make([][]float32, 2)
	ys := make([][]float32, 2)
	var wg sync.WaitGroup
	for r := range 2 {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			tp := autograd.NewTape()
			tp.SetAllReducer(comms[r])
			xt, _ := tensor.FromData(append([]float32(nil), xs[r]...), 3)
			at, _ := tensor.FromData(a[r], 3)
			x := tp.Leaf(xt)
			y := tp.AllReduce(x)
			ys[r] = append([]float32(nil), y.Data()...)
			g, err := tp.GradOf(tp.Sum(tp.Mul(y, tp.Leaf(at)), false), x, false)
			if err != nil {
				t.Error(err)
				return
			}
			got[r] = append([]float32(nil), g.Data()...)
		}(r)
	}
	wg.Wait()
	for r := range 2 {
		for i := range 3 {
			if ys[r][i] != xs[0][i]+xs[1][i] {
				t.Errorf("rank %d: y[%d] = %v, want %v", r, i, ys[r][i], xs[0][i]+xs[1][i])
			}
			if want := a[0][i] + a[1][i]; got[r][i] != want {
				t.Errorf("rank %d: dL/dx[%d] = %v, want %v", r, i, got[r][i], want)
			}
		}
	}
	tp := autograd.NewTape()
	tp.AllReduce(tp.Leaf(tensor.New(2)))
	if tp.Err() == nil {
		t.Error("AllReduce without a group: no error")
	}
}
