// Package report is the paper's aggregation of sweep results and its
// presentation: the min over algorithms of the max over teachers of the
// seed mean, per problem and sample count m, fitted slopes against the
// reference rates m^(−(1/p+1/d)), and the table, CSV, terminal chart and
// figure (PNG, SVG, PDF) that show it. The report command and the
// explorer's sample-complexity view both draw with it.
package report

import (
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"sort"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/results"
)

// Metric indexes the errors a report aggregates, in report order.
type Metric int

const (
	L1   Metric = iota // mean |e|
	L2                 // RMS error
	Linf               // max |e| over the evaluation points
	// The true uniform error's bracket, where the checkpoints carry one (at
	// the final checkpoint by default): lower and upper bound of sup|e|.
	SupLower
	SupUpper
	NumMetrics
)

// Metrics lists the paper's metrics in report order; AllMetrics adds the
// true uniform error's bounds.
var (
	Metrics    = []Metric{L1, L2, Linf}
	AllMetrics = []Metric{L1, L2, Linf, SupLower, SupUpper}
)

// metricInfo is what the text table, the CSV, the figure and the explorer
// read of a metric: one row each in metricTable, so that a new metric is
// one row (and its Of).
type metricInfo struct {
	name  string     // as printed: L1, L2, L∞, sup≥, sup≤
	head  string     // the text table's column head
	csv   string     // the CSV column
	p     float64    // the metric's p
	color color.RGBA // in the figure
	// shown: a column of the text table (and a fitted slope in the CSV);
	// avg: a min-avg column too.
	shown, avg bool
	of         func(experiment.Checkpoint) float64
}

// The figure's colours: Okabe and Ito's palette, told apart with every
// kind of colour vision (each series also has its own marker and dashes).
var (
	green  = color.RGBA{0x00, 0x9e, 0x73, 0xff} // bluish green
	blue   = color.RGBA{0x00, 0x72, 0xb2, 0xff} // blue
	red    = color.RGBA{0xd5, 0x5e, 0x00, 0xff} // vermillion
	purple = color.RGBA{0xcc, 0x79, 0xa7, 0xff} // reddish purple
)

// bracketEnd is one end of a checkpoint's bracket (NaN without one).
func bracketEnd(upper bool) func(experiment.Checkpoint) float64 {
	return func(c experiment.Checkpoint) float64 {
		switch {
		case c.Bracket == nil:
			return math.NaN()
		case upper:
			return c.Upper
		}
		return c.Lower
	}
}

var metricTable = [NumMetrics]metricInfo{
	L1:       {"L1", "L1", "l1", 1, green, true, false, func(c experiment.Checkpoint) float64 { return c.L1 }},
	L2:       {"L2", "L2", "l2", 2, blue, true, true, func(c experiment.Checkpoint) float64 { return c.L2 }},
	Linf:     {"L∞", "L∞ sampl", "linf", math.Inf(1), red, true, true, func(c experiment.Checkpoint) float64 { return c.Linf }},
	SupLower: {"sup≥", "true sup ≥", "sup_lower", math.Inf(1), purple, false, false, bracketEnd(false)},
	SupUpper: {"sup≤", "true sup ≤", "sup_upper", math.Inf(1), purple, true, true, bracketEnd(true)},
}

// shownMetrics are the metrics of the text table's columns, avgMetrics
// those with a min-avg column.
func shownMetrics(avg bool) []Metric {
	var out []Metric
	for _, k := range AllMetrics {
		if (!avg && metricTable[k].shown) || (avg && metricTable[k].avg) {
			out = append(out, k)
		}
	}
	return out
}

// String is the metric's name as printed: L1, L2, L∞, sup≥, sup≤.
func (k Metric) String() string { return metricTable[k].name }

// P is the metric's p (∞ for the uniform errors).
func (k Metric) P() float64 { return metricTable[k].p }

// Of reads the metric from a checkpoint (NaN: the checkpoint has no bracket).
func (k Metric) Of(c experiment.Checkpoint) float64 { return metricTable[k].of(c) }

