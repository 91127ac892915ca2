package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/report"
	"github.com/reluscope/reluscope/experiment/results"
	"github.com/reluscope/reluscope/internal/osutil"
)

// reportOptions are what reluscope report was asked to do.
type reportOptions struct {
	paths      []string
	csv, png   string // files to write the table and the figure to ("" none)
	style      string // the figure's style (paper, slide)
	width      int    // of the text chart
	failedRule string // nan or skip
}

// parseReport reads report's arguments (flag.ErrHelp after printing -h).
func parseReport(args []string, stdout io.Writer) (reportOptions, error) {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	var o reportOptions
	fs.StringVar(&o.csv, "csv", "", "also write the table as CSV to this file")
	fs.StringVar(&o.png, "png", "", "also write the figure to this file (.png, .svg or .pdf)")
	fs.StringVar(&o.style, "style", "paper", "the figure's style: paper (serif, every curve and constant) or slide (sans-serif, large text, curves that coincide drawn once)")
	fs.IntVar(&o.width, "width", 78, "width of the ASCII chart")
	fs.StringVar(&o.failedRule, "failed", "nan", "failed runs: nan (the reference's rule: a failed seed makes its algorithm drop out at that m) or skip (average the seeds that finished)")
	paths, err := parseArgs(fs, args, stdout, true)
	if err != nil {
		return o, err
	}
	o.paths = paths
	if len(paths) == 0 {
		return o, fmt.Errorf("report: name a results file or folder (e.g. results/sweep-smoke)")
	}
	if _, err := report.StyleOf(o.style); err != nil {
		return o, err
	}
	if o.width < 30 || o.width > 1000 {
		return o, fmt.Errorf("--width %d: the chart's width must be in [30, 1000]", o.width)
	}
	return o, nil
}

func cmdReport(_ context.Context, args []string, stdout, _ io.Writer) error {
	o, err := parseReport(args, stdout)
	if err != nil {
		return helpOK(err)
	}
	return o.run(stdout)
}

// run reads the results, aggregates them and writes the report.
func (o reportOptions) run(stdout io.Writer) error {
	paths, csvPath, figPath, width, failedRule := o.paths, &o.csv, &o.png, &o.width, &o.failedRule
	recs, err := results.ReadResults(paths...)
	if err != nil {
		return err
	}
	if *failedRule != "nan" && *failedRule != "skip" {
		return fmt.Errorf("--failed %s: want nan or skip", experiment.Quote(*failedRule))
	}
	recs = results.Dedup(recs)
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
		if err := osutil.WriteFileAtomic(*csvPath, report.CSV(reps)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "table written to %s\n", *csvPath)
	}
	if *figPath != "" {
		style, err := report.StyleOf(o.style)
		if err != nil {
			return err
		}
		if err := report.WriteFigureStyle(*figPath, reps, style); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "figure written to %s\n", *figPath)
	}
	return nil
}
