package uniform

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/reluscope/reluscope/backend"
)

// Class is the target class H(d, N1, …, N_{L−1}, 1) with every weight and
// bias in [−C, C]: Sizes are (d, N1, …, N_{L−1}, 1).
type Class struct {
	Sizes []int   `json:"sizes"`
	C     float64 `json:"c"`
}

// Fool is a network of the class that vanishes on every training sample
// yet rises to Height at Center: no algorithm can tell it from the zero
// network (also in the class) by these samples, so on one of the two it
// errs by at least Height/2 in the uniform norm.
type Fool struct {
	Net    *backend.Net `json:"-"`
	Class  Class        `json:"class"`
	Center []float64    `json:"center"` // the peak
	// HalfSide is the half side r of the largest sample-free cube found
	// around Center; Radius the L1 radius of the bump's support inside it.
	HalfSide float64 `json:"half_side"`
	Radius   float64 `json:"support_l1_radius"`
	Height   float64 `json:"height"`  // sup norm, at Center
	L2       float64 `json:"l2"`      // RMS over the cube
	Samples  int     `json:"samples"` // m
	// Shape is c^L·ΠN_ℓ·m^(−1/d), the theorem's rate (constants illustrative).
	Shape float64 `json:"shape"`
}

// EmptyCube finds the largest open axis-aligned cube centred in [−½, ½]^d
// that holds no sample (x: m×d): exactly in one dimension (the widest gap,
// or an end), by search over random and refined centres otherwise.
func EmptyCube(x []float64, d int, seed uint64) (center []float64, r float64) {
	m := len(x) / d
	if d == 1 {
		xs := append([]float64(nil), x...)
		sort.Float64s(xs)
		best, c := 0.0, 0.0
		if m == 0 {
			return []float64{0}, 0.5
		}
		if g := xs[0] + 0.5; g > best {
			best, c = g, -0.5
		}
		if g := 0.5 - xs[m-1]; g > best {
			best, c = g, 0.5
		}
		for i := 0; i+1 < m; i++ {
			if g := (xs[i+1] - xs[i]) / 2; g > best {
				best, c = g, (xs[i+1]+xs[i])/2
			}
		}
		return []float64{c}, best
	}
	dist := func(z []float64) float64 {
		r := math.Inf(1)
		for i := 0; i < m; i++ {
			dm := 0.0
			for k := 0; k < d; k++ {
				dm = max(dm, math.Abs(x[i*d+k]-z[k]))
			}
			r = min(r, dm)
		}
		return r
	}
	rng := rand.New(rand.NewPCG(seed, 0xf001))
	best := make([]float64, d)
	br := dist(best)
	for t := 0; t < 4000; t++ {
		z := make([]float64, d)
		for k := range z {
			z[k] = rng.Float64() - 0.5
			if t%8 == 0 { // corners and faces are candidates too
				z[k] = math.Round(z[k]*2) / 2
			}
		}
		if r := dist(z); r > br {
			best, br = z, r
		}
	}
	// Refine: random moves shrinking in size.
	step := br
	for it := 0; it < 3000 && step > 1e-9; it++ {
		z := make([]float64, d)
		for k := range z {
			z[k] = min(0.5, max(-0.5, best[k]+step*(2*rng.Float64()-1)))
		}
		if r := dist(z); r > br {
			best, br = z, r
		} else if it%50 == 49 {
			step /= 2
		}
	}
	return best, br
}

// BuildFool builds the fooling network of the class for the samples x
// (m×d): in the largest sample-free cube (centre z, half side r) a pyramid
// relu(ρc²q − c²q·‖x − z‖₁)-shaped bump (layer 1: c·(x_k − z_k) and its
// negative, in q = ⌊N1/2d⌋ copies; layer 2: one unit summing them with
// weight −c and bias b ≤ c), its support ‖x − z‖₁ ≤ ρ inside the cube,
// then made steeper by every later layer (each unit sums all units of the
// layer before with weight c: ×c·N per layer). Every weight and bias is in
// [−c, c]. Depth 2 builds a hat in one dimension only.
func BuildFool(class Class, x []float64, seed uint64) (*Fool, error) {
	d := class.Sizes[0]
	z, r := EmptyCube(x, d, seed)
	return BuildFoolIn(class, z, r, len(x)/d)
}

