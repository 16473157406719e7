package gemm

// packA copies the mc×kc block of op(A) starting at row i0, column p0 into
// dst as ceil(mc/mr) micro-panels of mr rows. Micro-panel r holds, for
// p = 0..kc-1, the mr values op(A)[i0+r*mr+ii][p0+p] at dst[r*mr*kc+p*mr+ii],
// multiplied by alpha; rows past mc are zero.
func packA(im *impl, dst, a []float32, lda int, trans bool, i0, mc, p0, kc int, alpha float32) {
	mr := im.mr
	if trans {
		// op(A)[i][p] = a[p*lda+i]: each k step is a contiguous run.
		packPanels(im, dst, mr, a[p0*lda+i0:], lda, kc, mc, alpha)
		return
	}
	// op(A)[i][p] = a[i*lda+p]: each row is a contiguous run.
	for r := 0; r < mc; r += mr {
		packAPanel(im, dst[r*kc:r*kc+mr*kc], a, lda, i0+r, min(mr, mc-r), p0, kc, alpha, false)
	}
}

// packAPanel packs one micro-panel of a non-transposed A: rows [i0, i0+rows)
// and columns [p0, p0+kc). With prefetch, the source of the next
// micro-panel (rows i0+mr...) is prefetched as this one is read, so that it
// arrives while the micro-kernel runs on this one.
func packAPanel(im *impl, dst, a []float32, lda, i0, rows, p0, kc int, alpha float32, prefetch bool) {
	pf := 0
	if prefetch && (i0+2*im.mr-1)*lda+p0+kc <= len(a) {
		pf = im.mr * lda * 4
	}
	packTrans(im, dst, im.mr, a[i0*lda+p0:], lda, rows, kc, alpha, pf)
}

// packB copies the kc×nc block of op(B) starting at row p0, column j0 into
// dst as ceil(nc/nr) micro-panels of nr columns. Micro-panel s holds, for
// p = 0..kc-1, the nr values op(B)[p0+p][j0+s*nr+jj] at
// dst[s*nr*kc+p*nr+jj]; columns past nc are zero.
func packB(im *impl, dst, b []float32, ldb int, trans bool, j0, nc, p0, kc int) {
	nr := im.nr
	if !trans {
		// op(B)[p][j] = b[p*ldb+j]: each k step is a contiguous run.
		packPanels(im, dst, nr, b[p0*ldb+j0:], ldb, kc, nc, 1)
		return
	}
	// op(B)[p][j] = b[j*ldb+p]: each column is a contiguous run.
	for s := 0; s < nc; s += nr {
		cols := min(nr, nc-s)
		pf := 0
		if (j0+s+2*nr-1)*ldb+p0+kc <= len(b) {
			pf = nr * ldb * 4
		}
		packTrans(im, dst[s*kc:s*kc+nr*kc], nr, b[(j0+s)*ldb+p0:], ldb, cols, kc, 1, pf)
	}
}

// packPanels packs the kc×n matrix src (row stride ld) into ceil(n/w)
// panels of w columns: dst[s*w*kc+p*w+i] = alpha*src[p*ld+s*w+i], zero past
// column n. With the assembly copier, the full panels are filled one source
// row at a time, so src is read sequentially.
func packPanels(im *impl, dst []float32, w int, src []float32, ld, kc, n int, alpha float32) {
	full := n / w
	if im.asmPack && full > 0 {
		_ = dst[full*w*kc-1]
		_ = src[(kc-1)*ld+full*w-1]
		for p := 0; p < kc; p++ {
			packCopyAVX(&dst[p*w], w*kc, &src[p*ld], w, full, w, alpha)
		}
	} else {
		for s := 0; s < full; s++ {
			packCopy(im, dst[s*w*kc:(s+1)*w*kc], w, src[s*w:], ld, kc, w, alpha)
		}
	}
	if s := full * w; s < n {
		packCopy(im, dst[s*kc:s*kc+w*kc], w, src[s:], ld, kc, n-s, alpha)
	}
}

// packCopy sets dst[p*w+i] = alpha*src[p*ld+i] for p < kc, i < cols, and
// zeroes dst[p*w+i] for cols <= i < w.
func packCopy(im *impl, dst []float32, w int, src []float32, ld, kc, cols int, alpha float32) {
	if im.asmPack {
		_ = dst[kc*w-1]
		_ = src[(kc-1)*ld+cols-1]
		packCopyAVX(&dst[0], w, &src[0], ld, kc, cols, alpha)
		if cols < w {
			for p := 0; p < kc; p++ {
				clear(dst[p*w+cols : p*w+w])
			}
		}
		return
	}
	for p := 0; p < kc; p++ {
		d := dst[p*w : p*w+w]
		s := src[p*ld : p*ld+cols]
		if alpha == 1 {
			copy(d, s)
		} else {
			for i, v := range s {
				d[i] = alpha * v
			}
		}
		clear(d[cols:])
	}
}

