package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/results"
)

// cmdSweepStatus prints where a grid's runs stand in a results folder.
func cmdSweepStatus(_ context.Context, args []string, stdout, _ io.Writer) error {
	s := newSweepFlags("sweep status")
	s.ignoreMem = true
	block := s.fs.Int("block", 1000, "indices per Slurm array (its MaxArraySize − 1 at most): the missing runs are printed as one --offset and --array per block")
	partial := s.fs.Bool("allow-partial", false, "exit 0 when runs are not finished (missing, failed or in progress); else exit 3")
	var dir string
	if len(args) >= 2 && !strings.HasPrefix(args[1], "-") {
		dir, args = args[1], append([]string{args[0]}, args[2:]...)
	}
	p, err := s.parse(args, stdout)
	if err != nil {
		return helpOK(err)
	}
	if dir == "" {
		dir = s.out
	}
	if *block < 1 {
		return fmt.Errorf("--block %d: must be ≥ 1", *block)
	}
	w, err := s.walk(p)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s is not a folder of results (nothing of the grid ran there; sweep plan prints the first submission)", experiment.Quote(dir))
	}
	st, err := results.Status(dir, p.Name, w.g.Variant(), w.all())
	if err == nil {
		err = w.err
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (variant %s) in %s: %d runs — %d finished, %d failed, %d in progress (a saved state), %d missing\n",
		p.Name, w.g.Variant(), dir, st.Runs, st.Finished.Len(), st.Failed.Len(), st.InProgress.Len(), st.Missing.Len())
	for _, o := range st.Others {
		set, diff := variantSets(w.g, o.First, s.sets)
		fmt.Fprintf(stdout, "also in %s: %d record%s of variant %s of %s (%s), not counted here: sweep status %s %s%s counts them\n",
			dir, o.Records, map[bool]string{true: "", false: "s"}[o.Records == 1], o.Variant, p.Name, diff, experiment.ShellQuote(s.presetArg), experiment.ShellQuote(dir), set)
	}
	if st.Missing.Len() == st.Runs {
		return fmt.Errorf("none of the %d runs of %s (variant %s) is in %s: another preset or --set, or a mistyped folder?", st.Runs, p.Name, w.g.Variant(), experiment.Quote(dir))
	}
	if st.Failed.Len() > 0 {
		fmt.Fprintf(stdout, "failed: %s (their errors are in the records; --retry-failed runs them again)\n", st.Failed.Spec())
	}
	if st.InProgress.Len() > 0 {
		fmt.Fprintf(stdout, "in progress: %s (stopped part-way or running: submitted again, each goes on from its state)\n", st.InProgress.Spec())
	}
	if st.Missing.Len() > 0 {
		fmt.Fprintf(stdout, "missing: %s\n", st.Missing.Spec())
	}
	if st.ToRun.Len() > 0 {
		offs, specs := st.ToRun.Blocks(*block)
		extra := ""
		for _, kv := range s.sets {
			extra += " --set " + experiment.ShellQuote(kv)
		}
		for _, l := range s.limits {
			extra += " --limit " + experiment.ShellQuote(l)
		}
		fmt.Fprintln(stdout, "to submit (missing and in progress):")
		for i, k := range offs {
			fmt.Fprintf(stdout, "  sbatch --array=%s examples/slurm-array.sh %s --offset %d%s\n", specs[i], experiment.ShellQuote(s.presetArg), k, extra)
		}
	}
	if n := st.Runs - st.Finished.Len(); n > 0 && !*partial {
		return &exitError{exitIncomplete, fmt.Errorf("sweep status: %d of the %d runs are not finished (exit 3; --allow-partial exits 0)", n, st.Runs)}
	}
	return nil
}
