package gemm

import "unsafe"

// The direct path multiplies small products without packing: the micro-kernel
// reads a tile's rows of op(A) (4, or 8 with AVX-512) in place through a row stride and a depth stride
// (so A may be transposed), reads B in place through its leading dimension,
// and applies the whole epilogue (β = 1, bias, ReLU, mask, column sums) to the
// tile while it is in registers, storing C once. It serves the products of
// narrow networks (width 32: every product of a training step), where
// packing and separate epilogue passes cost as much as the multiply. Thin
// products (a single row or column: the output layer, the input layer's
// gradient) take it too: their zero-padded tiles waste lanes, but vector
// lanes, which still beats scalar loops.

// Flags of a direct kernel call (as in internal/asmgen).
const (
	dirAcc    = 1  // C = AB + C instead of C = AB
	dirBias   = 2  // + bias[j]
	dirReLU   = 4  // max(·, 0), Go's max: NaN kept, −0 → +0
	dirMask   = 8  // 0 where mask[i, j] == 0
	dirColSum = 16 // colsum[j] += the tile's column after the above
)

// directKernel computes tiles mr×nr tiles down C: C = epi(Σ_q A(r, q)·B(q, ·)),
// A(r, q) at a[r·rs + q·qs], B(q, j) at b[q·ldb + j].
type directKernel[T Float] func(k, tiles int, a []T, rs, qs int, b []T, ldb int, c []T, ldc, flags int, bias, mask []T, ldm int, colsum []T)

// asmKernel is a direct kernel in assembly, over pointers.
type asmKernel[T Float] func(k, tiles int, a *T, rs, qs int, b *T, ldb int, c *T, ldc int, flags int, bias, mask *T, ldm int, colsum *T)

