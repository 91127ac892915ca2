package learners

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/reluscope/reluscope/backend"
)

// ParseSet reads a finite set of parameter values, "-1,0,1".
func ParseSet(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		s = "-1,0,1"
	}
	var out []float64
	seen := map[float64]bool{}
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("discrete set: %q is not a number", strings.TrimSpace(f))
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	if len(out) < 1 || len(out) > 64 {
		return nil, fmt.Errorf("discrete set: %d values, want 1 to 64", len(out))
	}
	return out, nil
}

// discreteParams is the number of parameters of a [d, w, 1] network.
func discreteParams(d, w int, bias bool) int { return w*(d+1) + w + boolInt(bias) }

// DiscreteCount is |S|^#params, the brute force's assignments.
func DiscreteCount(s, d, w int, bias bool) float64 {
	return math.Pow(float64(s), float64(discreteParams(d, w, bias)))
}

// DiscreteBrute tries every assignment of S to the parameters of a
// [d, w, 1] ReLU network (hidden weights and biases, output weights, and
// the output bias unless !bias) and keeps the one of least summed squared
// loss (Doron-Arad 2024's D-NNT, by exhaustion).
func DiscreteBrute(ctx context.Context, x, y []float64, d, w int, S []float64, bias bool, limit float64) (*Result, error) {
	t0 := time.Now()
	P := discreteParams(d, w, bias)
	if n := DiscreteCount(len(S), d, w, bias); n > limit {
		return nil, fmt.Errorf("discrete brute force: |S|^%d = %.3g assignments, more than %.3g", P, n, limit)
	}
	idx := make([]int, P)
	net := backend.NewNet([]int{d, w, 1})
	net.InputScale = 1
	res := &Result{Loss: math.Inf(1)}
	set := func() {
		k := 0
		for i := 0; i < w; i++ {
			for t := 0; t < d; t++ {
				net.W[0][i*d+t] = S[idx[k]]
				k++
			}
			net.B[0][i] = S[idx[k]]
			k++
			net.W[1][i] = S[idx[k]]
			k++
		}
		net.B[1][0] = 0
		if bias {
			net.B[1][0] = S[idx[k]]
		}
	}
	m := len(y)
	for {
		res.Work++
		if res.Work%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		set()
		loss := 0.0
		for j := 0; j < m && loss < res.Loss; j++ {
			e := net.Eval(x[j*d:(j+1)*d]) - y[j]
			loss += e * e
		}
		if loss < res.Loss {
			res.Loss, res.Net = loss, net.Clone()
		}
		// Next assignment (odometer).
		k := 0
		for ; k < P; k++ {
			idx[k]++
			if idx[k] < len(S) {
				break
			}
			idx[k] = 0
		}
		if k == P {
			break
		}
	}
	res.Elapsed = time.Since(t0)
	return res, nil
}

