package experiment

import (
	"math"
	"strconv"
	"strings"
)

// Metrics are the errors e = student − teacher over a set of points.
type Metrics struct {
	L1   float64 `json:"l1"`   // mean |e|
	L2   float64 `json:"l2"`   // sqrt(mean e²), the RMS error
	Linf float64 `json:"linf"` // max |e| (a lower bound on the true sup)
	// ArgMax is the point where |e| is largest.
	ArgMax []float64 `json:"argmax"`
	N      int       `json:"n"`
}

// accumulator folds errors into Metrics without storing them.
type accumulator struct {
	sumAbs, sumSq, max float64
	arg                []float64
	n                  int
}

// add folds in the error e at point x (copied if it is the new max).
func (a *accumulator) add(e float64, x []float64) {
	ae := math.Abs(e)
	a.sumAbs += ae
	a.sumSq += e * e
	a.n++
	if ae > a.max || a.arg == nil || (math.IsNaN(ae) && !math.IsNaN(a.max)) {
		a.max = ae // a NaN error sticks: the max of a set holding NaN is NaN
		a.arg = append(a.arg[:0], x...)
	}
}

func (a *accumulator) metrics() Metrics {
	if a.n == 0 {
		return Metrics{}
	}
	n := float64(a.n)
	return Metrics{L1: a.sumAbs / n, L2: math.Sqrt(a.sumSq / n), Linf: a.max, ArgMax: append([]float64(nil), a.arg...), N: a.n}
}

// ComputeMetrics returns the metrics of the errors e[i] at points x (row i of
// a row-major n×d matrix).
func ComputeMetrics(e []float64, x []float64, d int) Metrics {
	var a accumulator
	for i, v := range e {
		a.add(v, x[i*d:(i+1)*d])
	}
	return a.metrics()
}

// merge combines per-chunk accumulators in order: sums add up, the first of
// equal maxima wins, a NaN anywhere makes L∞ NaN.
func merge(accs []accumulator) Metrics {
	var out accumulator
	for i := range accs {
		a := &accs[i]
		if a.n == 0 {
			continue
		}
		out.sumAbs += a.sumAbs
		out.sumSq += a.sumSq
		out.n += a.n
		if out.arg == nil || a.max > out.max || (math.IsNaN(a.max) && !math.IsNaN(out.max)) {
			out.max = a.max
			out.arg = a.arg
		}
	}
	return out.metrics()
}

// FormatPoint writes a point with the given decimals: "0.1234" in one
// dimension, "(0.1, -0.2)" in more. Compact drops the spaces and elides the
// coordinates after the third of a point in more than four dimensions, for
// narrow screens.
func FormatPoint(x []float64, digits int, compact bool) string {
	parts := make([]string, len(x))
	for i, v := range x {
		parts[i] = strconv.FormatFloat(v, 'f', digits, 64)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	sep := ", "
	if compact {
		sep = ","
		if len(parts) > 4 {
			parts = append(parts[:3], "…")
		}
	}
	return "(" + strings.Join(parts, sep) + ")"
}
