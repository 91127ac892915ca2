// Package gemm is the matrix multiply of reluscope's native engine:
// C = alpha·op(A)·op(B) + beta·C on row-major float64 or float32 matrices.
//
// One register-blocked micro-kernel per CPU (8×16 float64 or 8×32 float32 in
// zmm registers with AVX-512, 6×8 or 6×16 in ymm with AVX2 and FMA, generated
// Go assembly; portable Go otherwise) serves two paths. The direct path reads
// A (plain or transposed) and B in place: products whose B fits in cache, all
// of a narrow network's. The packed path copies blocks of op(A) and op(B)
// into panels first: wide layers, B transposed. Either way the kernel applies
// the epilogue (bias, ReLU, mask, column sums) to a tile while it is in
// registers. A Pool owns a fixed set of helper goroutines that split the
// larger dimension of C; it allocates only while its buffers grow to the
// largest shape seen, never per call.
//
// Misuse (short slices, bad leading dimensions) panics with a "gemm:" prefix.
package gemm

//go:generate go run ./internal/asmgen -out direct_amd64.s

import (
	"fmt"
	"math"
	"os"
	"sync"
)

// Float is the element type.
type Float interface{ ~float32 | ~float64 }

const (
	mr = 4   // rows of the portable micro-tile (6 with AVX2, 8 with AVX-512: Pool.mr)
	kc = 256 // depth of a packed block
	mc = 128 // rows of a packed A block
	// parallelFMAs is the work below which a product runs on one goroutine
	// (measured with BenchmarkShapes on 2 cores: the width-32 products,
	// up to 2M FMAs, run slower split; 5M FMAs and more run faster).
	parallelFMAs = 1 << 22
	// smallFMAs is the work below which packing does not pay.
	smallFMAs = 1 << 11
)

// Kernel names the micro-kernel new pools use: "avx512" (8×16 float64,
// 8×32 float32 in zmm registers), "avx2-fma" (6×8, 6×16 in ymm) or "go" (the
// portable kernel), the best this CPU has unless RELUSCOPE_GEMM_KERNEL names
// another available one (for measurements).
func Kernel() string { return kernelName }

var kernelName = pickKernel(os.Getenv("RELUSCOPE_GEMM_KERNEL"))

func pickKernel(want string) string {
	avail := []string{"go"}
	if hasAsm {
		avail = append(avail, "avx2-fma")
	}
	if hasAsm && has512 {
		avail = append(avail, "avx512")
	}
	for _, k := range avail {
		if k == want {
			return k
		}
	}
	return avail[len(avail)-1]
}

// Epilogue is applied to C after the product, tile by tile while each tile
// is still in cache: C += Bias (per column), then ReLU (Go's max(c, 0)), then
// C = 0 wherever Mask is 0 (Mask is m×n with leading dimension LdMask, e.g. a
// layer's ReLU output, whose zeros mark inactive units); finally ColSum[j] +=
// Σ_i C[i, j] (e.g. a layer's bias gradient), when ColSum is set.
type Epilogue[T Float] struct {
	Bias   []T
	ReLU   bool
	Mask   []T
	LdMask int
	ColSum []T
}

type job[T Float] struct {
	ep            *Epilogue[T]
	tA, tB        bool
	m, n, k       int
	alpha, beta   T
	a, b, c       []T
	lda, ldb, ldc int
}

type task struct {
	w, lo, hi int
	byCols    bool             // lo, hi are columns of C, not rows
	direct    bool             // rows of a direct product
	fn        func(lo, hi int) // nil: a part of the current product
}

type scratch[T Float] struct{ a, b, tile []T }

