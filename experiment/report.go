package experiment

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
)

// Metric names in report order.
var MetricNames = [3]string{"L1", "L2", "Linf"}

// MetricP is p of each metric's L^p norm (∞ for the uniform error).
var MetricP = [3]float64{1, 2, math.Inf(1)}

func metricOf(c Checkpoint, k int) float64 {
	switch k {
	case 0:
		return c.L1
	case 1:
		return c.L2
	}
	return c.Linf
}

// Problem is what a sweep's runs share apart from m and the algorithm: the
// target class (or the analytic target).
type Problem struct {
	Target       string  `json:"target,omitempty"`
	Dim          int     `json:"dim"`
	Depth        int     `json:"depth"`
	TeacherWidth int     `json:"teacher_width"`
	Coef         float64 `json:"coef"`
}

func (p Problem) String() string {
	if p.Target == TargetSine {
		return "sine target, d=1"
	}
	return fmt.Sprintf("d=%d, teacher depth %d, width %d, c=%g", p.Dim, p.Depth, p.TeacherWidth, p.Coef)
}

// ReportPoint is the aggregated error at one sample count m.
type ReportPoint struct {
	M        int        `json:"m"`
	Err      [3]float64 `json:"err"`  // min over algorithms of max over teachers of the seed mean
	Best     [3]string  `json:"best"` // the algorithm that attains it
	Teachers int        `json:"teachers"`
	Seeds    int        `json:"seeds"`
	Algos    int        `json:"algorithms"`
}

// Fit is err ≈ A·m^B, fitted by least squares on log10 err vs log10 m.
type Fit struct {
	A, B float64
}

// Report is the aggregation of one problem's runs.
type Report struct {
	Problem Problem       `json:"problem"`
	Points  []ReportPoint `json:"points"`
	Fits    [3]Fit        `json:"fits"`
	// RefSlope is the reference exponent −(1/p + 1/d) of each metric.
	RefSlope [3]float64 `json:"ref_slope"`
}

// algoKey is the configuration without what varies across teachers, seeds
// and sample counts: the "algorithm" of the paper, before the checkpoint.
func algoKey(c Config) (string, string) {
	c.TeacherSeed, c.DataSeed, c.InitSeed, c.Samples = 0, 0, 0, 0
	b, _ := json.Marshal(c)
	return string(b), fmt.Sprintf("width %d, batch %s, %d epochs", c.Width, c.Batch, c.Epochs)
}

// Aggregate reproduces the paper's figure from sweep records: for each
// problem and m, and each algorithm = (config without seeds and m,
// checkpoint k ≥ 1), average each metric over the seeds, take the max over
// the teachers, then the min over the algorithms; then fit A·m^B.
// Failed runs (Error set) are left out.
func Aggregate(recs []Record) []Report {
	type cell struct {
		sum [3]float64
		n   int
	}
	type key struct {
		prob    Problem
		m       int
		algo    string
		ck      int
		teacher uint64
	}
	cells := map[key]*cell{}
	labels := map[string]string{}
	seeds := map[[2]any]map[[2]uint64]bool{}
	for _, r := range recs {
		if r.Error != "" || len(r.History) < 2 {
			continue
		}
		c := r.Config
		prob := Problem{Target: c.Target, Dim: c.Dim, Depth: c.Depth, TeacherWidth: c.TeacherWidth, Coef: c.Coef}
		if c.Target == TargetSine {
			prob = Problem{Target: TargetSine, Dim: 1}
		}
		ak, label := algoKey(c)
		labels[ak] = label
		sk := [2]any{prob, c.Samples}
		if seeds[sk] == nil {
			seeds[sk] = map[[2]uint64]bool{}
		}
		seeds[sk][[2]uint64{c.DataSeed, c.InitSeed}] = true
		for k, ck := range r.History[1:] {
			kk := key{prob, c.Samples, ak, k + 1, c.TeacherSeed}
			ce := cells[kk]
			if ce == nil {
				ce = &cell{}
				cells[kk] = ce
			}
			for i := 0; i < 3; i++ {
				ce.sum[i] += metricOf(ck, i)
			}
			ce.n++
		}
	}
	// max over teachers of the seed mean, per (problem, m, algo, checkpoint)
	type akey struct {
		prob Problem
		m    int
		algo string
		ck   int
	}
	worst := map[akey][3]float64{}
	teachers := map[akey]int{}
	for k, ce := range cells {
		a := akey{k.prob, k.m, k.algo, k.ck}
		w, ok := worst[a]
		for i := 0; i < 3; i++ {
			v := ce.sum[i] / float64(ce.n)
			if !ok || v > w[i] {
				w[i] = v
			}
		}
		worst[a] = w
		teachers[a]++
	}
	// min over algorithms
	type pkey struct {
		prob Problem
		m    int
	}
	best := map[pkey]*ReportPoint{}
	for a, w := range worst {
		p := best[pkey{a.prob, a.m}]
		if p == nil {
			p = &ReportPoint{M: a.m}
			for i := range p.Err {
				p.Err[i] = math.Inf(1)
			}
			best[pkey{a.prob, a.m}] = p
		}
		p.Algos++
		p.Teachers = max(p.Teachers, teachers[a])
		for i := 0; i < 3; i++ {
			name := fmt.Sprintf("%s, checkpoint %d", labels[a.algo], a.ck)
			if w[i] < p.Err[i] || (w[i] == p.Err[i] && name < p.Best[i]) {
				p.Err[i], p.Best[i] = w[i], name
			}
		}
	}
	byProb := map[Problem][]ReportPoint{}
	for k, p := range best {
		p.Seeds = len(seeds[[2]any{k.prob, k.m}])
		byProb[k.prob] = append(byProb[k.prob], *p)
	}
	var out []Report
	for prob, pts := range byProb {
		sort.Slice(pts, func(i, j int) bool { return pts[i].M < pts[j].M })
		rep := Report{Problem: prob, Points: pts}
		for i := 0; i < 3; i++ {
			xs, ys := make([]float64, len(pts)), make([]float64, len(pts))
			for k, p := range pts {
				xs[k], ys[k] = float64(p.M), p.Err[i]
			}
			rep.Fits[i] = FitPower(xs, ys)
			rep.RefSlope[i] = -(1/MetricP[i] + 1/float64(prob.Dim))
		}
		out = append(out, rep)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Problem, out[j].Problem
		if a.Dim != b.Dim {
			return a.Dim < b.Dim
		}
		if a.Depth != b.Depth {
			return a.Depth < b.Depth
		}
		return a.String() < b.String()
	})
	return out
}

// FitPower fits y ≈ A·x^B by least squares on log10 y vs log10 x over the
// positive points; with fewer than two it returns NaNs.
func FitPower(xs, ys []float64) Fit {
	var n, sx, sy, sxx, sxy float64
	for i := range xs {
		if !(xs[i] > 0 && ys[i] > 0) || math.IsInf(ys[i], 0) {
			continue
		}
		x, y := math.Log10(xs[i]), math.Log10(ys[i])
		n++
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	den := n*sxx - sx*sx
	if n < 2 || den == 0 {
		return Fit{math.NaN(), math.NaN()}
	}
	b := (n*sxy - sx*sy) / den
	a := (sy - b*sx) / n
	return Fit{A: math.Pow(10, a), B: b}
}
