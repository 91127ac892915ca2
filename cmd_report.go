package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/report"
)

func cmdReport(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	csvPath := fs.String("csv", "", "also write the table as CSV to this file")
	figPath := fs.String("png", "", "also write the figure to this file (.png, .svg or .pdf)")
	width := fs.Int("width", 78, "width of the ASCII chart")
	failedRule := fs.String("failed", "nan", "failed runs: nan (the reference's rule: a failed seed makes its algorithm drop out at that m) or skip (average the seeds that finished)")
	paths, err := parseArgs(fs, args, stdout, true)
	if err != nil {
		return helpOK(err)
	}
	if len(paths) == 0 {
		return fmt.Errorf("report: name a results file or folder (e.g. results/sweep-smoke)")
	}
	if *width < 30 || *width > 1000 {
		return fmt.Errorf("--width %d: the chart's width must be in [30, 1000]", *width)
	}
	recs, err := experiment.ReadResults(paths...)
	if err != nil {
		return err
	}
	if *failedRule != "nan" && *failedRule != "skip" {
		return fmt.Errorf("--failed %q: want nan or skip", *failedRule)
	}
	recs = experiment.Dedup(recs)
	reps := report.AggregateWith(recs, *failedRule == "skip")
	if len(reps) == 0 {
		return fmt.Errorf("report: no finished runs in %s", strings.Join(paths, ", "))
	}
	failed := 0
	for _, r := range recs {
		if r.Error != "" {
			failed++
		}
	}
	dropped := 0
	for _, rep := range reps {
		for _, p := range rep.Points {
			dropped += p.Dropped
		}
	}
	rule := fmt.Sprintf("%d failed: as in the reference, each makes its algorithm drop out at its m — %d (m, algorithm) cells dropped; --failed skip averages the seeds that finished instead", failed, dropped)
	if *failedRule == "skip" {
		rule = fmt.Sprintf("%d failed, left out: the seeds that finished are averaged (--failed skip)", failed)
	}
	fmt.Fprintf(stdout, "%d runs (%s). Error = min over algorithms of max (min-max) or mean (min-avg) over teachers of the mean over seeds.\n", len(recs), rule)
	for _, rep := range reps {
		report.WriteText(stdout, rep, *width)
	}
	if *csvPath != "" {
		if err := experiment.WriteFileAtomic(*csvPath, report.CSV(reps)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "table written to %s\n", *csvPath)
	}
	if *figPath != "" {
		if err := report.WriteFigure(*figPath, reps); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "figure written to %s\n", *figPath)
	}
	return nil
}