// Pool multiplies matrices on up to Workers goroutines (the caller and
// Workers−1 helpers). It is not safe for concurrent use; Close ends the
// helpers.
type Pool[T Float] struct {
	workers int
	mr, nr  int // rows and columns of a micro-tile
	// dk is the micro-kernel of both paths (see direct.go): on packed
	// panels, or on A and B in place; dks[r] the kernel of r-row tiles
	// (mr, and 4, 2, 1 for the rows left over).
	dk     directKernel[T]
	dks    [9]directKernel[T]
	dot    [2]asmDot[T]                          // dot kernels of 8 rows and 1 (nil: none)
	adam   func(p, g, g2, m, v []T, k *[8]T) int // the vectorized part of Adam, or nil
	bufs   []scratch[T]
	tasks  chan task
	wg     sync.WaitGroup
	cur    job[T]
	closed bool
}

// NewPool returns a pool of workers ≥ 1 goroutines.
func NewPool[T Float](workers int) *Pool[T] {
	return newPool[T](workers, kernelName)
}

func newPool[T Float](workers int, kernel string) *Pool[T] {
	p := &Pool[T]{workers: max(1, workers), mr: mr}
	var z T
	_, f64 := any(z).(float64)
	switch {
	case kernel == "avx512" && f64:
		p.nr = 16
		p.setKernels(any(zmmDirect64).([9]asmKernel[T]))
		p.dot = any(zmmDot64).([2]asmDot[T])
		p.adam = any(asm512Adam64).(func([]T, []T, []T, []T, []T, *[8]T) int)
	case kernel == "avx512":
		p.nr = 32
		p.setKernels(any(zmmDirect32).([9]asmKernel[T]))
		p.dot = any(zmmDot32).([2]asmDot[T])
		p.adam = any(asm512Adam32).(func([]T, []T, []T, []T, []T, *[8]T) int)
	case kernel == "avx2-fma" && f64:
		p.nr = 8
		p.setKernels(any(ymmDirect64).([9]asmKernel[T]))
		p.dot = any(ymmDot64).([2]asmDot[T])
		p.adam = any(asmAdam64).(func([]T, []T, []T, []T, []T, *[8]T) int)
	case kernel == "avx2-fma":
		p.nr = 16
		p.setKernels(any(ymmDirect32).([9]asmKernel[T]))
		p.dot = any(ymmDot32).([2]asmDot[T])
		p.adam = any(asmAdam32).(func([]T, []T, []T, []T, []T, *[8]T) int)
	default:
		p.nr = 8
		if !f64 {
			p.nr = 16
		}
		nr := p.nr
		for _, rows := range []int{mr, 2, 1} {
			p.dks[rows] = func(k, tiles int, a []T, rs, qs int, b []T, ldb int, c []T, ldc, flags int, bias, mask []T, ldm int, colsum []T) {
				goDirect(k, tiles, a, rs, qs, b, ldb, c, ldc, flags, bias, mask, ldm, colsum, rows, nr)
			}
		}
		p.mr, p.dk = mr, p.dks[mr]
	}
	p.bufs = make([]scratch[T], p.workers)
	if p.workers > 1 {
		p.tasks = make(chan task, p.workers)
		for i := 1; i < p.workers; i++ {
			go p.helper()
		}
	}
	return p
}

// setKernels installs an instruction set's kernels; the largest tile is mr.
func (p *Pool[T]) setKernels(ks [9]asmKernel[T]) {
	for rows, f := range ks {
		if f != nil {
			p.dks[rows], p.mr = adapt(f), rows
		}
	}
	p.dk = p.dks[p.mr]
}

func (p *Pool[T]) helper() {
	for t := range p.tasks {
		switch {
		case t.fn != nil:
			t.fn(t.lo, t.hi)
		case t.direct:
			p.directRows(t.w, t.lo, t.hi)
		case t.byCols:
			p.part(t.w, 0, p.cur.m, t.lo, t.hi, true)
		default:
			p.part(t.w, t.lo, t.hi, 0, p.cur.n, false)
		}
		p.wg.Done()
	}
}

