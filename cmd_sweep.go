package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/results"
)

// sweepCommands are sweep's subcommands, in the usage's order: each
// stands alone, as the commands do (cmdNAME(ctx, args, stdout, stderr)).
var sweepCommands []command

func init() {
	sweepCommands = []command{
		{"count", "PRESET [flags]", "print the number of runs", cmdSweepCount},
		{"run", "PRESET --index I [flags]", "run the I-th run only (I defaults to $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX)", cmdSweepRun},
		{"plan", "PRESET [flags]", "the grid's classes of runs: their cost here, what to ask a cluster for (--time, --mem), Slurm scripts (--sbatch DIR)", cmdSweepPlan},
		{"status", "PRESET DIR [flags]", "finished, failed, in progress and missing runs of DIR, the missing ones as Slurm --array specs", cmdSweepStatus},
		{"merge", "[--out FILE] PATH...", "merge result files and folders, dropping duplicates", cmdSweepMerge},
	}
}

// sweepUsage is the text of reluscope sweep -h, made from sweepCommands.
func sweepUsage() string {
	var b strings.Builder
	b.WriteString("usage:\n")
	// The summaries wrap at 100 columns under their first word.
	line := func(args, summary string) {
		lead := fmt.Sprintf("  reluscope sweep %-28s ", args)
		col := len(lead)
		b.WriteString(lead)
		for i, word := range strings.Fields(summary) {
			if i > 0 && col+1+len(word) > 100 {
				fmt.Fprintf(&b, "\n%s", strings.Repeat(" ", len(lead)))
				col = len(lead)
			} else if i > 0 {
				b.WriteByte(' ')
				col++
			}
			b.WriteString(word)
			col += len(word)
		}
		b.WriteByte('\n')
	}
	line("PRESET [flags]", "run the preset's grid on local workers (resumable)")
	for _, c := range sweepCommands {
		line(c.name+" "+c.args, c.summary)
	}
	b.WriteString("flags of all but merge: --out DIR, --set key=value, --limit axis=N, --workers N (see -h of each)\n")
	return b.String()
}

// cmdSweepCount prints the grid's number of runs: no memory check (a
// login node counts a grid it would not run).
func cmdSweepCount(_ context.Context, args []string, stdout, _ io.Writer) error {
	s := newSweepFlags("sweep count")
	s.ignoreMem = true
	p, err := s.parse(args, stdout)
	if err == nil {
		err = s.probe(p, 1)
	}
	if err != nil {
		return helpOK(err)
	}
	fmt.Fprintln(stdout, p.Sweep.Len())
	return nil
}

func cmdSweep(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		for _, c := range sweepCommands {
			if args[0] == c.name {
				return c.run(ctx, args[1:], stdout, stderr)
			}
		}
		switch args[0] {
		case "-h", "-help", "--help", "help":
			fmt.Fprint(stdout, sweepUsage())
			return nil
		}
	}
	s := newSweepFlags("sweep")
	p, err := s.parse(args, stdout)
	if err != nil {
		return helpOK(err)
	}
	w, err := s.walk(p)
	if err == nil {
		err = s.check(w)
	}
	if err != nil {
		return err
	}
	runs := w.g.Len()
	dir, err := results.LockResults(s.out)
	if err != nil {
		return err
	}
	defer dir.Close()
	resultsFile := dir.File()
	todo, failed, err := dir.Pending(w.g.Len(), w.all(), s.retryFailed)
	if err == nil {
		err = w.err
	}
	if err != nil {
		return err
	}
	note := ""
	switch {
	case failed > 0 && s.retryFailed:
		note = fmt.Sprintf(" (%d failed before: run again)", failed)
	case failed > 0:
		note = fmt.Sprintf(" (%d of them failed: --retry-failed runs them again)", failed)
	}
	workers := min(s.workers, max(1, todo.Len()))
	fmt.Fprintf(stderr, "sweep %s: %d runs, %d already done in %s%s, %d to go on %d workers\n",
		p.Name, runs, runs-todo.Len(), s.out, note, todo.Len(), workers)
	if todo.Len() == 0 {
		if failed > 0 {
			return &exitError{exitRunsFailed, fmt.Errorf("nothing to run, but %d of the %d runs in %s failed (--retry-failed runs them again)", failed, runs, resultsFile)}
		}
		return nil
	}
	bar := newProgress(stderr, todo.Len())
	err = results.RunPool(ctx, w.at(todo.All()), workers, p.Name, dir.StatePath, func(r results.Record) error {
		if err := dir.Append(r); err != nil {
			return err
		}
		if r.StateNote != "" {
			bar.note(fmt.Sprintf("run %d: %s", r.Index, r.StateNote))
		}
		bar.add(r)
		return nil
	})
	bar.finish()
	if err == nil {
		err = w.err
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted: %d runs saved in %s; run the same command to resume", bar.done, resultsFile)
	}
	if err != nil {
		return err
	}
	if bar.failed > 0 {
		return &exitError{exitRunsFailed, fmt.Errorf("results in %s: %d of %d runs failed (their errors are in the records; --retry-failed runs them again)", resultsFile, bar.failed, bar.done)}
	}
	fmt.Fprintf(stderr, "results in %s (0 failed runs)\n", resultsFile)
	return nil
}

func cmdSweepRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s := newSweepFlags("sweep run")
	index := s.fs.Int("index", -1, "the run to do, 0-based (default $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX)")
	offset := s.fs.Int("offset", 0, "added to the index: the run is OFFSET + INDEX (a Slurm array's indices stay below its MaxArraySize; --offset 1000 with --array=0-999 runs 1000–1999)")
	p, err := s.parse(args, stdout)
	if err != nil {
		return helpOK(err)
	}
	i := *index
	given := false
	s.fs.Visit(func(f *flag.Flag) { given = given || f.Name == "index" })
	if given && i < 0 {
		return fmt.Errorf("--index %d: an index is ≥ 0", i)
	}
	if !given {
		for _, env := range []string{"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"} {
			if v := os.Getenv(env); v != "" {
				if i, err = strconv.Atoi(v); err != nil {
					return fmt.Errorf("$%s=%s is not an index", env, experiment.Quote(v))
				}
				break
			}
		}
	}
	if *offset < 0 {
		return fmt.Errorf("--offset %d: an offset is ≥ 0", *offset)
	}
	if i >= 0 {
		i += *offset
	}
	n := p.Sweep.Len()
	if i < 0 || i >= n {
		return fmt.Errorf("run %d (--offset %d + --index or $SLURM_ARRAY_TASK_ID / $JOB_COMPLETION_INDEX) is out of range [0, %d)", i, *offset, n)
	}
	// Only run i is built: an array task does not build the whole grid.
	g, err := p.NewGrid(s.sets)
	if err != nil {
		return err
	}
	job, err := g.Job(i)
	cfg := job.Config
	if err == nil {
		err = cfg.CheckLearnerSize()
	}
	if err != nil {
		return fmt.Errorf("run %d: %w", i, err)
	}
	// Its own cores: the task's allocation (Slurm's --cpus-per-task; a node
	// without CPU binding shows all its cores), else the visible ones.
	threads := taskThreads()
	if !s.ignoreMem {
		if err := experiment.CheckMemory(cfg, threads, 1); err != nil {
			return err
		}
		experiment.LimitMemory(experiment.MemoryEstimate(cfg, threads))
	}
	// The folder is made and checked before training, not after it.
	if err := checkOutDir(s.out); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	dir, err := results.OpenResults(s.out)
	if err != nil {
		return err
	}
	release, err := dir.LockRun(job)
	if err != nil {
		return err
	}
	defer release()
	path, state := dir.ShardPath(job), dir.StatePath(job)
	if dir.Shard(job) != nil {
		// A state left beside a finished record (a copy that was stopped
		// while another finished) is of no more use.
		removed := ""
		if os.Remove(state) == nil {
			removed = " (its stale state removed)"
		}
		fmt.Fprintf(stderr, "run %d already finished in %s%s\n", i, path, removed)
		return nil
	}
	rec, err := results.RunJob(ctx, job, p.Name, threads, state, func(st *experiment.RunState, note string) {
		switch {
		case note != "":
			fmt.Fprintf(stderr, "run %d: %s\n", i, note)
		case st != nil:
			fmt.Fprintf(stderr, "run %d goes on from its saved state %s (epoch %d)\n", i, state, st.Epoch)
		}
	})
	if errors.Is(err, context.Canceled) {
		if _, serr := os.Stat(state); serr == nil {
			return &exitError{exitStopped, fmt.Errorf("run %d stopped: its state is saved in %s; the same command goes on from there", i, state)}
		}
		return &exitError{exitStopped, fmt.Errorf("run %d stopped before its first checkpoint: nothing saved (the same command starts it again)", i)}
	}
	if err != nil {
		return err
	}
	if err := dir.WriteShard(job, rec); err != nil {
		return err
	}
	if rec.Error != "" {
		return &exitError{exitRunsFailed, fmt.Errorf("run %d of %d failed (its record is in %s): %s", i, n, path, rec.Error)}
	}
	fmt.Fprintf(stderr, "run %d of %d done in %.1fs: %s\n", i, n, rec.Seconds, recordSummary(rec))
	return nil
}

