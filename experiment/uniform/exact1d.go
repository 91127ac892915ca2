package uniform

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/backend/gemm"
)

// maxPieceCells bounds the memory of the 1-D walk: points × widest layer,
// counted before anything of that size is allocated (the walk holds about
// three arrays of it at once: 3 × 128 MiB).
const maxPieceCells = 1 << 24

// MaxPieceBytes is the most memory the 1-D walk takes (the memory
// estimate counts it).
const MaxPieceBytes = 3 * 8 * maxPieceCells

// ErrTooManyPieces says a one-input network has more linear pieces than the
// exact walk holds; Sup then brackets the sup instead.
var ErrTooManyPieces = errors.New("too many linear pieces to walk exactly")

// pieces is a continuous piecewise-linear function on [−0.5, 0.5]: affine
// between consecutive X, with value Y at each.
type pieces struct{ X, Y []float64 }

// linearPieces finds every breakpoint of a one-input network on [−0.5, 0.5]:
// it walks the layers keeping points X between which every unit seen so far
// is affine, evaluates the next layer's pre-activations at X with one
// product, and adds each unit's zero crossings, found (and evaluated) by
// linear interpolation, which is exact on an affine piece. The output is
// then affine between consecutive points.
func linearPieces(net *backend.Net, pool *gemm.Pool[float64]) (pieces, error) {
	if net.Sizes[0] != 1 {
		panic(fmt.Sprintf("uniform: linearPieces needs one input, the network has %d", net.Sizes[0]))
	}
	xs := []float64{-0.5, 0.5}
	a := []float64{-0.5 * net.InputScale, 0.5 * net.InputScale} // the layer's input at xs, n×in
	L := net.Layers()
	for l := 0; l < L; l++ {
		in, out := net.Sizes[l], net.Sizes[l+1]
		n := len(xs)
		if n*max(in, out) > maxPieceCells {
			return pieces{}, fmt.Errorf("uniform: %d linear pieces × width %d: %w", n, max(in, out), ErrTooManyPieces)
		}
		z := make([]float64, n*out)
		for i := 0; i < n; i++ {
			copy(z[i*out:(i+1)*out], net.B[l])
		}
		pool.Gemm(false, true, n, out, in, 1, a, in, net.W[l], in, 1, z, out)
		if l == L-1 {
			return pieces{X: xs, Y: z}, nil
		}
		// Zero crossings of each unit on each piece, as fractions t ∈ (0, 1).
		type cross struct {
			k int // the piece [xs[k], xs[k+1]]
			t float64
		}
		// Counted first: the pieces of the next layer must fit before they
		// are made.
		nc := 0
		for k := 0; k+1 < n; k++ {
			z0, z1 := z[k*out:(k+1)*out], z[(k+1)*out:(k+2)*out]
			for j := range z0 {
				if (z0[j] < 0 && z1[j] > 0) || (z0[j] > 0 && z1[j] < 0) {
					nc++
				}
			}
		}
		if (n+nc)*max(out, net.Sizes[l+2]) > maxPieceCells {
			return pieces{}, fmt.Errorf("uniform: %d linear pieces after layer %d × width %d: %w", n+nc, l+1, out, ErrTooManyPieces)
		}
		cs := make([]cross, 0, nc)
		for k := 0; k+1 < n; k++ {
			z0, z1 := z[k*out:(k+1)*out], z[(k+1)*out:(k+2)*out]
			for j := range z0 {
				if (z0[j] < 0 && z1[j] > 0) || (z0[j] > 0 && z1[j] < 0) {
					cs = append(cs, cross{k, z0[j] / (z0[j] - z1[j])})
				}
			}
		}
		sort.Slice(cs, func(i, j int) bool {
			if cs[i].k != cs[j].k {
				return cs[i].k < cs[j].k
			}
			return cs[i].t < cs[j].t
		})
		nx := make([]float64, 0, n+len(cs))
		nz := make([]float64, 0, (n+len(cs))*out)
		c := 0
		for k := 0; k < n; k++ {
			nx = append(nx, xs[k])
			nz = append(nz, z[k*out:(k+1)*out]...)
			for ; c < len(cs) && cs[c].k == k; c++ {
				t := cs[c].t
				x := xs[k] + t*(xs[k+1]-xs[k])
				if x <= nx[len(nx)-1] || x >= xs[k+1] {
					continue // the same point as its neighbour in floating point
				}
				nx = append(nx, x)
				z0, z1 := z[k*out:(k+1)*out], z[(k+1)*out:(k+2)*out]
				for j := range z0 {
					nz = append(nz, z0[j]+t*(z1[j]-z0[j]))
				}
			}
		}
		for i, v := range nz {
			nz[i] = max(v, 0) // the ReLU; a crossing's own unit is ≈ 0 either way
		}
		xs, a = nx, nz
	}
	panic("unreachable")
}

// at evaluates p at the sorted points xs (a merge walk).
func (p pieces) at(xs []float64) []float64 {
	out := make([]float64, len(xs))
	k := 0
	for i, x := range xs {
		for k+2 < len(p.X) && p.X[k+1] <= x {
			k++
		}
		x0, x1 := p.X[k], p.X[k+1]
		t := 0.0
		if x1 > x0 {
			t = (x - x0) / (x1 - x0)
		}
		out[i] = p.Y[k] + t*(p.Y[k+1]-p.Y[k])
	}
	return out
}

// mergeSorted is the sorted union of two sorted lists, without repeats.
func mergeSorted(a, b []float64) []float64 {
	out := make([]float64, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var v float64
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			v = a[i]
			i++
		case i == len(a) || b[j] < a[i]:
			v = b[j]
			j++
		default:
			v = a[i]
			i++
			j++
		}
		if len(out) == 0 || v > out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}

// Exact1D is the exact sup over [−0.5, 0.5] of |student − teacher| for
// one-input networks, up to floating point: both are piecewise linear, so
// the sup is attained at a breakpoint of one of them or an end.
func Exact1D(student, teacher *backend.Net, threads int) (Bracket, error) {
	pool := gemm.NewPool[float64](max(1, threads))
	defer pool.Close()
	ps, err := linearPieces(student, pool)
	if err != nil {
		return Bracket{}, err
	}
	pt, err := linearPieces(teacher, pool)
	if err != nil {
		return Bracket{}, err
	}
	xs := mergeSorted(ps.X, pt.X)
	ys, yt := ps.at(xs), pt.at(xs)
	best, arg := -1.0, 0.0
	for i, x := range xs {
		if e := math.Abs(ys[i] - yt[i]); e > best || math.IsNaN(e) {
			best, arg = e, x
			if math.IsNaN(e) {
				break
			}
		}
	}
	return Bracket{Lower: best, Upper: best, At: []float64{arg}, Method: MethodExact, Closed: true, Pieces: len(xs) - 1}, nil
}