// Split runs f on [0, n) cut into up to Workers contiguous parts, in
// parallel when n ≥ minPer·2; it returns when every part is done. f must be
// safe to run on disjoint ranges at once. A method value stored once does not
// allocate.
func (p *Pool[T]) Split(n, minPer int, f func(lo, hi int)) {
	parts := min(p.workers, max(1, n/max(1, minPer)))
	if parts <= 1 {
		f(0, n)
		return
	}
	per := (n + parts - 1) / parts
	p.wg.Add(parts - 1)
	for w := 1; w < parts; w++ {
		p.tasks <- task{w: w, lo: min(w*per, n), hi: min((w+1)*per, n), fn: f}
	}
	f(0, min(per, n))
	p.wg.Wait()
}

// Workers is the number of goroutines a product may use.
func (p *Pool[T]) Workers() int { return p.workers }

// Close stops the helper goroutines.
func (p *Pool[T]) Close() {
	if !p.closed && p.tasks != nil {
		close(p.tasks)
	}
	p.closed = true
}

// Gemm computes C = alpha·op(A)·op(B) + beta·C, where op(A) is m×k (A is
// m×k, or k×m when tA), op(B) is k×n (B is k×n, or n×k when tB), C is m×n;
// all row-major with leading dimensions lda, ldb, ldc.
func (p *Pool[T]) Gemm(tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	p.GemmEpilogue(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
}

// GemmEpilogue is Gemm followed by the epilogue ep (nil: none).
func (p *Pool[T]) GemmEpilogue(tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, ep *Epilogue[T]) {
	checkArgs(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if ep != nil {
		if ep.Bias != nil && len(ep.Bias) < n {
			panic(fmt.Sprintf("gemm: epilogue bias has %d values for %d columns", len(ep.Bias), n))
		}
		if ep.Mask != nil && (ep.LdMask < n || len(ep.Mask) < (m-1)*ep.LdMask+n) {
			panic(fmt.Sprintf("gemm: epilogue mask is short for %d×%d with ld %d", m, n, ep.LdMask))
		}
		if ep.ColSum != nil && len(ep.ColSum) < n {
			panic(fmt.Sprintf("gemm: epilogue column sums have %d values for %d columns", len(ep.ColSum), n))
		}
	}
	if m == 0 || n == 0 {
		return
	}
	p.cur = job[T]{ep, tA, tB, m, n, k, alpha, beta, a, b, c, lda, ldb, ldc}
	switch {
	case p.useDot():
		p.dotColumn()
		return
	case p.useDirect():
		p.direct()
		return
	case m*n*k < smallFMAs:
		p.small()
		p.colSums()
		return
	}
	// Split the larger of C's dimensions over the workers, in whole
	// micro-tiles; each part packs only the B columns (or A rows) it needs.
	parts, unit, size := 1, p.mr, m
	if n > m {
		unit, size = p.nr, n
	}
	if p.workers > 1 && m*n*k >= parallelFMAsVar {
		parts = min(p.workers, (size+unit-1)/unit)
	}
	per := ((size+parts-1)/parts + unit - 1) / unit * unit
	p.wg.Add(parts - 1)
	for w := 1; w < parts; w++ {
		p.tasks <- task{w: w, lo: min(w*per, size), hi: min((w+1)*per, size), byCols: n > m}
	}
	// Column sums are summed in the kernels' epilogue (in row order, as
	// colSums would) unless workers split the rows.
	fused := parts == 1 || n > m
	if n > m {
		p.part(0, 0, m, 0, min(per, n), fused)
	} else {
		p.part(0, 0, min(per, m), 0, n, fused)
	}
	p.wg.Wait()
	if !fused {
		p.colSums()
	}
}

// epArgs is the current epilogue as kernel flags and operands, the column
// sums only when colSum (workers splitting the rows would race on them).
func (j *job[T]) epArgs(colSum bool) (flags int, bias, mask []T, ldm int, colsum []T) {
	ep := j.ep
	if ep == nil {
		return
	}
	if ep.Bias != nil {
		flags, bias = flags|dirBias, ep.Bias
	}
	if ep.ReLU {
		flags |= dirReLU
	}
	if ep.Mask != nil {
		flags, mask, ldm = flags|dirMask, ep.Mask, ep.LdMask
	}
	if ep.ColSum != nil && colSum {
		flags, colsum = flags|dirColSum, ep.ColSum
	}
	return
}

// colSums adds the column sums of C to the epilogue's ColSum, after the
// workers are done (they split C's rows and would race on the sums).
func (p *Pool[T]) colSums() { p.colSumsOf(0, p.cur.m, 0, p.cur.n) }

// colSumsOf adds the column sums of C[lo:hi, clo:chi] to the epilogue's ColSum.
func (p *Pool[T]) colSumsOf(lo, hi, clo, chi int) {
	j := &p.cur
	if j.ep == nil || j.ep.ColSum == nil {
		return
	}
	cs := j.ep.ColSum[clo:chi]
	for i := lo; i < hi; i++ {
		for x, v := range j.c[i*j.ldc+clo : i*j.ldc+chi] {
			cs[x] += v
		}
	}
}

func checkArgs(tA, tB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative size %d×%d×%d", m, n, k))
	}
	ar, ac := m, k
	if tA {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB {
		br, bc = n, k
	}
	need := func(name string, rows, cols, ld, l int) {
		if rows == 0 || cols == 0 {
			return
		}
		if ld < cols || l < (rows-1)*ld+cols {
			panic(fmt.Sprintf("gemm: %s is %d×%d with ld %d but has %d elements", name, rows, cols, ld, l))
		}
	}
	need("A", ar, ac, lda, la)
	need("B", br, bc, ldb, lb)
	need("C", m, n, ldc, lc)
}

func grow[T Float](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// part computes C[lo:hi, clo:chi] with scratch w; lo is a multiple of mr, clo
// of nr. The first block of the depth stores (β = 0) or adds to C; the last
// applies the epilogue in the kernel, with the column sums when colSum.
func (p *Pool[T]) part(w, lo, hi, clo, chi int, colSum bool) {
	j := &p.cur
	if lo >= hi || clo >= chi {
		return
	}
	s := &p.bufs[w]
	mr, nr := p.mr, p.nr
	n, k := chi-clo, j.k
	if j.beta != 0 && j.beta != 1 {
		for i := lo; i < hi; i++ {
			row := j.c[i*j.ldc+clo : i*j.ldc+chi]
			for x := range row {
				row[x] *= j.beta
			}
		}
	}
	if k == 0 || j.alpha == 0 {
		if j.beta == 0 {
			for i := lo; i < hi; i++ {
				clear(j.c[i*j.ldc+clo : i*j.ldc+chi])
			}
		}
		p.epilogue(lo, hi-lo, clo, n)
		if colSum {
			p.colSumsOf(lo, hi, clo, chi)
		}
		return
	}
	epFlags, bias, mask, ldm, colsum := j.epArgs(colSum)
	npan := (n + nr - 1) / nr
	s.b = grow(s.b, min(kc, k)*npan*nr)
	bm := mc / mr * mr // rows of a packed A block: whole tiles
	s.a = grow(s.a, min(kc, k)*max(mr, min(bm, (hi-lo+mr-1)/mr*mr)))
	s.tile = grow(s.tile, mr*nr)
	inPlace := !j.tA && j.alpha == 1 // A's rows can be read where they are
	for pc := 0; pc < k; pc += kc {
		kb := min(kc, k-pc)
		last := pc+kb == k
		flags := dirAcc
		if pc == 0 && j.beta == 0 {
			flags = 0
		}
		tileFlags := flags
		if last {
			flags |= epFlags
		}
		p.packB(s.b, pc, kb, clo, chi)
		for ic := lo; ic < hi; ic += bm {
			ib := min(bm, hi-ic)
			full := ib / mr * mr
			switch {
			case !inPlace:
				p.packA(s.a, ic, ib, pc, kb)
			case full < ib:
				// Only the last, partial panel is packed, into panel 0.
				p.packA(s.a, ic+full, ib-full, pc, kb)
			}
			for jp := 0; jp < npan; jp++ {
				c0 := clo + jp*nr
				cols := min(nr, chi-c0)
				bp := s.b[jp*kb*nr : (jp+1)*kb*nr]
				for ip := 0; ip*mr < ib; ip++ {
					i0 := ic + ip*mr
					rows := min(mr, ib-ip*mr)
					var ap []T
					rs, qs := 1, mr
					switch {
					case !inPlace:
						ap = s.a[ip*kb*mr:]
					case rows == mr:
						ap, rs, qs = j.a[i0*j.lda+pc:], j.lda, 1
						if cols == nr {
							// Every full panel of the block at once.
							p.dk(kb, full/mr, ap, rs, qs, bp, nr, j.c[i0*j.ldc+c0:], j.ldc, flags, from(bias, c0), from(mask, i0*ldm+c0), ldm, from(colsum, c0))
							ip = full/mr - 1
							continue
						}
					default:
						ap = s.a
					}
					if rows == mr && cols == nr {
						p.dk(kb, 1, ap, rs, qs, bp, nr, j.c[i0*j.ldc+c0:], j.ldc, flags, from(bias, c0), from(mask, i0*ldm+c0), ldm, from(colsum, c0))
						continue
					}
					p.dk(kb, 1, ap, rs, qs, bp, nr, s.tile, nr, 0, nil, nil, 0, nil)
					p.tileEdge(w, i0, rows, c0, cols, tileFlags&dirAcc != 0, last, colSum)
				}
			}
		}
	}
}

// tileEdge finishes a partial tile computed into worker w's tile buffer
// (mr×nr): C rows i0… and columns c0… get the tile (added when acc) and,
// when last, the epilogue, in the kernels' order of operations, with the
// column sums when colSum.
func (p *Pool[T]) tileEdge(w, i0, rows, c0, cols int, acc, last, colSum bool) {
	j := &p.cur
	t := p.bufs[w].tile
	ep := j.ep
	if !last {
		ep = nil
	}
	for r := 0; r < rows; r++ {
		crow := j.c[(i0+r)*j.ldc+c0 : (i0+r)*j.ldc+c0+cols]
		trow := t[r*p.nr : r*p.nr+cols]
		for x := range crow {
			v := trow[x]
			if acc {
				v += crow[x]
			}
			if ep != nil {
				if ep.Bias != nil {
					v += ep.Bias[c0+x]
				}
				if ep.ReLU {
					v = max(v, 0)
				}
				if ep.Mask != nil && ep.Mask[(i0+r)*ep.LdMask+c0+x] == 0 {
					v = 0
				}
				if ep.ColSum != nil && colSum {
					ep.ColSum[c0+x] += v
				}
			}
			crow[x] = v
		}
	}
}

// packB packs op(B)[pc:pc+kb, clo:chi] into panels of nr columns, k-major,
// zero-padding the last panel.
func (p *Pool[T]) packB(dst []T, pc, kb, clo, chi int) {
	j := &p.cur
	nr := p.nr
	n := chi - clo
	for jp := 0; jp*nr < n; jp++ {
		panel := dst[jp*kb*nr : (jp+1)*kb*nr]
		j0 := clo + jp*nr
		cols := min(nr, chi-j0)
		if !j.tB {
			if cols == nr {
				for q := 0; q < kb; q++ {
					copy(panel[q*nr:q*nr+nr], j.b[(pc+q)*j.ldb+j0:(pc+q)*j.ldb+j0+nr])
				}
				continue
			}
			for q := 0; q < kb; q++ {
				src := j.b[(pc+q)*j.ldb+j0 : (pc+q)*j.ldb+j0+cols]
				d := panel[q*nr : q*nr+nr]
				copy(d, src)
				clear(d[cols:])
			}
			continue
		}
		c := 0
		for ; c+4 <= cols; c += 4 {
			// Four rows of B at a time: four adjacent values per step of q.
			s0 := j.b[(j0+c)*j.ldb+pc : (j0+c)*j.ldb+pc+kb]
			s1 := j.b[(j0+c+1)*j.ldb+pc : (j0+c+1)*j.ldb+pc+kb]
			s2 := j.b[(j0+c+2)*j.ldb+pc : (j0+c+2)*j.ldb+pc+kb]
			s3 := j.b[(j0+c+3)*j.ldb+pc : (j0+c+3)*j.ldb+pc+kb]
			for q, v := range s0 {
				d := panel[q*nr+c : q*nr+c+4]
				d[0], d[1], d[2], d[3] = v, s1[q], s2[q], s3[q]
			}
		}
		for ; c < cols; c++ {
			src := j.b[(j0+c)*j.ldb+pc : (j0+c)*j.ldb+pc+kb]
			for q, v := range src {
				panel[q*nr+c] = v
			}
		}
		for c := cols; c < nr; c++ {
			for q := 0; q < kb; q++ {
				panel[q*nr+c] = 0
			}
		}
	}
}

// packA packs alpha·op(A)[ic:ic+ib, pc:pc+kb] into panels of mr rows,
// k-major, zero-padding the last panel.
func (p *Pool[T]) packA(dst []T, ic, ib, pc, kb int) {
	j := &p.cur
	mr := p.mr
	al := j.alpha
	for ip := 0; ip*mr < ib; ip++ {
		panel := dst[ip*kb*mr : (ip+1)*kb*mr]
		i0 := ic + ip*mr
		rows := min(mr, ib-ip*mr)
		if j.tA {
			if rows == mr && al == 1 {
				for q := 0; q < kb; q++ {
					copy(panel[q*mr:q*mr+mr], j.a[(pc+q)*j.lda+i0:(pc+q)*j.lda+i0+mr])
				}
				continue
			}
			for q := 0; q < kb; q++ {
				src := j.a[(pc+q)*j.lda+i0 : (pc+q)*j.lda+i0+rows]
				d := panel[q*mr : q*mr+mr]
				for r, v := range src {
					d[r] = al * v
				}
				clear(d[rows:])
			}
			continue
		}
		for r := 0; r < rows; r++ {
			src := j.a[(i0+r)*j.lda+pc : (i0+r)*j.lda+pc+kb]
			for q, v := range src {
				panel[q*mr+r] = al * v
			}
		}
		for r := rows; r < mr; r++ {
			for q := 0; q < kb; q++ {
				panel[q*mr+r] = 0
			}
		}
	}
}

// small handles products too small or too thin to pack (the output layer's
// n = 1, its weight gradient's m = 1, the input layer's gradient's n = d), with
// the loop order that keeps the inner loop contiguous.
func (p *Pool[T]) small() {
	j := &p.cur
	m, n, k := j.m, j.n, j.k
	a, b, c := j.a, j.b, j.c
	lda, ldb, ldc := j.lda, j.ldb, j.ldc
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		switch j.beta {
		case 0:
			clear(crow)
		case 1:
		default:
			for x := range crow {
				crow[x] *= j.beta
			}
		}
	}
	if k == 0 || j.alpha == 0 {
		p.epilogue(0, m, 0, n)
		return
	}
	switch {
	case !j.tA && j.tB: // dot products of contiguous rows
		for i := 0; i < m; i++ {
			arow := a[i*lda : i*lda+k]
			crow := c[i*ldc : i*ldc+n]
			for x := range crow {
				brow := b[x*ldb : x*ldb+k]
				var s T
				for q, av := range arow {
					s += av * brow[q]
				}
				crow[x] += j.alpha * s
			}
		}
	case !j.tA && n == 1: // C is a column: dot products with B's column
		for i := 0; i < m; i++ {
			arow := a[i*lda : i*lda+k]
			var s0, s1, s2, s3 T // four chains: the adds overlap
			q := 0
			for ; q+4 <= k; q += 4 {
				s0 += arow[q] * b[q*ldb]
				s1 += arow[q+1] * b[(q+1)*ldb]
				s2 += arow[q+2] * b[(q+2)*ldb]
				s3 += arow[q+3] * b[(q+3)*ldb]
			}
			for ; q < k; q++ {
				s0 += arow[q] * b[q*ldb]
			}
			c[i*ldc] += j.alpha * ((s0 + s1) + (s2 + s3))
		}
	case !j.tA: // rows of C are combinations of rows of B
		for i := 0; i < m; i++ {
			crow := c[i*ldc : i*ldc+n]
			for q, av := range a[i*lda : i*lda+k] {
				av *= j.alpha
				axpy(av, b[q*ldb:q*ldb+n], crow)
			}
		}
	case n == 1: // C is a column: accumulate a row of op(A)ᵀ at a time
		for q := 0; q < k; q++ {
			var bv T
			if j.tB {
				bv = b[q]
			} else {
				bv = b[q*ldb]
			}
			bv *= j.alpha
			arow := a[q*lda : q*lda+m]
			for i, av := range arow {
				c[i*ldc] += av * bv
			}
		}
	default:
		for q := 0; q < k; q++ {
			arow := a[q*lda : q*lda+m]
			for i, av := range arow {
				av *= j.alpha
				crow := c[i*ldc : i*ldc+n]
				if !j.tB {
					axpy(av, b[q*ldb:q*ldb+n], crow)
					continue
				}
				for x := range crow {
					crow[x] += av * b[x*ldb+q]
				}
			}
		}
	}
	p.epilogue(0, m, 0, n)
}

// epilogue applies the current epilogue to C[r0:r0+rows, c0:c0+cols].
func (p *Pool[T]) epilogue(r0, rows, c0, cols int) {
	j := &p.cur
	ep := j.ep
	if ep == nil {
		return
	}
	for r := r0; r < r0+rows; r++ {
		crow := j.c[r*j.ldc+c0 : r*j.ldc+c0+cols]
		if ep.Bias != nil {
			bias := ep.Bias[c0 : c0+cols]
			if ep.ReLU {
				biasReLURow(crow, bias)
			} else {
				for x, bv := range bias {
					crow[x] += bv
				}
			}
		} else if ep.ReLU {
			for x, v := range crow {
				crow[x] = max(v, 0)
			}
		}
		if ep.Mask != nil {
			maskRow(crow, ep.Mask[r*ep.LdMask+c0:r*ep.LdMask+c0+cols])
		}
	}
}

// biasReLURow sets c = max(c + bias, 0) (Go's max: a NaN stays NaN, −0
// becomes +0), which compiles to branch-free code and is faster than bit
// tricks or a branch on the random signs of pre-activations.
func biasReLURow[T Float](c, bias []T) {
	bias = bias[:len(c)]
	for i, v := range c {
		c[i] = max(v+bias[i], 0)
	}
}

// maskRow zeroes c where m is +0 (m is a ReLU output: +0, positive or NaN, so
// this is m == 0, as the direct kernels test it), without branches.
func maskRow[T Float](c, m []T) {
	switch c := any(c).(type) {
	case []float64:
		m := any(m).([]float64)
		m = m[:len(c)]
		for i, mv := range m {
			u := math.Float64bits(mv)
			keep := uint64(int64(u|-u) >> 63) // all ones where mv ≠ +0
			c[i] = math.Float64frombits(math.Float64bits(c[i]) & keep)
		}
	case []float32:
		m := any(m).([]float32)
		m = m[:len(c)]
		for i, mv := range m {
			u := math.Float32bits(mv)
			keep := uint32(int32(u|-u) >> 31)
			c[i] = math.Float32frombits(math.Float32bits(c[i]) & keep)
		}
	}
}

// parallelFMAsVar is parallelFMAs, a variable so benchmarks can force splits.
var parallelFMAsVar = parallelFMAs

// axpy adds alpha·x to y (len(y) ≥ len(x)).
func axpy[T Float](alpha T, x, y []T) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}
