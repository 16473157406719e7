package tensor

import (
	"fmt"
	"math"
	"testing"

	"github.com/minmaxgan/minmax/internal/parallel"
)

// Tall batch norms (split by rows, summed by blocks) give the same bits at
// every thread count, and agree with float64 sums over the definitions.
func TestBatchNormTall(t *testing.T) {
	defer parallel.SetThreads(parallel.Default().Threads())
	for _, shape := range [][2]int{{2*bnBlockRows + 37, 5}, {3 * bnBlockRows, 64}, {2*bnBlockRows - 1, 3}} {
		rows, c := shape[0], shape[1]
		rng := NewRNG(uint64(rows + c))
		x, g, gamma, beta := make([]float32, rows*c), make([]float32, rows*c), make([]float32, c), make([]float32, c)
		rng.Normal(x, 0.5, 2)
		rng.Normal(g, 0, 1)
		rng.Normal(gamma, 1, 0.3)
		rng.Normal(beta, 0, 0.3)
		run := func() [][]float64 { return bnEntryPoints(x, g, gamma, beta, rows, c, rows) }
		parallel.SetThreads(1)
		want := run()
		for _, th := range []int{2, 3} {
			parallel.SetThreads(th)
			got := run()
			for k := range want {
				for i := range want[k] {
					if math.Float64bits(want[k][i]) != math.Float64bits(got[k][i]) {
						t.Fatalf("%dx%d, %d threads: %s[%d] = %v, one thread %v", rows, c, th, bnEntryNames[k], i, got[k][i], want[k][i])
					}
				}
			}
		}
		// float64 references: statistics, normalised output, gradients.
		for j := range c {
			var s, s2, sgr, sgx float64
			for r := range rows {
				s += float64(x[r*c+j])
			}
			m := s / float64(rows)
			for r := range rows {
				d := float64(x[r*c+j]) - m
				s2 += d * d
				sgr += float64(g[r*c+j])
				sgx += float64(g[r*c+j]) * d
			}
			v := s2 / float64(rows)
			rs := 1 / math.Sqrt(v+1e-5)
			close := func(what string, got, want float64) {
				if math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
					t.Fatalf("%dx%d column %d: %s %v, float64 %v", rows, c, j, what, got, want)
				}
			}
			close("mean", want[0][j], m)
			close("variance", want[1][j], v)
			close("dbeta", want[6][j], sgr)
			close("dgamma", want[5][j], sgx*rs)
			for _, r := range []int{0, rows / 2, rows - 1} {
				xh := (float64(x[r*c+j]) - m) * rs
				close(fmt.Sprintf("y row %d", r), want[3][r*c+j], xh*float64(gamma[j])+float64(beta[j]))
				dx := float64(gamma[j]) * rs * (float64(g[r*c+j]) - sgr/float64(rows) - xh*sgx*rs/float64(rows))
				close(fmt.Sprintf("dx row %d", r), want[4][r*c+j], dx)
				close(fmt.Sprintf("dx from sums row %d", r), want[7][r*c+j], dx)
			}
		}
	}
}

// A tall batch norm's activation and its gradient (applied over chunks of
// rows) are the composition's to the bit: BatchNormApply then the
// activation, and BatchNormBackward of the gradient the activation lets
// through, at 1 and 2 threads.
func TestBatchNormTallAct(t *testing.T) {
	defer parallel.SetThreads(parallel.Default().Threads())
	for _, shape := range [][2]int{{2*bnBlockRows + 37, 64}, {2*bnBlockRows + bnChunkRows + 5, 5}} {
		rows, c := shape[0], shape[1]
		rng := NewRNG(uint64(3*rows + c))
		x, g, gamma, beta := make([]float32, rows*c), make([]float32, rows*c), make([]float32, c), make([]float32, c)
		rng.Normal(x, 0.5, 2)
		rng.Normal(g, 0, 1)
		rng.Normal(gamma, 1, 0.3)
		rng.Normal(beta, 0, 0.3)
		mean, variance, rstd := make([]float32, c), make([]float32, c), make([]float32, c)
		BatchNormStats(mean, variance, rstd, x, rows, c, 1e-5)
		for _, act := range []int{BNReLU, BNLeaky} {
			// The composition.
			want, gm := make([]float32, rows*c), make([]float32, rows*c)
			BatchNormApply(want, x, mean, rstd, gamma, beta, rows, c)
			if act == BNReLU {
				ReLU(want, want)
				ReLUMask(gm, want, g)
			} else {
				LeakyReLU(want, want, 0.2)
				LeakyMask(gm, want, g, 0.2)
			}
			wdx, wdg, wdb := make([]float32, rows*c), make([]float32, c), make([]float32, c)
			BatchNormBackward(wdx, wdg, wdb, gm, x, mean, rstd, gamma, rows, c)
			for _, th := range []int{1, 2} {
				parallel.SetThreads(th)
				y := make([]float32, rows*c)
				BatchNormApplyAct(y, x, mean, rstd, gamma, beta, rows, c, act, 0.2)
				dx, dg, db := make([]float32, rows*c), make([]float32, c), make([]float32, c)
				BatchNormActBackward(dx, dg, db, g, x, y, mean, rstd, gamma, rows, c, act, 0.2)
				for _, p := range []struct {
					name      string
					got, want []float32
				}{{"y", y, want}, {"dx", dx, wdx}, {"dgamma", dg, wdg}, {"dbeta", db, wdb}} {
					for i := range p.want {
						if math.Float32bits(p.got[i]) != math.Float32bits(p.want[i]) {
							t.Fatalf("%dx%d, act %d, %d threads: %s[%d] = %v, composed %v", rows, c, act, th, p.name, i, p.got[i], p.want[i])
						}
					}
				}
			}
		}
	}
}

