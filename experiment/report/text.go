package report

import (
	"bytes"
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
	fmt.Fprintf(w, "  %8s %11s %11s %11s %11s  %11s %11s %11s %4s   %s\n", "m", L1, L2, Linf.String()+" sampl", "true sup ≤",
		"L2 avg", "L∞ avg", "sup≤ avg", "drop", "best algorithm for L∞")
	val := func(v float64) string {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return "—"
		}
		return fmt.Sprintf("%.4e", v)
	}
	for _, p := range pt {
		fmt.Fprintf(w, "  %8d %11s %11s %11s %11s  %11s %11s %11s %4d   %s\n", p.M, val(p.Err[L1]), val(p.Err[L2]), val(p.Err[Linf]), val(p.Err[SupUpper]),
			val(p.Avg[L2]), val(p.Avg[Linf]), val(p.Avg[SupUpper]), p.Dropped, p.Best[Linf])
	}
	slope := func(v float64) string {
		if math.IsNaN(v) {
			return "—"
		}
		return fmt.Sprintf("%.3f", v)
	}
	f, fa, r := rep.Fits, rep.AvgFits, rep.RefSlope
	fmt.Fprintf(w, "  %8s %11s %11s %11s %11s  %11s %11s %11s\n", "slope b", slope(f[L1].B), slope(f[L2].B), slope(f[Linf].B), slope(f[SupUpper].B),
		slope(fa[L2].B), slope(fa[Linf].B), slope(fa[SupUpper].B))
	fmt.Fprintf(w, "  %8s %11s %11s %11s %11s  %11s %11s %11s   (reference −(1/p + 1/d))\n", "ref", slope(r[L1]), slope(r[L2]), slope(r[Linf]), slope(r[SupUpper]),
		slope(r[L2]), slope(r[Linf]), slope(r[SupUpper]))
	fmt.Fprintf(w, "  (L1 … true sup ≤: min over algorithms of the max over teachers (min-max); … avg: of the mean over teachers (min-avg);\n")
	fmt.Fprintf(w, "   true sup ≤: the upper bound of sup|s − t| over the cube — exact in 1-D; drop: algorithms left out at that m for a failed run)\n")
	fmt.Fprintf(w, "  fit err ≈ a·m^b:  L1 %.3g·m^%s   L2 %.3g·m^%s   L∞ %.3g·m^%s\n\n",
		f[L1].A, slope(f[L1].B), f[L2].A, slope(f[L2].B), f[Linf].A, slope(f[Linf].B))
	if len(pt) > 1 {
		for _, l := range strings.Split(Chart(rep, width, 16), "\n") {
			fmt.Fprintln(w, "  "+l)
		}
	}
}

// CSV is the tables of all problems as CSV, one row per problem and m.
func CSV(reps []Report) []byte {
	var b bytes.Buffer
	b.WriteString("target,dim,depth,teacher_width,coef,m,l1,l2,linf,sup_lower,sup_upper,slope_l1,slope_l2,slope_linf,slope_sup_upper,ref_l1,ref_l2,ref_linf,teachers,seeds,algorithms," +
		"l1_avg,l2_avg,linf_avg,sup_upper_avg,slope_l2_avg,slope_linf_avg,slope_sup_upper_avg,dropped\n")
	for _, r := range reps {
		p := r.Problem
		t := p.Target
		if t == "" {
			t = experiment.TargetTeacher
		}
		f, rs := r.Fits, r.RefSlope
		for _, pt := range r.Points {
			sup := func(v float64) string {
				if math.IsInf(v, 0) || math.IsNaN(v) {
					return ""
				}
				return fmt.Sprintf("%.10g", v)
			}
			fa := r.AvgFits
			fmt.Fprintf(&b, "%s,%d,%d,%d,%g,%d,%s,%s,%s,%s,%s,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%d,%d,%d,%s,%s,%s,%s,%.6g,%.6g,%.6g,%d\n", t, p.Dim, p.Depth, p.TeacherWidth, p.Coef,
				pt.M, sup(pt.Err[L1]), sup(pt.Err[L2]), sup(pt.Err[Linf]), sup(pt.Err[SupLower]), sup(pt.Err[SupUpper]), f[L1].B, f[L2].B, f[Linf].B, f[SupUpper].B, rs[L1], rs[L2], rs[Linf], pt.Teachers, pt.Seeds, pt.Algos,
				sup(pt.Avg[L1]), sup(pt.Avg[L2]), sup(pt.Avg[Linf]), sup(pt.Avg[SupUpper]), fa[L2].B, fa[Linf].B, fa[SupUpper].B, pt.Dropped)
		}
	}
	return b.Bytes()
}
