package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/tui"
)

func cmdReport(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	csvPath := fs.String("csv", "", "also write the table as CSV to this file")
	figPath := fs.String("png", "", "also write the figure to this file (.png, .svg or .pdf)")
	width := fs.Int("width", 78, "width of the ASCII chart")
	paths, err := parsePositional(fs, args, stdout)
	if err != nil {
		return helpOK(err)
	}
	if len(paths) == 0 {
		return fmt.Errorf("report: name a results file or folder (e.g. results/sweep-smoke)")
	}
	recs, err := experiment.ReadResults(paths...)
	if err != nil {
		return err
	}
	recs = experiment.Dedup(recs)
	reps := experiment.Aggregate(recs)
	if len(reps) == 0 {
		return fmt.Errorf("report: no finished runs in %s", strings.Join(paths, ", "))
	}
	failed := 0
	for _, r := range recs {
		if r.Error != "" {
			failed++
		}
	}
	fmt.Fprintf(stdout, "%d runs (%d failed, left out). Error = min over algorithms of max over teachers of the mean over seeds.\n", len(recs), failed)
	for _, rep := range reps {
		writeReport(stdout, rep, *width)
	}
	if *csvPath != "" {
		if err := experiment.WriteFileAtomic(*csvPath, reportCSV(reps)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "table written to %s\n", *csvPath)
	}
	if *figPath != "" {
		if err := experiment.WriteFigure(*figPath, reps); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "figure written to %s\n", *figPath)
	}
	return nil
}

func writeReport(w io.Writer, rep experiment.Report, width int) {
	pt := rep.Points
	fmt.Fprintf(w, "\n%s\n", rep.Problem)
	if len(pt) > 0 {
		fmt.Fprintf(w, "  per m: %d algorithms, up to %d teachers, %d seeds\n", pt[0].Algos, pt[0].Teachers, pt[0].Seeds)
	}
	fmt.Fprintf(w, "  %8s %12s %12s %12s   %s\n", "m", "L1", "L2", "L∞", "best algorithm for L∞")
	for _, p := range pt {
		fmt.Fprintf(w, "  %8d %12.4e %12.4e %12.4e   %s\n", p.M, p.Err[0], p.Err[1], p.Err[2], p.Best[2])
	}
	slope := func(v float64) string {
		if math.IsNaN(v) {
			return "—"
		}
		return fmt.Sprintf("%.3f", v)
	}
	fmt.Fprintf(w, "  %8s %12s %12s %12s\n", "slope b", slope(rep.Fits[0].B), slope(rep.Fits[1].B), slope(rep.Fits[2].B))
	fmt.Fprintf(w, "  %8s %12s %12s %12s   (reference −(1/p + 1/d), constant 1)\n", "ref", slope(rep.RefSlope[0]), slope(rep.RefSlope[1]), slope(rep.RefSlope[2]))
	fmt.Fprintf(w, "  fit err ≈ a·m^b:  L1 %.3g·m^%s   L2 %.3g·m^%s   L∞ %.3g·m^%s\n\n",
		rep.Fits[0].A, slope(rep.Fits[0].B), rep.Fits[1].A, slope(rep.Fits[1].B), rep.Fits[2].A, slope(rep.Fits[2].B))
	if len(pt) > 1 {
		for _, l := range strings.Split(tui.ReportChart(rep, width, 16), "\n") {
			fmt.Fprintln(w, "  "+l)
		}
	}
}

func reportCSV(reps []experiment.Report) []byte {
	var b bytes.Buffer
	b.WriteString("target,dim,depth,teacher_width,coef,m,l1,l2,linf,slope_l1,slope_l2,slope_linf,ref_l1,ref_l2,ref_linf,teachers,seeds,algorithms\n")
	for _, r := range reps {
		p := r.Problem
		t := p.Target
		if t == "" {
			t = experiment.TargetTeacher
		}
		for _, pt := range r.Points {
			fmt.Fprintf(&b, "%s,%d,%d,%d,%g,%d,%.10g,%.10g,%.10g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%d,%d,%d\n", t, p.Dim, p.Depth, p.TeacherWidth, p.Coef,
				pt.M, pt.Err[0], pt.Err[1], pt.Err[2], r.Fits[0].B, r.Fits[1].B, r.Fits[2].B, r.RefSlope[0], r.RefSlope[1], r.RefSlope[2], pt.Teachers, pt.Seeds, pt.Algos)
		}
	}
	return b.Bytes()
}