// DiscreteDP finds the same optimum by dynamic programming over the
// hidden units: each unit (a, b, v) adds the vector (v·relu(a·x_j + b))_j to
// the outputs on the n samples, so the reachable output vectors after u
// units are a Minkowski sum, kept as a set. For a fixed number of samples
// and integer data and S the states are bounded by the range of the sums:
// pseudo-polynomial, as Doron-Arad's algorithm for two-layer D-NNT.
func DiscreteDP(ctx context.Context, x, y []float64, d, w int, S []float64, bias bool, maxStates int) (*Result, error) {
	t0 := time.Now()
	m := len(y)
	// The contributions of one unit, distinct, with a unit that makes each.
	type unit struct {
		a    []float64
		b, v float64
	}
	var units []unit
	var contrib [][]float64
	seen := map[string]bool{}
	idx := make([]int, d+2)
	for {
		u := unit{a: make([]float64, d)}
		for t := 0; t < d; t++ {
			u.a[t] = S[idx[t]]
		}
		u.b, u.v = S[idx[d]], S[idx[d+1]]
		c := make([]float64, m)
		for j := 0; j < m; j++ {
			pre := u.b
			for t := 0; t < d; t++ {
				pre += u.a[t] * x[j*d+t]
			}
			c[j] = u.v * math.Max(0, pre)
		}
		if k := vecKey(c); !seen[k] {
			seen[k] = true
			units = append(units, u)
			contrib = append(contrib, c)
		}
		k := 0
		for ; k < d+2; k++ {
			idx[k]++
			if idx[k] < len(S) {
				break
			}
			idx[k] = 0
		}
		if k == d+2 {
			break
		}
	}
	type state struct {
		sum  []float64
		prev string
		unit int
	}
	layers := []map[string]state{{vecKey(make([]float64, m)): {sum: make([]float64, m), unit: -1}}}
	visited := int64(0)
	for u := 0; u < w; u++ {
		next := map[string]state{}
		for key, st := range layers[u] {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			for ui, c := range contrib {
				sum := make([]float64, m)
				for j := range sum {
					sum[j] = st.sum[j] + c[j]
				}
				k := vecKey(sum)
				visited++
				if _, ok := next[k]; !ok {
					next[k] = state{sum: sum, prev: key, unit: ui}
					if len(next) > maxStates {
						return nil, fmt.Errorf("discrete DP: more than %d states after %d units (the data or S are not small integers?)", maxStates, u+1)
					}
				}
			}
		}
		layers = append(layers, next)
	}
	res := &Result{Loss: math.Inf(1), Work: visited}
	cs := []float64{0}
	if bias {
		cs = S
	}
	var bestKey string
	var bestC float64
	for key, st := range layers[w] {
		for _, c := range cs {
			loss := 0.0
			for j := range y {
				e := st.sum[j] + c - y[j]
				loss += e * e
			}
			if loss < res.Loss {
				res.Loss, bestKey, bestC = loss, key, c
			}
		}
	}
	// Walk back to the units.
	net := backend.NewNet([]int{d, w, 1})
	net.InputScale = 1
	key := bestKey
	for u := w; u >= 1; u-- {
		st := layers[u][key]
		un := units[st.unit]
		copy(net.W[0][(u-1)*d:u*d], un.a)
		net.B[0][u-1], net.W[1][u-1] = un.b, un.v
		key = st.prev
	}
	net.B[1][0] = bestC
	res.Net = net
	res.Elapsed = time.Since(t0)
	return res, nil
}

func vecKey(v []float64) string {
	var b strings.Builder
	for _, x := range v {
		b.WriteString(strconv.FormatFloat(x+0, 'g', -1, 64))
		b.WriteByte(',')
	}
	return b.String()
}

// MaxDiscreteWork bounds the discrete learner's work: brute force up to
// 10⁶ assignments, the DP up to a tenth of it in states.
const MaxDiscreteWork = 5e7

// MaxDiscreteBytes bounds the DP's memory: every state it keeps holds the
// outputs on the m samples (a vector and its key, about 24·m bytes).
const MaxDiscreteBytes = 1 << 30

// discreteStates is the most states the DP may keep over all its layers
// for m samples and w units, within MaxDiscreteWork and MaxDiscreteBytes.
func discreteStates(m, w int) int {
	return min(int(MaxDiscreteWork/10), MaxDiscreteBytes/(24*max(1, m)*max(1, w)))
}

// discrete is DiscreteBrute (small instances) or DiscreteDP as a
// registered learner.
type discrete struct{}

func init() { Register(discrete{}) }

func (discrete) Name() string { return "discrete" }
func (discrete) What() string { return "the best network with parameters in S" }
func (discrete) Unit() string { return "assignments or DP states" }
func (discrete) MaxDim() int  { return 0 }
func (discrete) Check(p Problem) error {
	S, err := ParseSet(p.Set)
	if err != nil {
		return err
	}
	if DiscreteCount(len(S), p.Dim, p.Width, p.OutputBias) <= 1e6 {
		return nil // brute force: at most 10⁶ assignments
	}
	// The DP keeps at least one state per distinct unit in its first layer.
	if units, most := math.Pow(float64(len(S)), float64(p.Dim+2)), discreteStates(p.Samples, p.Width); units > float64(most) {
		return fmt.Errorf("discrete: the DP over %d samples at width %d would keep at least %.3g states of %d outputs each, more than the %d that fit in %s (fewer samples, units or values in S)",
			p.Samples, p.Width, units, p.Samples, most, "1 GiB")
	}
	return nil
}

func (discrete) Fit(ctx context.Context, p Problem, x, y []float64) (*Result, error) {
	S, err := ParseSet(p.Set)
	if err != nil {
		return nil, err
	}
	if DiscreteCount(len(S), p.Dim, p.Width, p.OutputBias) <= 1e6 {
		return DiscreteBrute(ctx, x, y, p.Dim, p.Width, S, p.OutputBias, 1e6)
	}
	return DiscreteDP(ctx, x, y, p.Dim, p.Width, S, p.OutputBias, discreteStates(len(y), p.Width))
}
