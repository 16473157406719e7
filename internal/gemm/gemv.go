package gemm

import "github.com/minmaxgan/minmax/internal/parallel"

// Matrix-vector products (m == 1 or n == 1) do not go through the packed
// path: padding a single row or column to a full micro-tile would waste
// 31/32 (or 11/12) of the work. They reduce to one of two forms over a
// matrix M with rows outputs and k inputs:
//
//	dot form:  y[i] = sum_p M[i*ldm+p] * x[p]   (rows of M contiguous in p)
//	axpy form: y[i] = sum_p M[p*ldm+i] * x[p]   (columns of M contiguous in p)
//
// then y = alpha*y + beta*y_old. Threads split the outputs, never p, and
// each output is computed the same way whichever part holds it.

// gemvJob is a matrix-vector product handed to the pool.
type gemvJob struct {
	im          *impl
	axpy        bool // axpy form, else dot form
	rows, k     int
	mat         []float32
	ldm         int
	src         Rows      // the matrix given by its rows (mat nil): rows of M in the dot form, its p rows in the axpy form
	x           []float32 // k contiguous values
	y           []float32
	incy        int
	alpha, beta float32
	ws          []*workspace
}

// gemv computes the m == 1 or n == 1 product. x is op(B)'s column (n == 1)
// or op(A)'s row (m == 1), gathered into contiguous scratch if strided.
func (x *ctx) gemv(pool *parallel.Pool, im *impl, j *job) {
	g := &x.gv
	*g = gemvJob{im: im, k: j.k, alpha: j.alpha, beta: j.beta}
	var vec []float32
	var inc int
	if j.n == 1 {
		// y = C's column, M = op(A), x = op(B)'s column.
		g.rows, g.y, g.incy = j.m, j.c, j.ldc
		g.mat, g.ldm, g.axpy, g.src = j.a, j.lda, j.transA, j.ga
		vec, inc = j.b, j.ldb
		if j.transB {
			inc = 1
		}
	} else {
		// y = C's row, M = op(B)ᵀ, x = op(A)'s row.
		g.rows, g.y, g.incy = j.n, j.c, 1
		g.mat, g.ldm, g.axpy = j.b, j.ldb, !j.transB
		switch {
		case j.gb != nil: // rows of B: the axpy form's p rows
			g.src, g.axpy = j.gb, true
		case j.gbT != nil: // rows of Bᵀ: the dot form's rows
			g.src, g.axpy = j.gbT, false
		}
		vec, inc = j.a, 1
		if j.transA {
			inc = j.lda
		}
	}
	threads := pool.Threads()
	if 2*float64(g.rows)*float64(g.k) < gemvMinFlops {
		threads = 1
	}
	parts := min(threads, max(1, g.rows/64))
	x.ensureGemv(parts, g.rows, g.k, g.src != nil, g.axpy)
	g.ws = x.ws[:parts]
	if inc == 1 {
		g.x = vec[:g.k]
	} else {
		g.x = x.ws[0].b[:g.k]
		for p := range g.x {
			g.x[p] = vec[p*inc]
		}
	}
	if parts == 1 {
		g.Run(0, 0, g.rows)
	} else {
		pool.ForParts(g.rows, parts, g)
	}
	g.mat, g.src, g.x, g.y, g.ws = nil, nil, nil, nil, nil
}

// gemvRows is how many rows of a computed matrix the dot form gathers at a
// time (a multiple of the 4 rows dot4 takes, so the grouping of rows into
// dot4 calls is the one of a stored matrix: the same bits).
const gemvRows = 16

// ensureGemv makes the workspaces big enough for a product with rows
// outputs over k inputs split into parts, with room for the rows of a
// computed matrix: gemvRows rows of k in the dot form, one p row of the
// part's outputs in the axpy form.
func (x *ctx) ensureGemv(parts, rows, k int, computed, axpy bool) {
	for len(x.ws) < parts {
		x.ws = append(x.ws, new(workspace))
	}
	if len(x.ws[0].b) < k {
		x.ws[0].b = alignedFloats(k)
	}
	per := (rows + parts - 1) / parts
	for _, w := range x.ws[:parts] {
		if len(w.a) < per {
			w.a = alignedFloats(per)
		}
		need := gemvRows * k
		if axpy {
			need = per
		}
		if computed && len(w.rows) < need {
			w.rows = alignedFloats(need)
		}
	}
}

// Run implements parallel.Job for outputs [lo, hi).
func (g *gemvJob) Run(part, lo, hi int) {
	ws := g.ws[part]
	t := ws.a[:hi-lo]
	switch {
	case g.axpy && g.src != nil:
		clear(t)
		row := ws.rows[:hi-lo]
		for p, xp := range g.x {
			g.src.Row(row, p, lo)
			g.im.axpy(xp, row, t)
		}
	case g.axpy:
		clear(t)
		for p, xp := range g.x {
			g.im.axpy(xp, g.mat[p*g.ldm+lo:p*g.ldm+hi], t)
		}
	case g.src != nil:
		// A block of rows at a time, gathered while the block's dot
		// products keep it in cache (never the whole matrix).
		for i0 := lo; i0 < hi; i0 += gemvRows {
			i1 := min(hi, i0+gemvRows)
			buf := ws.rows[:(i1-i0)*g.k]
			for i := i0; i < i1; i++ {
				g.src.Row(buf[(i-i0)*g.k:(i-i0+1)*g.k], i, 0)
			}
			g.dots(buf, g.k, i0, i1, t[i0-lo:])
		}
	default:
		g.dots(g.mat[lo*g.ldm:], g.ldm, lo, hi, t)
	}
	y := g.y
	for i, v := range t {
		yi := &y[(lo+i)*g.incy]
		if g.beta == 0 {
			*yi = g.alpha * v
		} else {
			*yi = float32(g.alpha*v) + float32(g.beta**yi)
		}
	}
}

// dots writes t[i-lo] = row i of M · x for rows [lo, hi) of M, stored at
// m (row lo first, rows ld apart): dot4 on each group of 4 rows from lo,
// then dot on the rest.
func (g *gemvJob) dots(m []float32, ld, lo, hi int, t []float32) {
	i := lo
	if g.im.dot4 != nil {
		for ; i+4 <= hi; i += 4 {
			g.im.dot4(m[(i-lo)*ld:], ld, g.x, t[i-lo:])
		}
	}
	for ; i < hi; i++ {
		t[i-lo] = g.im.dot(m[(i-lo)*ld:(i-lo)*ld+g.k], g.x)
	}
}

// dotGo returns sum a[i]*x[i] (len(x) >= len(a)) with 8 running sums.
func dotGo(a, x []float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	x = x[:len(a)]
	i := 0
	for ; i+8 <= len(a); i += 8 {
		aa, xx := a[i:i+8:i+8], x[i:i+8:i+8]
		s0 += aa[0] * xx[0]
		s1 += aa[1] * xx[1]
		s2 += aa[2] * xx[2]
		s3 += aa[3] * xx[3]
		s4 += aa[4] * xx[4]
		s5 += aa[5] * xx[5]
		s6 += aa[6] * xx[6]
		s7 += aa[7] * xx[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * x[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// axpyGo sets y[i] += alpha*x[i] (len(y) >= len(x)).
func axpyGo(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}