// taskThreads is the cores a task computes on: $SLURM_CPUS_PER_TASK when
// Slurm set it (and it is fewer than the visible cores), else all visible.
func taskThreads() int {
	n := runtime.NumCPU()
	if v, err := strconv.Atoi(os.Getenv("SLURM_CPUS_PER_TASK")); err == nil && v >= 1 {
		n = min(n, v)
	}
	return n
}

func recordSummary(r results.Record) string {
	c := r.Config
	s := fmt.Sprintf("m=%d width=%d batch=%s teacher=%d seed=%d", c.Samples, c.Width, c.Batch, c.TeacherSeed, c.InitSeed)
	if r.Error != "" {
		return s + "  FAILED: " + r.Error
	}
	if n := len(r.History); n > 0 {
		f := r.History[n-1]
		short := func(v float64) string {
			if math.IsNaN(v) {
				return "—"
			}
			return fmt.Sprintf("%.3g", v)
		}
		s += "  L2 " + short(f.L2) + "  L∞ " + short(f.Linf)
	}
	return s
}

// progress prints a bar with an ETA: redrawn in place on a terminal, a line
// per run otherwise.
type progress struct {
	w            io.Writer
	tty          bool
	total, done  int
	failed       int
	start        time.Time
	lastLineSize int
}

func newProgress(w io.Writer, total int) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = isatty.IsTerminal(f.Fd())
	}
	return &progress{w: w, tty: tty, total: total, start: time.Now()}
}

func (p *progress) add(r results.Record) {
	p.done++
	if r.Error != "" {
		p.failed++
	}
	el := time.Since(p.start)
	eta := time.Duration(float64(el) / float64(p.done) * float64(p.total-p.done))
	const width = 24
	fill := p.done * width / p.total
	line := fmt.Sprintf("[%s%s] %d/%d runs  %s elapsed  ETA %s  last: %s", strings.Repeat("#", fill), strings.Repeat(".", width-fill),
		p.done, p.total, el.Round(time.Second), eta.Round(time.Second), recordSummary(r))
	if p.tty {
		fmt.Fprintf(p.w, "\r%-*s", p.lastLineSize, line)
		p.lastLineSize = len(line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}

// note prints a line of its own above the bar.
func (p *progress) note(line string) {
	if p.tty && p.lastLineSize > 0 {
		fmt.Fprintf(p.w, "\r%-*s\r", p.lastLineSize, "")
	}
	fmt.Fprintln(p.w, line)
}

func (p *progress) finish() {
	if p.tty && p.done > 0 {
		fmt.Fprintln(p.w)
	}
}