// RefSlope is the reference exponent −(1/p + 1/d) of the metric's rate in
// dimension d, as drawn in the paper's figures (constant 1).
func RefSlope(k Metric, d int) float64 { return -(1/k.P() + 1/float64(d)) }

// Problem is what a sweep's runs share apart from m and the algorithm: the
// target class (or the analytic target).
type Problem struct {
	Target       string  `json:"target,omitempty"`
	DataFile     string  `json:"data_file,omitempty"` // samples of a file: no teacher
	Dim          int     `json:"dim"`
	Depth        int     `json:"depth"`
	TeacherWidth int     `json:"teacher_width"`
	Coef         float64 `json:"coef"`
	// Preset and Variant are the sweep's grid the runs are of
	// (Record.Variant): two variants of a grid (--set width=512 on the
	// same preset) are two problems, never one min-max cell.
	Preset  string `json:"preset,omitempty"`
	Variant string `json:"variant,omitempty"`
}

func (p Problem) String() string {
	grid := ""
	if p.Variant != "" {
		grid = fmt.Sprintf(" — %s, variant %s", p.Preset, p.Variant)
	}
	if p.Target == experiment.TargetSine {
		return "sine target, d=1" + grid
	}
	if p.DataFile != "" {
		return fmt.Sprintf("the samples of %s, d=%d (no teacher: errors off the samples are not measured)%s", experiment.Excerpt(p.DataFile, 60), p.Dim, grid)
	}
	return fmt.Sprintf("d=%d, teacher depth %d, width %d, c=%g%s", p.Dim, p.Depth, p.TeacherWidth, p.Coef, grid)
}

// Point is the aggregated error at one sample count m.
type Point struct {
	M    int                 `json:"m"`
	Err  [NumMetrics]float64 `json:"err"`  // min over algorithms of max over teachers of the seed mean
	Best [NumMetrics]string  `json:"best"` // the algorithm that attains it
	// Avg is the min over algorithms of the mean over teachers of the seed
	// mean: the reference analysis's dotted "min-avg" curve.
	Avg [NumMetrics]float64 `json:"avg"`
	// Dropped is the number of algorithms left out at this m because one of
	// their runs failed (the reference's NaN rule).
	Dropped  int `json:"dropped"`
	Teachers int `json:"teachers"`
	Seeds    int `json:"seeds"`
	Algos    int `json:"algorithms"`
}

// Fit is err ≈ A·m^B, fitted by least squares on log10 err vs log10 m.
type Fit struct {
	A, B float64
}

// Report is the aggregation of one problem's runs.
type Report struct {
	Problem Problem         `json:"problem"`
	Points  []Point         `json:"points"`
	Fits    [NumMetrics]Fit `json:"fits"`
	AvgFits [NumMetrics]Fit `json:"avg_fits"` // of the min-avg curve
	// RefSlope is the reference exponent −(1/p + 1/d) of each metric.
	RefSlope [NumMetrics]float64 `json:"ref_slope"`
}

// algoKey is the configuration without what varies across teachers, seeds
// and sample counts: the "algorithm" of the paper, before the checkpoint.
func algoKey(c experiment.Config) (string, string) {
	c.TeacherSeed, c.DataSeed, c.InitSeed, c.Samples = 0, 0, 0, 0
	b, _ := json.Marshal(c)
	return string(b), fmt.Sprintf("width %d, batch %s, %d epochs", c.Width, c.Batch, c.Epochs)
}

// problemOf is the problem a record's run belongs to: its target, and its
// grid's variant when it has one.
func problemOf(r results.Record) Problem {
	c := r.Config
	p := Problem{Target: c.Target, Dim: c.Dim, Depth: c.Depth, TeacherWidth: c.TeacherWidth, Coef: c.Coef}
	switch {
	case c.Target == experiment.TargetSine:
		p = Problem{Target: experiment.TargetSine, Dim: 1}
	case c.DataFile != "":
		p = Problem{DataFile: c.DataFile, Dim: c.Dim}
	}
	if r.Variant != "" {
		p.Preset, p.Variant = r.Preset, r.Variant
	}
	return p
}