func ptr[T Float](s []T) *T {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

// adapt turns an assembly kernel into a directKernel over slices.
func adapt[T Float](f asmKernel[T]) directKernel[T] {
	return func(k, tiles int, a []T, rs, qs int, b []T, ldb int, c []T, ldc, flags int, bias, mask []T, ldm int, colsum []T) {
		f(k, tiles, ptr(a), rs, qs, ptr(b), ldb, &c[0], ldc, flags, ptr(bias), ptr(mask), ldm, ptr(colsum))
	}
}

// asmDot is a dot-product kernel in assembly: c[r·ldc] = epi(Σ_q a[r·lda+q]·b[q])
// for rows rows (a multiple of its own 8 or 1), k a multiple of the vector width.
type asmDot[T Float] func(k, rows int, a *T, lda int, b, c *T, ldc, flags int, bias *T)

// useDot reports whether the current product is a column C = A·b that the
// dot kernels compute: a layer with one output (the network's last) would
// otherwise fill one lane of each 8- or 16-wide tile.
func (p *Pool[T]) useDot() bool {
	j := &p.cur
	lanes := p.nr / 2
	return p.dot[0] != nil && !j.tA && !j.tB && j.n == 1 && j.ldb == 1 && j.alpha == 1 &&
		(j.beta == 0 || j.beta == 1) && j.k >= lanes && j.k%lanes == 0 &&
		(j.ep == nil || j.ep.Mask == nil && j.ep.ColSum == nil)
}

// dotColumn computes the current product with the dot kernels.
func (p *Pool[T]) dotColumn() {
	j := &p.cur
	flags, biasS, _, _, _ := j.epArgs(false) // bias and ReLU: useDot took no mask
	if j.beta == 1 {
		flags |= dirAcc
	}
	bias := ptr(biasS)
	full := j.m / 8 * 8
	if full > 0 {
		p.dot[0](j.k, full, &j.a[0], j.lda, &j.b[0], &j.c[0], j.ldc, flags, bias)
	}
	for i := full; i < j.m; i++ {
		p.dot[1](j.k, 1, &j.a[i*j.lda], j.lda, &j.b[0], &j.c[i*j.ldc], j.ldc, flags, bias)
	}
}

// directMaxB bounds B's bytes for the direct path, which reads each column
// panel of B once per tile of rows of C and relies on it staying in cache
// and in the TLB (a width-512 weight gradient, 800 KB of B at a 4 KB row
// stride, ran 7 % faster packed); a variable so tests can send every product
// to the packed path.
var directMaxB = 1 << 18

// useDirect reports whether the current product takes the direct path.
func (p *Pool[T]) useDirect() bool {
	j := &p.cur
	var z T
	return p.dk != nil && !j.tB && j.alpha == 1 && (j.beta == 0 || j.beta == 1) &&
		j.k*j.n*int(unsafe.Sizeof(z)) <= directMaxB
}

// from is s[i:], or nil when s is nil.
func from[T Float](s []T, i int) []T {
	if s == nil {
		return nil
	}
	return s[i:]
}

// direct computes the current product, its rows split over the workers when
// it is large (and has no column sums, which the split would race on).
func (p *Pool[T]) direct() {
	j := &p.cur
	m, mr := j.m, p.mr
	parts := 1
	if p.workers > 1 && m*j.n*j.k >= parallelFMAsVar && (j.ep == nil || j.ep.ColSum == nil) {
		parts = min(p.workers, (m+mr-1)/mr)
	}
	per := ((m+parts-1)/parts + mr - 1) / mr * mr
	p.wg.Add(parts - 1)
	for w := 1; w < parts; w++ {
		p.tasks <- task{w: w, lo: min(w*per, m), hi: min((w+1)*per, m), direct: true}
	}
	p.directRows(0, 0, min(per, m))
	p.wg.Wait()
}

// directRows computes rows [lo, hi) of C with worker w's scratch; lo is a
// multiple of mr.
func (p *Pool[T]) directRows(w, lo, hi int) {
	j := &p.cur
	if lo >= hi {
		return
	}
	s := &p.bufs[w]
	nr := p.nr
	n, k := j.n, j.k
	flags, bias, mask, ldm, colsum := j.epArgs(true)
	if j.beta == 1 {
		flags |= dirAcc
	}
	rs, qs := j.lda, 1
	if j.tA {
		rs, qs = 1, j.lda
	}
	mr := p.mr
	s.tile = grow(s.tile, mr*nr)
	var a []T // nil when k = 0 (A may be empty)
	if k > 0 {
		a = j.a
	}
	if jc := n / nr * nr; jc < n {
		// The last columns, zero-padded to a whole panel.
		s.b = grow(s.b, max(1, k*nr))
		for q := 0; q < k; q++ {
			d := s.b[q*nr : (q+1)*nr]
			copy(d, j.b[q*j.ldb+jc:q*j.ldb+n])
			clear(d[n-jc:])
		}
	}
	// Blocks of rows whose A (up to 32 KiB) stays in cache across the
	// column panels.
	var z T
	blk := max(mr, (32<<10)/max(1, k*int(unsafe.Sizeof(z)))/mr*mr)
	for i0 := lo; i0 < hi; i0 += blk {
		i1 := min(i0+blk, hi)
		full := i0 + (i1-i0)/mr*mr
		for jc := 0; jc < n; jc += nr {
			cols := min(nr, n-jc)
			b, ldb := from(j.b, min(jc, len(j.b))), j.ldb // empty when k = 0
			if cols < nr {
				b, ldb = s.b, nr
			}
			if cols == nr && full > i0 {
				p.dk(k, (full-i0)/mr, from(a, i0*rs), rs, qs, b, ldb, j.c[i0*j.ldc+jc:], j.ldc, flags, from(bias, jc), from(mask, i0*ldm+jc), ldm, from(colsum, jc))
			}
			for i := i0; i < full && cols < nr; i += mr {
				p.dk(k, 1, from(a, i*rs), rs, qs, b, ldb, s.tile, nr, 0, nil, nil, 0, nil)
				p.tileEdge(w, i, mr, jc, cols, j.beta == 1, true, true)
			}
			// The rows left over, by the 4-, 2- and 1-row kernels.
			for i, rows := full, 4; i < i1 && rows > 0; rows /= 2 {
				if rows >= mr || i+rows > i1 {
					continue
				}
				dk := p.dks[rows]
				if cols == nr {
					dk(k, 1, from(a, i*rs), rs, qs, b, ldb, j.c[i*j.ldc+jc:], j.ldc, flags, from(bias, jc), from(mask, i*ldm+jc), ldm, from(colsum, jc))
				} else {
					dk(k, 1, from(a, i*rs), rs, qs, b, ldb, s.tile, nr, 0, nil, nil, 0, nil)
					p.tileEdge(w, i, rows, jc, cols, j.beta == 1, true, true)
				}
				i += rows
			}
		}
	}
}

// goDirect is the portable direct kernel.
func goDirect[T Float](k, tiles int, a []T, rs, qs int, b []T, ldb int, c []T, ldc, flags int, bias, mask []T, ldm int, colsum []T, mr, nr int) {
	for t := 0; t < tiles; t++ {
		goDirectTile(k, from(a, t*mr*rs), rs, qs, b, ldb, c[t*mr*ldc:], ldc, flags, bias, from(mask, t*mr*ldm), ldm, colsum, mr, nr)
	}
}

func goDirectTile[T Float](k int, a []T, rs, qs int, b []T, ldb int, c []T, ldc, flags int, bias, mask []T, ldm int, colsum []T, mr, nr int) {
	var acc [8 * 32]T
	for q := 0; q < k; q++ {
		bq := b[q*ldb : q*ldb+nr]
		for r := 0; r < mr; r++ {
			av := a[r*rs+q*qs]
			row := acc[r*nr : r*nr+nr]
			for x, bv := range bq {
				row[x] += av * bv
			}
		}
	}
	for r := 0; r < mr; r++ {
		crow := c[r*ldc : r*ldc+nr]
		for x := range crow {
			v := acc[r*nr+x]
			if flags&dirAcc != 0 {
				v += crow[x]
			}
			if flags&dirBias != 0 {
				v += bias[x]
			}
			if flags&dirReLU != 0 {
				v = max(v, 0)
			}
			if flags&dirMask != 0 && mask[r*ldm+x] == 0 {
				v = 0
			}
			crow[x] = v
		}
	}
	if flags&dirColSum != 0 {
		for r := 0; r < mr; r++ {
			for x := 0; x < nr; x++ {
				colsum[x] += c[r*ldc+x]
			}
		}
	}
}
