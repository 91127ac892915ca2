package gemm

import "math"

// AdamConsts are the constants of one Adam step: β1, 1−β1, β2, 1−β2, ε, −lr,
// and the bias corrections c1 = 1/(1−β1ᵗ), c2 = 1/(1−β2ᵗ).
type AdamConsts[T Float] [8]T

// NewAdamConsts returns the constants of step t (t ≥ 1).
func NewAdamConsts[T Float](beta1, beta2, eps, lr float64, t int) AdamConsts[T] {
	return AdamConsts[T]{T(beta1), 1 - T(beta1), T(beta2), 1 - T(beta2), T(eps), T(-lr),
		T(1 / (1 - math.Pow(beta1, float64(t)))), T(1 / (1 - math.Pow(beta2, float64(t))))}
}

// Adam applies PyTorch's Adam update (ε added to √v̂) to parameters p with
// gradients g and moments m, v (all the same length), vectorized with this
// pool's kernel set; every kernel set gives the same bits (the same operations,
// in the same order, unfused). Subnormal values are flushed to zero: they are
// far below anything that moves a parameter, and computing with them is ~100×
// slower. Safe to call on disjoint ranges at once.
func (pl *Pool[T]) Adam(p, g, m, v []T, k *AdamConsts[T]) { pl.Adam2(p, g, nil, m, v, k) }

// Adam2 is Adam with the gradient g + g2 (g2 nil: g alone), the sum taken
// on the fly: the gradients of a batch computed in shards (g2 holding the
// sum of all but the first).
func (pl *Pool[T]) Adam2(p, g, g2, m, v []T, k *AdamConsts[T]) {
	n := len(p)
	g, m, v = g[:n], m[:n], v[:n]
	if g2 != nil {
		g2 = g2[:n]
	}
	done := 0
	if pl.adam != nil {
		done = pl.adam(p, g, g2, m, v, (*[8]T)(k))
	}
	if g2 != nil {
		g2 = g2[done:]
	}
	adamGo(p[done:], g[done:], g2, m[done:], v[done:], k)
}

// adamGo is the portable update. The conversions T(…) round each product on
// its own (Go may otherwise fuse a·b + c), and ftz flushes subnormal inputs
// and results to zero as the kernels' MXCSR setting does, so every kernel
// set gives the same bits.
func adamGo[T Float](p, g, g2, m, v []T, k *AdamConsts[T]) {
	b1, ob1, b2, ob2, eps, neg, c1, c2 := k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for i := range p {
		gi, mi, vi, pi := ftz(g[i]), ftz(m[i]), ftz(v[i]), ftz(p[i])
		if g2 != nil {
			gi = ftz(gi + ftz(g2[i]))
		}
		mi = ftz(ftz(b1*mi) + ftz(ob1*gi))
		vi = ftz(ftz(b2*vi) + ftz(ftz(ob2*gi)*gi))
		m[i], v[i] = mi, vi
		p[i] = ftz(pi + ftz(ftz(neg*ftz(mi*c1))/ftz(ftz(T(math.Sqrt(float64(ftz(vi*c2)))))+eps)))
	}
}

// ftz returns x, or a zero of its sign when x is subnormal.
func ftz[T Float](x T) T {
	var tiny float64 = 0x1p-1022 // smallest normal float64
	if _, ok := any(x).(float32); ok {
		tiny = 0x1p-126
	}
	if a := math.Abs(float64(x)); a < tiny && a != 0 {
		return T(math.Copysign(0, float64(x)))
	}
	return x
}