// Aggregate reproduces the paper's figure from sweep records: for each
// problem and m, and each algorithm = (config without seeds and m,
// checkpoint k ≥ 1), average each metric over the seeds, take the max over
// the teachers, then the min over the algorithms; then fit A·m^B.
// A failed run (Error set) makes its seed mean NaN, as the reference's
// pandas aggregation does (skipna=False): its teacher's max, and so that
// algorithm at that m, drop out (Point.Dropped counts them). With
// skipFailed the failed runs are left out instead and the seeds that
// finished are averaged.
func Aggregate(recs []results.Record) []Report { return AggregateWith(recs, false) }

// AggregateWith is Aggregate with the rule for failed runs chosen.
func AggregateWith(recs []results.Record, skipFailed bool) []Report {
	a := newAggregation()
	a.seedMeans(recs, skipFailed)
	a.overTeachers()
	return a.reports(a.overAlgorithms())
}

// The keys of the aggregation's stages: a checkpoint's seeds of one
// teacher (cellKey), a teacher with a failed run (failKey), the teachers
// of one algorithm's checkpoint (algoCell), and one point of a problem.
type (
	cellKey struct {
		prob    Problem
		m       int
		algo    string
		ck      int
		teacher uint64
	}
	failKey struct {
		prob    Problem
		m       int
		algo    string
		teacher uint64
	}
	algoCell struct {
		prob Problem
		m    int
		algo string
		ck   int
	}
	pointKey struct {
		prob Problem
		m    int
	}
	// cell sums one checkpoint's metrics over seeds.
	cell struct {
		sum [NumMetrics]float64
		n   int
	}
)

// aggregation is the paper's aggregation in its stages: the mean over
// seeds per teacher, the max (min-max) and mean (min-avg) over teachers,
// the min over algorithms.
type aggregation struct {
	cells    map[cellKey]*cell
	labels   map[string]string
	seeds    map[pointKey]map[[2]uint64]bool
	failed   map[failKey]bool
	worst    map[algoCell][NumMetrics]float64
	mean     map[algoCell][NumMetrics]float64 // sum over teachers, then the mean
	teachers map[algoCell]int
	dead     map[algoCell]bool // a teacher of this algorithm at this m has a failed run
}

func newAggregation() *aggregation {
	return &aggregation{cells: map[cellKey]*cell{}, labels: map[string]string{}, seeds: map[pointKey]map[[2]uint64]bool{},
		failed: map[failKey]bool{}, worst: map[algoCell][NumMetrics]float64{}, mean: map[algoCell][NumMetrics]float64{},
		teachers: map[algoCell]int{}, dead: map[algoCell]bool{}}
}

// seedMeans sums every finished run's checkpoints per teacher; a failed
// run marks its (problem, m, algorithm, teacher) unless skipFailed.
func (a *aggregation) seedMeans(recs []results.Record, skipFailed bool) {
	for _, r := range recs {
		if r.Error != "" && !skipFailed {
			c := r.Config
			ak, label := algoKey(c)
			a.labels[ak] = label
			a.failed[failKey{problemOf(r), c.Samples, ak, c.TeacherSeed}] = true
			continue
		}
		if r.Error != "" || len(r.History) < 2 {
			continue
		}
		c := r.Config
		prob := problemOf(r)
		ak, label := algoKey(c)
		a.labels[ak] = label
		sk := pointKey{prob, c.Samples}
		if a.seeds[sk] == nil {
			a.seeds[sk] = map[[2]uint64]bool{}
		}
		a.seeds[sk][[2]uint64{c.DataSeed, c.InitSeed}] = true
		for k, ck := range r.History[1:] {
			kk := cellKey{prob, c.Samples, ak, k + 1, c.TeacherSeed}
			ce := a.cells[kk]
			if ce == nil {
				ce = &cell{}
				a.cells[kk] = ce
			}
			for _, k := range AllMetrics {
				ce.sum[k] += k.Of(ck)
			}
			ce.n++
		}
	}
}