// BuildFoolIn builds the fooling network of the class in the sample-free
// cube of centre z and half side r (from EmptyCube) of m samples; the
// classes of one sample set share the cube.
func BuildFoolIn(class Class, z []float64, r float64, m int) (*Fool, error) {
	sz := class.Sizes
	d, L, c := sz[0], len(sz)-1, class.C
	if c <= 0 {
		return nil, fmt.Errorf("fool: the coefficient bound c must be > 0, not %g", c)
	}
	if len(z) != d {
		return nil, fmt.Errorf("fool: the cube's centre has %d coordinates, the class %d", len(z), d)
	}
	z = append([]float64(nil), z...)
	r *= 1 - 1e-9 // strictly inside: the bump is exactly 0 on a sample at distance r
	f := &Fool{Class: class, Center: z, HalfSide: r, Samples: m}
	net := backend.NewNet(sz)
	switch {
	case L == 2 && d == 1:
		// Hat with three kinks a < z < b (a = z − ρ, b = z + ρ), the middle
		// one twice: c·(relu(c(x−a)) − 2·relu(c(x−z)) + relu(c(x−b))).
		if sz[1] < 4 {
			return nil, fmt.Errorf("fool: depth 2 needs width ≥ 4 for a hat, the class has %d", sz[1])
		}
		rho := r
		kinks := []float64{z[0] - rho, z[0], z[0], z[0] + rho}
		outW := []float64{c, -c, -c, c}
		for u, a := range kinks {
			if math.Abs(c*a) > c+1e-15 {
				return nil, fmt.Errorf("fool: kink at %g needs a bias beyond c", a)
			}
			net.W[0][u] = c
			net.B[0][u] = -c * a
			net.W[1][u] = outW[u]
		}
		f.Radius = rho
		f.Height = c * c * rho
	case L >= 3:
		if sz[1] < 2*d {
			return nil, fmt.Errorf("fool: the first layer needs ≥ 2d = %d units, the class has %d", 2*d, sz[1])
		}
		q := sz[1] / (2 * d)
		for cp := 0; cp < q; cp++ {
			for k := 0; k < d; k++ {
				for s, sign := range []float64{1, -1} {
					u := cp*2*d + 2*k + s
					net.W[0][u*d+k] = sign * c
					net.B[0][u] = -sign * c * z[k]
				}
			}
		}
		// Layer 2, every unit: relu(b − c·Σ u) = relu(b − c²q‖x − z‖₁),
		// support radius ρ = b/(c²q) ≤ r.
		b := min(c, c*c*float64(q)*r)
		for o := 0; o < sz[2]; o++ {
			for u := 0; u < 2*d*q; u++ {
				net.W[1][o*sz[1]+u] = -c
			}
			net.B[1][o] = b
		}
		f.Radius = b / (c * c * float64(q))
		height := b
		prevUnits := sz[2]
		for l := 2; l < L; l++ {
			in, out := sz[l], sz[l+1]
			for o := 0; o < out; o++ {
				for i := 0; i < prevUnits; i++ {
					net.W[l][o*in+i] = c
				}
			}
			height *= c * float64(prevUnits)
			prevUnits = out
		}
		f.Height = height
	default:
		return nil, fmt.Errorf("fool: depth 2 cannot build a bump of compact support in %d dimensions (one hidden layer)", d)
	}
	f.Net = net
	f.L2 = pyramidL2(f, d)
	logShape := float64(L)*math.Log(c) - math.Log(float64(max(m, 1)))/float64(d)
	for _, n := range sz[1:L] {
		logShape += math.Log(float64(n))
	}
	f.Shape = math.Exp(logShape)
	return f, nil
}

// pyramidL2 is the RMS over the cube of Height·relu(1 − ‖x − z‖₁/ρ): exact
// when the support lies inside the cube (∫ = H²·2^(d+1)ρ^d/(d(d+1)(d+2))),
// else by a midpoint rule over the support's box clipped to the cube.
func pyramidL2(f *Fool, d int) float64 {
	rho, z, H := f.Radius, f.Center, f.Height
	inside := true
	for _, v := range z {
		inside = inside && v-rho >= -0.5 && v+rho <= 0.5
	}
	if inside {
		return H * math.Sqrt(math.Pow(2, float64(d+1))*math.Pow(rho, float64(d))/float64(d*(d+1)*(d+2)))
	}
	lo, hi := make([]float64, d), make([]float64, d)
	vol := 1.0
	for k := range lo {
		lo[k], hi[k] = max(-0.5, z[k]-rho), min(0.5, z[k]+rho)
		vol *= hi[k] - lo[k]
	}
	bump := func(x []float64) float64 {
		l1 := 0.0
		for k := range x {
			l1 += math.Abs(x[k] - z[k])
		}
		return H * max(0, 1-l1/rho)
	}
	if d > 3 { // Monte Carlo over the clipped box, seeded
		rng := rand.New(rand.NewPCG(1, 2))
		x := make([]float64, d)
		sum := 0.0
		const n = 1 << 18
		for i := 0; i < n; i++ {
			for k := range x {
				x[k] = lo[k] + rng.Float64()*(hi[k]-lo[k])
			}
			v := bump(x)
			sum += v * v
		}
		return math.Sqrt(vol * sum / n)
	}
	n := []int{0, 1 << 16, 512, 64}[d]
	x := make([]float64, d)
	idx := make([]int, d)
	sum, cnt := 0.0, 0
	for {
		for k := range idx {
			x[k] = lo[k] + (float64(idx[k])+0.5)*(hi[k]-lo[k])/float64(n)
		}
		v := bump(x)
		sum += v * v
		cnt++
		k := 0
		for ; k < d; k++ {
			idx[k]++
			if idx[k] < n {
				break
			}
			idx[k] = 0
		}
		if k == d {
			break
		}
	}
	return math.Sqrt(vol * sum / float64(cnt))
}