// The AVX-512 block kernels of a tall batch norm give the row kernels'
// bits: every entry point, with and without an activation, on widths that
// the block kernels cover whole (64, 128), in part (the 8- and 16-column
// groups and a tail: 24, 40, 100, 200) or not at all (5), at 1 and 2
// threads, with ±0, values that cancel in the sums and a NaN; and so do
// passes all first to last (bnAlternate off).
func TestBatchNormTallBlocksMatchRows(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 on this machine: only the row kernels run")
	}
	defer parallel.SetThreads(parallel.Default().Threads())
	for _, c := range []int{5, 24, 40, 64, 100, 128, 200} {
		rows := 2*bnBlockRows + bnChunkRows/2 + 3
		rng := NewRNG(uint64(7*c + 1))
		x, g, gamma, beta := make([]float32, rows*c), make([]float32, rows*c), make([]float32, c), make([]float32, c)
		rng.Normal(x, 0.5, 2)
		rng.Normal(g, 0, 1)
		rng.Normal(gamma, 1, 0.3)
		rng.Normal(beta, 0, 0.3)
		x[3], x[c+3], g[5] = float32(math.Copysign(0, -1)), 0, float32(math.Copysign(0, -1))
		x[7], x[c+7] = 1e30, -1e30
		x[2*c+1] = float32(math.NaN()) // a column of NaN statistics and outputs
		run := func() [][]float64 {
			out := bnEntryPoints(x, g, gamma, beta, rows, c, rows+17)
			mean, variance, rstd := make([]float32, c), make([]float32, c), make([]float32, c)
			BatchNormStats(mean, variance, rstd, x, rows, c, 1e-5)
			for _, act := range []int{BNReLU, BNLeaky} {
				y := make([]float32, rows*c)
				BatchNormApplyAct(y, x, mean, rstd, gamma, beta, rows, c, act, 0.2)
				dx, dg, db := make([]float32, rows*c), make([]float32, c), make([]float32, c)
				BatchNormActBackward(dx, dg, db, g, x, y, mean, rstd, gamma, rows, c, act, 0.2)
				for _, f := range [][]float32{y, dx, dg, db} {
					v := make([]float64, len(f))
					for i := range f {
						v[i] = float64(f[i])
					}
					out = append(out, v)
				}
			}
			return out
		}
		names := append(append([]string(nil), bnEntryNames...), "relu y", "relu dx", "relu dgamma", "relu dbeta", "leaky y", "leaky dx", "leaky dgamma", "leaky dbeta")
		for _, th := range []int{1, 2} {
			parallel.SetThreads(th)
			blocks := run()
			useAVX512 = false
			rowsOnly := run()
			useAVX512 = true
			bnAlternate = false // every pass first to last
			forward := run()
			bnAlternate = true
			for k := range blocks {
				for i := range blocks[k] {
					if math.Float64bits(blocks[k][i]) != math.Float64bits(rowsOnly[k][i]) {
						t.Fatalf("%dx%d, %d threads: %s[%d]: blocks %v, rows %v", rows, c, th, names[k], i, blocks[k][i], rowsOnly[k][i])
					}
					if math.Float64bits(blocks[k][i]) != math.Float64bits(forward[k][i]) {
						t.Fatalf("%dx%d, %d threads: %s[%d]: passes alternating %v, all forward %v", rows, c, th, names[k], i, blocks[k][i], forward[k][i])
					}
				}
			}
		}
	}
}