// packTrans sets dst[p*w+i] = alpha*src[i*ld+p] for i < rows, p < kc, and
// zeroes dst[p*w+i] for rows <= i < w. With the assembly packers, whole
// groups of 8 (or 4) rows and 8 columns are transposed in registers; groups
// may overlap, which rewrites identical values. A non-zero pf asks them to
// prefetch the source pf bytes further on.
func packTrans(im *impl, dst []float32, w int, src []float32, ld, rows, kc int, alpha float32, pf int) {
	packTransRaw(im, dst, w, src, ld, rows, kc, alpha, pf)
	if rows < w {
		for p := 0; p < kc; p++ {
			clear(dst[p*w+rows : p*w+w])
		}
	}
}

// packTransRaw is packTrans without the zeroing: it writes only
// dst[p*w+i] for i < rows, p < kc, so that runs of rows from different
// sources can fill one micro-panel side by side.
func packTransRaw(im *impl, dst []float32, w int, src []float32, ld, rows, kc int, alpha float32, pf int) {
	_ = dst[(kc-1)*w+rows-1]
	_ = src[(rows-1)*ld+kc-1]
	done, kc8 := 0, 0
	if im.asmPack && rows >= 4 && kc >= 8 {
		kc8 = kc &^ 7
		i := 0
		for ; i+8 <= rows; i += 8 {
			packT8(&dst[i], w, &src[i*ld], ld, kc8, alpha, pf)
		}
		for ; i+4 <= rows; i += 4 {
			packT4(&dst[i], w, &src[i*ld], ld, kc8, alpha, pf)
		}
		if i < rows {
			i = rows - 4
			packT4(&dst[i], w, &src[i*ld], ld, kc8, alpha, pf)
		}
		done = rows
	}
	for i := 0; i < rows; i++ {
		s := src[i*ld : i*ld+kc]
		d := dst[i:]
		p := kc8
		if i >= done {
			p = 0
		}
		for ; p < kc; p++ {
			d[p*w] = alpha * s[p]
		}
	}
}

// packARows packs one micro-panel of a computed A (rows [i0, i0+rows),
// columns [p0, p0+kc)) as packAPanel packs a stored one: the rows are
// gathered into buf (at least mr·kc floats), then transposed into dst.
func packARows(im *impl, dst, buf []float32, a Rows, i0, rows, p0, kc int, alpha float32) {
	packRowsT(im, dst, buf, a, i0, rows, p0, kc, alpha, im.mr)
}

// packRowsT packs rows [i0, i0+rows) (at most mr), columns [p0, p0+kc) of
// a computed matrix transposed into a panel of width mr: dst[p*mr+i] =
// alpha·a[i0+i][p0+p], zero for i ≥ rows. A's micro-panels are such
// panels (mr = MR), and so are those of a B given by the rows of Bᵀ
// (mr = NR). buf holds at least mr·kc floats.
func packRowsT(im *impl, dst, buf []float32, a Rows, i0, rows, p0, kc int, alpha float32, mr int) {
	if s, ok := a.(StridedRows); ok {
		for p := 0; p < kc; {
			m := s.Span(p0+p, kc-p)
			for i := 0; i < rows; {
				src, ld, n := s.Run(i0+i, rows-i, p0+p)
				if src != nil && (n >= 4 || rows < 4 || m < 8) {
					packTransRaw(im, dst[p*mr+i:], mr, src, ld, n, m, alpha, 0)
					i += n
					continue
				}
				// Rows that are not in memory, or a run too short for the
				// 4- and 8-row packers (which take spans of 8 or more
				// columns): gather them (with neighbours, to 4
				// rows: packing a row again writes the same values) into
				// buf, at most mr rows of m ≤ kc columns, and pack those.
				g0, g1 := i, i+n
				if g1-g0 < 4 && rows >= 4 {
					g1 = min(rows, g0+4)
					g0 = g1 - 4
				}
				for t := g0; t < g1; t++ {
					s.Row(buf[(t-g0)*m:(t-g0+1)*m], i0+t, p0+p)
				}
				packTransRaw(im, dst[p*mr+g0:], mr, buf, m, g1-g0, m, alpha, 0)
				i = g1
			}
			p += m
		}
		if rows < mr {
			for p := 0; p < kc; p++ {
				clear(dst[p*mr+rows : p*mr+mr])
			}
		}
		return
	}
	for i := range rows {
		a.Row(buf[i*kc:(i+1)*kc], i0+i, p0)
	}
	packTrans(im, dst, mr, buf, kc, rows, kc, alpha, 0)
}

