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
	fmt.Fprintf(w, "  %8s %12s %12s %12s %12s   %s\n", "m", L1, L2, Linf.String()+" sampled", "true sup ≤", "best algorithm for L∞")
	val := func(v float64) string {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return "—"
		}
		return fmt.Sprintf("%.4e", v)
	}
	for _, p := range pt {
		fmt.Fprintf(w, "  %8d %12.4e %12.4e %12.4e %12s   %s\n", p.M, p.Err[L1], p.Err[L2], p.Err[Linf], val(p.Err[SupUpper]), p.Best[Linf])
	}
	slope := func(v float64) string {
		if math.IsNaN(v) {
			return "—"
		}
		return fmt.Sprintf("%.3f", v)
	}
	f, r := rep.Fits, rep.RefSlope
	fmt.Fprintf(w, "  %8s %12s %12s %12s %12s\n", "slope b", slope(f[L1].B), slope(f[L2].B), slope(f[Linf].B), slope(f[SupUpper].B))
	fmt.Fprintf(w, "  %8s %12s %12s %12s %12s   (reference −(1/p + 1/d), constant 1)\n", "ref", slope(r[L1]), slope(r[L2]), slope(r[Linf]), slope(r[SupUpper]))
	fmt.Fprintf(w, "  (true sup ≤: the upper bound of sup|s − t| over the cube — exact in 1-D — aggregated the same way, over the checkpoints that carry it)\n")
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
	b.WriteString("target,dim,depth,teacher_width,coef,m,l1,l2,linf,sup_lower,sup_upper,slope_l1,slope_l2,slope_linf,slope_sup_upper,ref_l1,ref_l2,ref_linf,teachers,seeds,algorithms\n")
	for _, r := range reps {
		p := r.Problem
		t := p.Target
		if t == "" {
			t = experiment.TargetTeacher
		}
		f, rs := r.Fits, r.RefSlope
		for _, pt := range r.Points {
			sup := func(v float64) string {
				if math.IsInf(v, 0) {
					return ""
				}
				return fmt.Sprintf("%.10g", v)
			}
			fmt.Fprintf(&b, "%s,%d,%d,%d,%g,%d,%.10g,%.10g,%.10g,%s,%s,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%d,%d,%d\n", t, p.Dim, p.Depth, p.TeacherWidth, p.Coef,
				pt.M, pt.Err[L1], pt.Err[L2], pt.Err[Linf], sup(pt.Err[SupLower]), sup(pt.Err[SupUpper]), f[L1].B, f[L2].B, f[Linf].B, f[SupUpper].B, rs[L1], rs[L2], rs[Linf], pt.Teachers, pt.Seeds, pt.Algos)
		}
	}
	return b.Bytes()
}
