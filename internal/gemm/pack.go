package gemm

// packA copies the mc×kc block of op(A) starting at row i0, column p0 into
// dst as ceil(mc/mr) micro-panels of mr rows. Micro-panel r holds, for
// p = 0..kc-1, the mr values op(A)[i0+r*mr+ii][p0+p] at dst[r*mr*kc+p*mr+ii],
// multiplied by alpha; rows past mc are zero.
func packA(im *impl, dst, a []float32, lda int, trans bool, i0, mc, p0, kc int, alpha float32) {
	mr := im.mr
	for r := 0; r < mc; r += mr {
		rows := min(mr, mc-r)
		panel := dst[r*kc : r*kc+mr*kc]
		if trans {
			// op(A)[i][p] = a[p*lda+i]: each k step is a contiguous run.
			packCopy(panel, mr, a[p0*lda+i0+r:], lda, kc, rows, alpha)
		} else {
			// op(A)[i][p] = a[i*lda+p]: each row is a contiguous run.
			packTrans(im, panel, mr, a[(i0+r)*lda+p0:], lda, rows, kc, alpha)
		}
	}
}

// packB copies the kc×nc block of op(B) starting at row p0, column j0 into
// dst as ceil(nc/nr) micro-panels of nr columns. Micro-panel s holds, for
// p = 0..kc-1, the nr values op(B)[p0+p][j0+s*nr+jj] at
// dst[s*nr*kc+p*nr+jj]; columns past nc are zero.
func packB(im *impl, dst, b []float32, ldb int, trans bool, j0, nc, p0, kc int) {
	nr := im.nr
	for s := 0; s < nc; s += nr {
		cols := min(nr, nc-s)
		panel := dst[s*kc : s*kc+nr*kc]
		if trans {
			// op(B)[p][j] = b[j*ldb+p]: each column is a contiguous run.
			packTrans(im, panel, nr, b[(j0+s)*ldb+p0:], ldb, cols, kc, 1)
		} else {
			// op(B)[p][j] = b[p*ldb+j]: each k step is a contiguous run.
			packCopy(panel, nr, b[p0*ldb+j0+s:], ldb, kc, cols, 1)
		}
	}
}

// packCopy sets dst[p*w+i] = alpha*src[p*ld+i] for p < kc, i < cols, and
// zeroes dst[p*w+i] for cols <= i < w.
func packCopy(dst []float32, w int, src []float32, ld, kc, cols int, alpha float32) {
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
// may overlap, which rewrites identical values.
func packTrans(im *impl, dst []float32, w int, src []float32, ld, rows, kc int, alpha float32) {
	_ = dst[kc*w-1]
	_ = src[(rows-1)*ld+kc-1]
	done, kc8 := 0, 0
	if im.asmPack && rows >= 4 && kc >= 8 {
		kc8 = kc &^ 7
		i := 0
		for ; i+8 <= rows; i += 8 {
			packT8(&dst[i], w, &src[i*ld], ld, kc8, alpha)
		}
		for ; i+4 <= rows; i += 4 {
			packT4(&dst[i], w, &src[i*ld], ld, kc8, alpha)
		}
		if i < rows {
			i = rows - 4
			packT4(&dst[i], w, &src[i*ld], ld, kc8, alpha)
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
	if rows < w {
		for p := 0; p < kc; p++ {
			clear(dst[p*w+rows : p*w+w])
		}
	}
}
