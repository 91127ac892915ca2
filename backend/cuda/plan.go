package cuda

import (
	"fmt"

	"github.com/reluscope/reluscope/backend"
)

// The four products of a layer, row-major as the native engine holds its
// matrices (activations n×in, weights out×in), in cuBLAS's column-major
// terms: a row-major r×c matrix is a column-major c×r one with ld = c.

// forwardGemm is Z = A·Wᵀ (n×out) for A n×in and W out×in:
// column-major Zᵀ = W'ᵀ·Aᵀ where W' (in×out) is W's memory.
func forwardGemm(n, in, out int, a, w, z ptr) gemmCall {
	return gemmCall{transA: true, m: out, n: n, k: in, a: w, lda: in, b: a, ldb: in, c: z, ldc: out}
}

// weightGradGemm is gW = dZᵀ·A (out×in) for dZ n×out and A n×in:
// column-major gWᵀ (in×out) = Aᵀ (in×n) · dZ (n×out).
func weightGradGemm(n, in, out int, a, dz, gw ptr) gemmCall {
	return gemmCall{transB: true, m: in, n: out, k: n, a: a, lda: in, b: dz, ldb: out, c: gw, ldc: in}
}

// inputGradGemm is dA = dZ·W (n×in): column-major dAᵀ (in×n) = Wᵀ (in×out)
// · dZᵀ (out×n).
func inputGradGemm(n, in, out int, dz, w, da ptr) gemmCall {
	return gemmCall{m: in, n: n, k: out, a: w, lda: in, b: dz, ldb: out, c: da, ldc: in}
}

// layout is where a model's arrays live in its one device allocation, in
// elements of its dtype from the start (the loss and error records, in
// doubles, and the epoch order, in int32, come after, 8-byte aligned).
type layout struct {
	sizes  []int
	elem   int // bytes per element: 8 or 4
	maxN   int // rows of the largest batch the buffers hold
	maxW   int // widest layer
	params int
	// Offsets in elements.
	p, g, m, v int       // flat parameters, gradient, Adam moments: W0 b0 W1 b1 …
	w, b       []int     // layer l's weights and biases within a flat array
	act        []int     // act[l]: layer l's input (act[0] the scaled batch) n×sizes[l]
	d1, d2     int       // backward ping-pong buffers, n×maxW
	ones       int       // n ones (bias gradients as products with it)
	yb         int       // the batch's targets
	gpart      int       // step_multi's partial gradients, multiBlocks(maxN)×params (when multiOK)
	rule       *stepRule // the path table's rule for this width when planned (nil: cuBLAS only)
	multiRows  int       // step_multi's rows a block (the rule's)
	multiOK    bool      // the rule sends steps to the multi-block step: gpart and lpart are there
	elems      int       // elements of T in all
	// Byte offsets of the double and int32 arrays after the elements.
	loss  int64 // 2 doubles: the last Step's Σr², the steps' Σr² since TakeLoss
	rec   int64 // evalBlocks×4 doubles: err_stats records
	sz    int64 // len(sizes) int64s: the sizes, for step_small
	tab   int64 // maxFusedSteps×3 doubles: step_small's rates and Adam corrections
	lpart int64 // multiBlocks(maxN) doubles: step_multi's partial losses
	bytes int64
}

// planLayout lays out the buffers of a network with these sizes for batches
// of at most maxN rows.
func planLayout(sizes []int, dt backend.DType, maxN int) layout {
	l := layout{sizes: append([]int(nil), sizes...), elem: 8, maxN: maxN}
	if dt == backend.Float32 {
		l.elem = 4
	}
	off := 0
	for i := 0; i+1 < len(sizes); i++ {
		l.w = append(l.w, off)
		off += sizes[i] * sizes[i+1]
		l.b = append(l.b, off)
		off += sizes[i+1]
	}
	l.params = off
	for _, s := range sizes {
		l.maxW = max(l.maxW, s)
	}
	next := 0
	take := func(n int) int { o := next; next += (n + 1) &^ 1; return o } // even: 8-byte aligned for float32 too
	l.p, l.g, l.m, l.v = take(off), take(off), take(off), take(off)
	for _, s := range sizes {
		l.act = append(l.act, take(maxN*s))
	}
	l.d1, l.d2 = take(maxN*l.maxW), take(maxN*l.maxW)
	l.ones, l.yb = take(maxN), take(maxN)
	if r := paths.rule(l.maxW); r != nil {
		c := *r
		l.rule = &c
	}
	if l.multiOK, l.multiRows = l.rule.multi(); l.multiOK {
		l.gpart = take(l.multiBlocks(maxN) * off)
	}
	l.elems = next
	b := int64(next) * int64(l.elem)
	l.loss = b
	b += 2 * 8
	l.rec = b
	b += evalBlocks * 4 * 8
	l.sz = b
	b += int64(len(sizes)) * 8
	l.tab = b
	b += maxFusedSteps * 3 * 8
	l.lpart = b
	if l.multiOK {
		b += int64(l.multiBlocks(maxN)) * 8
	}
	l.bytes = b
	return l
}

// Which path a step takes — the fused step (kernel step_small: a whole
// step in one block, on one multiprocessor), the multi-block step
// (step_multi, then reduce_adam: blocks of a few dozen rows each take their
// rows' gradient, a second kernel sums them in a fixed order and applies
// Adam — two launches) or the cuBLAS path (~25 launches a step) — is the
// path table's choice (paths.go).

// defaultMultiRows is step_multi's rows a block where the path table does
// not say.
const defaultMultiRows = 128

// multiBlocks is step_multi's blocks for a batch of n rows.
func (l *layout) multiBlocks(n int) int { return (n + l.multiRows - 1) / l.multiRows }

// path is the path a step of n rows takes (by the rule the layout was
// planned with, which its buffers are sized for).
func (l *layout) path(n int) stepPath { return l.rule.step(l.params, n) }

// fusedThreads is the block size of step_small and step_multi.
const fusedThreads = 256

// evalRows is how many points Compare takes through a network at once: as
// many as 64 MiB of its activations hold, at most 2¹⁷ (in float64, a
// width-32 network of depth 5 takes 64527 rows, width 2048: 1023).
func (l *layout) evalRows() int {
	sum := 0
	for _, s := range l.sizes {
		sum += s
	}
	return max(1, min(1<<17, evalBytes/(l.elem*sum)))
}

// dataBytes is the device memory a training set of m rows of d inputs
// takes: inputs and targets in T, the epoch order in int32.
func dataBytes(m, d int, dt backend.DType) int64 {
	elem := int64(8)
	if dt == backend.Float32 {
		elem = 4
	}
	return int64(m)*int64(d+1)*elem + int64(m)*4
}

// checkFits refuses an allocation of need bytes when free bytes are left,
// keeping a margin for cuBLAS's workspace and the driver.
func checkFits(what string, need, free int64) error {
	if need+deviceMargin > free {
		return fmt.Errorf("cuda: %s needs %.1f MiB of device memory and %d MiB kept for cuBLAS and the driver; %.1f MiB is free",
			what, float64(need)/(1<<20), deviceMargin>>20, float64(free)/(1<<20))
	}
	return nil
}

// maxFusedSteps is the most steps one launch of step_small takes.
const maxFusedSteps = 256

// evalBytes bounds the activations of one piece of Compare's cuBLAS path
// (a variable: tests take it smaller).
var evalBytes = 64 << 20

// deviceMargin is the device memory a model leaves free.
const deviceMargin = 256 << 20