// packBRows packs the kc×nc block of a computed B starting at row p0,
// column j0 as packB packs a stored one: each row's nc values are gathered
// into buf (at least nc floats), then spread over the micro-panels.
func packBRows(im *impl, dst, buf []float32, b Rows, j0, nc, p0, kc int) {
	nr := im.nr
	if s, ok := b.(StridedRows); ok {
		packBStrided(im, dst, buf, s, j0, nc, p0, kc)
		return
	}
	row := buf[:nc]
	full := nc / nr
	for p := range kc {
		b.Row(row, p0+p, j0)
		if im.asmPack && full > 0 {
			packCopyAVX(&dst[p*nr], nr*kc, &row[0], nr, full, nr, 1)
		} else {
			for s := range full {
				copy(dst[s*nr*kc+p*nr:s*nr*kc+p*nr+nr], row[s*nr:s*nr+nr])
			}
		}
		if s := full * nr; s < nc {
			d := dst[s*kc+p*nr : s*kc+p*nr+nr]
			copy(d, row[s:])
			clear(d[nc-s:])
		}
	}
}

// packBStrided is packBRows for a B whose rows lie in memory in strided
// runs (a convolution's patches): each contiguous span of columns of a
// run of rows is copied straight into the micro-panels, a panel's rows one
// after the other, without gathering the rows first; rows not in memory
// (src nil) are gathered one at a time into buf.
func packBStrided(im *impl, dst, buf []float32, s StridedRows, j0, nc, p0, kc int) {
	nr := im.nr
	for q := 0; q < nc; {
		m := s.Span(j0+q, nc-q)
		for p := 0; p < kc; {
			src, ld, n := s.Run(p0+p, kc-p, j0+q)
			if src == nil {
				for t := range n {
					s.Row(buf[:m], p0+p+t, j0+q)
					placeB(im, dst, buf, 0, 1, q, m, p+t, kc)
				}
			} else {
				placeB(im, dst, src, ld, n, q, m, p, kc)
			}
			p += n
		}
		q += m
	}
	if tail := nc % nr; tail != 0 {
		last := dst[(nc-tail)*kc:]
		for p := range kc {
			clear(last[p*nr+tail : p*nr+nr])
		}
	}
}

// packPairsStrided packs a K chunk of a B given by strided runs (kc rows
// from p0, nc columns from j0) straight into the bfloat16 pair panels
// that packBStrided then toPairs would make (pair rows of the panel at
// dst + (q/32)·32·kc for the span at column q), in one pass over B. A run
// of rows is packed from where it lies (packPairsB); a pair that
// straddles two runs, and the rows over the padding, go through buf,
// which holds three rows of nc. It packs nothing and returns false when
// a span of columns does not start a panel or ends inside one before
// the block's last column: those keep packBStrided's path.
func packPairsStrided(dst, buf []float32, s StridedRows, j0, nc, p0, kc int) bool {
	for q := 0; q < nc; {
		m := s.Span(j0+q, nc-q)
		if q%32 != 0 || m%32 != 0 && q+m != nc {
			return false
		}
		q += m
	}
	pstride := 32 * kc
	for q := 0; q < nc; {
		m := s.Span(j0+q, nc-q)
		panels := (m + 31) / 32
		tail := pairsTail(m - (panels-1)*32)
		d := dst[q/32*pstride:]
		// pair holds a pending even row and its partner; row a gathered
		// row over the padding.
		pair, row := buf[:2*m], buf[2*m:3*m]
		pending := false
		for p := 0; p < kc; {
			src, ld, n := s.Run(p0+p, kc-p, j0+q)
			if src == nil {
				n = 1
				s.Row(row, p0+p, j0+q)
				src, ld = row, m
			}
			_ = src[(n-1)*ld+m-1]
			t := 0
			if pending {
				// p is odd: its row completes the pair of row p-1.
				copy(pair[m:], src[:m])
				packPairsB(&d[(p-1)/2*32], &pair[0], m, 2, panels, tail, pstride)
				pending, t = false, 1
			}
			if even := (n - t) &^ 1; even > 0 {
				packPairsB(&d[(p+t)/2*32], &src[t*ld], ld, even, panels, tail, pstride)
				t += even
			}
			if t < n {
				copy(pair[:m], src[t*ld:t*ld+m])
				pending = true
			}
			p += n
		}
		if pending {
			// An odd kc: the last pair's second row is zero, as toPairs'.
			packPairsB(&d[(kc-1)/2*32], &pair[0], m, 1, panels, tail, pstride)
		}
		q += m
	}
	return true
}

// placeB copies rows×m values from src (rows ld apart) into the packed B
// panels as rows [p, p+rows) and columns [q, q+m) of the block, cut at
// the panel boundaries.
func placeB(im *impl, dst, src []float32, ld, rows, q, m, p, kc int) {
	nr := im.nr
	for x := 0; x < m; {
		col := q + x
		w := min(m-x, nr-col%nr)
		d := dst[(col/nr)*nr*kc+p*nr+col%nr:]
		if im.asmPack {
			_ = d[(rows-1)*nr+w-1]
			_ = src[(rows-1)*ld+x+w-1]
			packCopyAVX(&d[0], nr, &src[x], ld, rows, w, 1)
		} else {
			for r := range rows {
				copy(d[r*nr:r*nr+w], src[r*ld+x:r*ld+x+w])
			}
		}
		x += w
	}
}