// overTeachers takes the max and the sum over teachers of the seed means,
// per (problem, m, algorithm, checkpoint), and marks the dead cells.
func (a *aggregation) overTeachers() {
	for k, ce := range a.cells {
		ac := algoCell{k.prob, k.m, k.algo, k.ck}
		if a.failed[failKey{k.prob, k.m, k.algo, k.teacher}] {
			a.dead[ac] = true
		}
		w, ok := a.worst[ac]
		sm := a.mean[ac]
		for _, i := range AllMetrics {
			v := ce.sum[i] / float64(ce.n)
			// A teacher without the metric (no bracket) leaves the max unknown.
			switch {
			case !ok || math.IsNaN(v):
				if !ok || !math.IsNaN(w[i]) {
					w[i] = v
				}
			case v > w[i]:
				w[i] = v
			}
			sm[i] += v
		}
		a.worst[ac] = w
		a.mean[ac] = sm
		a.teachers[ac]++
	}
	// A failed run whose teacher has no finished run still kills the cell.
	for f := range a.failed {
		for ac := range a.worst {
			if ac.prob == f.prob && ac.m == f.m && ac.algo == f.algo {
				a.dead[ac] = true
			}
		}
	}
}

// overAlgorithms takes the min over the algorithms (and their
// checkpoints) that are not dead, per problem and m.
func (a *aggregation) overAlgorithms() map[pointKey]*Point {
	best := map[pointKey]*Point{}
	droppedAlgos := map[pointKey]map[string]bool{}
	for ac, w := range a.worst {
		pk := pointKey{ac.prob, ac.m}
		p := best[pk]
		if p == nil {
			p = &Point{M: ac.m}
			for i := range p.Err {
				p.Err[i], p.Avg[i] = math.Inf(1), math.Inf(1)
			}
			best[pk] = p
			droppedAlgos[pk] = map[string]bool{}
		}
		if a.dead[ac] {
			droppedAlgos[pk][ac.algo] = true
			continue
		}
		p.Algos++
		p.Teachers = max(p.Teachers, a.teachers[ac])
		avg := a.mean[ac]
		for _, i := range AllMetrics {
			name := fmt.Sprintf("%s, checkpoint %d", a.labels[ac.algo], ac.ck)
			if math.IsNaN(w[i]) {
				continue // no bracket for this algorithm
			}
			if w[i] < p.Err[i] || (w[i] == p.Err[i] && name < p.Best[i]) {
				p.Err[i], p.Best[i] = w[i], name
			}
			if v := avg[i] / float64(a.teachers[ac]); v < p.Avg[i] {
				p.Avg[i] = v
			}
		}
	}
	for f := range a.failed {
		if d := droppedAlgos[pointKey{f.prob, f.m}]; d != nil {
			d[f.algo] = true // every run of it may have failed
		}
	}
	for pk, d := range droppedAlgos {
		best[pk].Dropped = len(d)
		best[pk].Seeds = len(a.seeds[pk])
	}
	return best
}

// reports are the points grouped by problem, in order of m, with their
// fits, the problems by dimension and depth.
func (a *aggregation) reports(best map[pointKey]*Point) []Report {
	byProb := map[Problem][]Point{}
	for k, p := range best {
		byProb[k.prob] = append(byProb[k.prob], *p)
	}
	var out []Report
	for prob, pts := range byProb {
		sort.Slice(pts, func(i, j int) bool { return pts[i].M < pts[j].M })
		rep := Report{Problem: prob, Points: pts}
		for _, i := range AllMetrics {
			xs, ys, ya := make([]float64, len(pts)), make([]float64, len(pts)), make([]float64, len(pts))
			for k, p := range pts {
				xs[k], ys[k], ya[k] = float64(p.M), p.Err[i], p.Avg[i]
			}
			rep.Fits[i] = FitPower(xs, ys)
			rep.AvgFits[i] = FitPower(xs, ya)
			rep.RefSlope[i] = RefSlope(i, prob.Dim)
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
