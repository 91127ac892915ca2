package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/reluscope/reluscope/experiment"
)

// WriteText writes one problem's table, fitted slopes and (with two or
// more sample counts) its chart of the given width.
func WriteText(w io.Writer, rep Report, width int) {
	pt := rep.Points
	fmt.Fprintf(w, "\n%s\n", rep.Problem)
	if len(pt) > 0 {
		fmt.Fprintf(w, "  per m: %d algorithms, up to %d teachers, %d seeds\n", pt[0].Algos, pt[0].Teachers, pt[0].Seeds)
	}
	shown, avg := shownMetrics(false), shownMetrics(true)
	// row writes one line of the table: its first cell, a cell per shown
	// metric, a cell per min-avg metric, and what follows.
	row := func(first string, cell func(k Metric, avg bool) string, tail string) {
		var b strings.Builder
		fmt.Fprintf(&b, "  %8s", first)
		for _, k := range shown {
			fmt.Fprintf(&b, " %11s", cell(k, false))
		}
		b.WriteString(" ")
		for _, k := range avg {
			fmt.Fprintf(&b, " %11s", cell(k, true))
		}
		fmt.Fprintln(w, b.String()+tail)
	}
	row("m", func(k Metric, avg bool) string {
		if avg {
			return k.String() + " avg"
		}
		return metricTable[k].head
	}, fmt.Sprintf(" %4s   %s", "drop", "best algorithm for L∞"))
	val := func(v float64) string {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return "—"
		}
		return fmt.Sprintf("%.4e", v)
	}
	for _, p := range pt {
		row(fmt.Sprint(p.M), func(k Metric, avg bool) string {
			if avg {
				return val(p.Avg[k])
			}
			return val(p.Err[k])
		}, fmt.Sprintf(" %4d   %s", p.Dropped, p.Best[Linf]))
	}
	slope := func(v float64) string {
		if math.IsNaN(v) {
			return "—"
		}
		return fmt.Sprintf("%.3f", v)
	}
	f, fa, r := rep.Fits, rep.AvgFits, rep.RefSlope
	row("slope b", func(k Metric, avg bool) string {
		if avg {
			return slope(fa[k].B)
		}
		return slope(f[k].B)
	}, "")
	row("ref", func(k Metric, _ bool) string { return slope(r[k]) }, "   (reference −(1/p + 1/d))")
	fmt.Fprintf(w, "  (L1 … true sup ≤: min over algorithms of the max over teachers (min-max); … avg: of the mean over teachers (min-avg);\n")
	fmt.Fprintf(w, "   true sup ≤: the upper bound of sup|s − t| over the cube — exact in 1-D; drop: algorithms left out at that m for a failed run)\n")
	fit := func(k Metric) string {
		if math.IsNaN(f[k].A) || math.IsInf(f[k].A, 0) {
			return "—"
		}
		return fmt.Sprintf("%.3g·m^%s", f[k].A, slope(f[k].B))
	}
	fmt.Fprintf(w, "  fit err ≈ a·m^b:  L1 %s   L2 %s   L∞ %s\n\n", fit(L1), fit(L2), fit(Linf))
	if len(pt) > 1 {
		for _, l := range strings.Split(Chart(rep, width, 16), "\n") {
			fmt.Fprintln(w, "  "+l)
		}
	}
}

// CSV is the tables of all problems as CSV, one row per problem and m:
// the problem, m, every metric, the fitted slopes of the table's metrics
// and the paper's reference slopes, the counts, then the min-avg errors and
// their slopes, and the algorithms dropped.
func CSV(reps []Report) []byte {
	shown, avg := shownMetrics(false), shownMetrics(true)
	head := []string{"target", "dim", "depth", "teacher_width", "coef", "m"}
	for _, k := range AllMetrics {
		head = append(head, metricTable[k].csv)
	}
	for _, k := range shown {
		head = append(head, "slope_"+metricTable[k].csv)
	}
	for _, k := range Metrics {
		head = append(head, "ref_"+metricTable[k].csv)
	}
	head = append(head, "teachers", "seeds", "algorithms")
	for _, k := range shown {
		head = append(head, metricTable[k].csv+"_avg")
	}
	for _, k := range avg {
		head = append(head, "slope_"+metricTable[k].csv+"_avg")
	}
	head = append(head, "dropped", "preset", "variant")
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write(head)
	g6 := func(v float64) string { return fmt.Sprintf("%.6g", v) }
	sup := func(v float64) string {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return ""
		}
		return fmt.Sprintf("%.10g", v)
	}
	for _, r := range reps {
		p := r.Problem
		t := p.Target
		switch {
		case p.DataFile != "":
			t = "data"
		case t == "":
			t = experiment.TargetTeacher
		}
		for _, pt := range r.Points {
			rec := []string{t, fmt.Sprint(p.Dim), fmt.Sprint(p.Depth), fmt.Sprint(p.TeacherWidth), fmt.Sprintf("%g", p.Coef), fmt.Sprint(pt.M)}
			for _, k := range AllMetrics {
				rec = append(rec, sup(pt.Err[k]))
			}
			for _, k := range shown {
				rec = append(rec, g6(r.Fits[k].B))
			}
			for _, k := range Metrics {
				rec = append(rec, g6(r.RefSlope[k]))
			}
			rec = append(rec, fmt.Sprint(pt.Teachers), fmt.Sprint(pt.Seeds), fmt.Sprint(pt.Algos))
			for _, k := range shown {
				rec = append(rec, sup(pt.Avg[k]))
			}
			for _, k := range avg {
				rec = append(rec, g6(r.AvgFits[k].B))
			}
			cw.Write(append(rec, fmt.Sprint(pt.Dropped), p.Preset, p.Variant))
		}
	}
	cw.Flush()
	return b.Bytes()
}
