package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/presets"
)

const sweepUsage = `usage:
  reluscope sweep PRESET [flags]              run the preset's grid on local workers (resumable)
  reluscope sweep count PRESET [flags]        print the number of runs
  reluscope sweep run PRESET --index I [flags]  run the I-th run only (I defaults to
                                              $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX)
  reluscope sweep plan PRESET [flags]         the grid's classes of runs: their cost here, what to ask
                                              a cluster for (--time, --mem), Slurm scripts (--sbatch DIR)
  reluscope sweep status PRESET DIR [flags]   finished, failed, in progress and missing runs of DIR,
                                              the missing ones as Slurm --array specs
  reluscope sweep merge [--out FILE] PATH...  merge result files and folders, dropping duplicates
flags of all but merge: --out DIR, --set key=value, --limit axis=N, --workers N (see -h of each)
`

// sweepFlags are shared by sweep, sweep count and sweep run.
type sweepFlags struct {
	fs      *flag.FlagSet
	out     string
	sets    multiFlag
	limits  multiFlag
	workers int
	// ignoreMem skips the memory check (--ignore-memory).
	ignoreMem bool
	// retryFailed runs the failed runs of an earlier sweep again.
	retryFailed bool
	// presetArg is PRESET as given (a name or a file).
	presetArg string
}

func newSweepFlags(name string) *sweepFlags {
	s := &sweepFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	s.fs.StringVar(&s.out, "out", "", "results folder (default results/sweep-PRESET)")
	s.fs.Var(&s.sets, "set", "override a config value in every run, key=value (repeatable; applied after the grid)")
	s.fs.Var(&s.limits, "limit", "keep the first N values of an axis, axis=N (repeatable), e.g. --limit teacher_seed=5")
	s.fs.IntVar(&s.workers, "workers", runtime.NumCPU(), "runs in parallel")
	s.fs.BoolVar(&s.retryFailed, "retry-failed", false, "run again the runs that failed before (a finished copy then wins over the failed one)")
	s.fs.BoolVar(&s.ignoreMem, "ignore-memory", false, "run even when the runs at once are estimated to need more than 90% of the available memory")
	return s
}

// parse reads PRESET and the flags (in either order); the runs are not
// built yet (jobs builds them all, probe checks the grid cheaply).
func (s *sweepFlags) parse(args []string, stdout io.Writer) (presets.Preset, error) {
	pos, err := parseArgs(s.fs, args, stdout, true)
	if err != nil {
		return presets.Preset{}, err
	}
	if len(pos) != 1 {
		return presets.Preset{}, fmt.Errorf("%s: want one PRESET, got %d arguments\n%s", s.fs.Name(), len(pos), sweepUsage)
	}
	p, err := presets.Load(pos[0])
	if err != nil {
		return p, err
	}
	s.presetArg = pos[0]
	if p.Sweep == nil {
		return p, fmt.Errorf("preset %s has no sweep: grid (use reluscope run --preset %s)", p.Name, p.Name)
	}
	for _, l := range s.limits {
		k, v, ok := strings.Cut(l, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			return p, fmt.Errorf("--limit %s: want axis=N", experiment.Quote(l))
		}
		if err := p.Sweep.Limit(k, n); err != nil {
			return p, err
		}
	}
	if s.workers < 1 {
		return p, fmt.Errorf("--workers %d: must be ≥ 1", s.workers)
	}
	// A --set of a key an axis sets would make runs of that axis the same.
	for _, kv := range s.sets {
		k, _, _ := strings.Cut(kv, "=")
		for _, key := range presets.SetKeys(strings.TrimSpace(k)) {
			for _, a := range p.Sweep.Axes {
				if len(a.Values) < 2 {
					continue // one value left (--limit): nothing repeats
				}
				for _, ak := range strings.Split(a.Name, "+") {
					for _, akey := range presets.SetKeys(ak) {
						if akey == key {
							return p, fmt.Errorf("--set %s: the sweep's axis %s sets %s too, so its runs would repeat; use --limit %s=N to keep fewer of its values", experiment.Excerpt(kv, 40), a.Name, key, a.Name)
						}
					}
				}
			}
		}
	}
	if s.out == "" {
		s.out = filepath.Join("results", "sweep-"+p.Name)
	}
	return p, nil
}

// gridWalk walks a preset's grid run by run, each built and checked as it
// comes (nothing is listed: a grid of 10⁷ runs takes the memory of one).
// A walk stops at the first run that fails its check; err keeps why. big
// is the largest run met so far, by memory.
type gridWalk struct {
	g      *presets.Grid
	err    error
	big    experiment.Config
	bigMem uint64
}

func (s *sweepFlags) walk(p presets.Preset) (*gridWalk, error) {
	g, err := p.NewGrid(s.sets)
	if err != nil {
		return nil, err
	}
	return &gridWalk{g: g}, nil
}

// all yields every run of the grid in index order.
func (w *gridWalk) all() iter.Seq[experiment.Job] {
	return w.at(func(yield func(int) bool) {
		for i := range w.g.Len() {
			if !yield(i) {
				return
			}
		}
	})
}

// at yields the runs of the indices idx.
func (w *gridWalk) at(idx iter.Seq[int]) iter.Seq[experiment.Job] {
	return func(yield func(experiment.Job) bool) {
		for i := range idx {
			j, err := w.g.Job(i)
			if err == nil {
				err = j.Config.CheckLearnerSize()
			}
			if err != nil {
				w.err = fmt.Errorf("run %d: %w", i, err)
				return
			}
			if m := experiment.MemoryEstimate(j.Config, 1); m > w.bigMem {
				w.big, w.bigMem = j.Config, m
			}
			if !yield(j) {
				return
			}
		}
	}
}

// check walks every run; then, unless --ignore-memory, checks the memory
// of the largest, as many at once as there are workers, each on its share
// of the cores, and bounds the heap to that.
func (s *sweepFlags) check(w *gridWalk) error {
	for range w.all() {
	}
	if w.err != nil || s.ignoreMem {
		return w.err
	}
	n := min(s.workers, w.g.Len())
	threads := max(1, runtime.NumCPU()/n)
	if err := experiment.CheckMemory(w.big, threads, n); err != nil {
		return err
	}
	experiment.LimitMemory(experiment.MemoryEstimate(w.big, threads) * uint64(n))
	return nil
}

// probe checks the grid without building every run (presets.Probe: each
// axis's values once) and the memory of its largest run, copies at once.
func (s *sweepFlags) probe(p presets.Preset, copies int) error {
	big, err := p.Probe(s.sets, experiment.Config.CheckLearnerSize, func(c experiment.Config) float64 {
		return float64(experiment.MemoryEstimate(c, 1))
	})
	if err != nil || s.ignoreMem {
		return err
	}
	copies = max(1, min(copies, p.Sweep.Len()))
	return experiment.CheckMemory(big, max(1, runtime.NumCPU()/copies), copies)
}

func cmdSweep(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "count":
			// The count only: no memory check (a login node counts a grid
			// it would not run).
			s := newSweepFlags("sweep count")
			s.ignoreMem = true
			p, err := s.parse(args[1:], stdout)
			if err == nil {
				err = s.probe(p, 1)
			}
			if err != nil {
				return helpOK(err)
			}
			fmt.Fprintln(stdout, p.Sweep.Len())
			return nil
		case "status":
			return cmdSweepStatus(args[1:], stdout)
		case "plan":
			return cmdSweepPlan(args[1:], stdout)
		case "run":
			return cmdSweepRun(ctx, args[1:], stdout, stderr)
		case "merge":
			return cmdSweepMerge(args[1:], stdout, stderr)
		case "-h", "-help", "--help", "help":
			fmt.Fprint(stdout, sweepUsage)
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
	dir, err := experiment.LockResults(s.out)
	if err != nil {
		return err
	}
	defer dir.Close()
	results := dir.File()
	todo, failed, err := dir.Pending(w.all(), s.retryFailed)
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
			return &exitError{exitRunsFailed, fmt.Errorf("nothing to run, but %d of the %d runs in %s failed (--retry-failed runs them again)", failed, runs, results)}
		}
		return nil
	}
	bar := newProgress(stderr, todo.Len())
	err = experiment.RunPool(ctx, w.at(todo.All()), workers, p.Name, dir.StatePath, func(r experiment.Record) error {
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
		return fmt.Errorf("interrupted: %d runs saved in %s; run the same command to resume", bar.done, results)
	}
	if err != nil {
		return err
	}
	if bar.failed > 0 {
		return &exitError{exitRunsFailed, fmt.Errorf("results in %s: %d of %d runs failed (their errors are in the records; --retry-failed runs them again)", results, bar.failed, bar.done)}
	}
	fmt.Fprintf(stderr, "results in %s (0 failed runs)\n", results)
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
	dir, err := experiment.OpenResults(s.out)
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
	rec, err := experiment.RunJob(ctx, job, p.Name, threads, state, func(st *experiment.RunState, note string) {
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

// cmdSweepStatus prints where a grid's runs stand in a results folder.
func cmdSweepStatus(args []string, stdout io.Writer) error {
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
	st, err := experiment.Status(dir, p.Name, w.g.Variant(), w.all())
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

func cmdSweepMerge(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sweep merge", flag.ContinueOnError)
	out := fs.String("out", "", "write the merged results to this file (atomically); default stdout")
	partial := fs.Bool("allow-partial", false, "exit 0 when the records have gaps (indices below the largest without a record) or failed runs; else exit 3, what was merged written")
	variant := fs.String("variant", "", "the grid variant to keep when the records hold several of one preset (--set overrides of the same grid): its hash (a prefix), or all to keep every variant")
	paths, err := parseArgs(fs, args, stdout, true)
	if err != nil {
		return helpOK(err)
	}
	if len(paths) == 0 {
		return fmt.Errorf("sweep merge: name result files or folders to merge")
	}
	merged, read, conflicts, err := experiment.MergeResults(paths...)
	if err != nil {
		return err
	}
	if len(merged) == 0 {
		return fmt.Errorf("sweep merge: no records in %s: nothing written", strings.Join(paths, ", "))
	}
	// Variants of one grid (--set width=512 on the same preset) share its
	// indices, never its results: one is kept, or all on request.
	switch vs := variants(merged); {
	case *variant == "all":
	case *variant != "":
		var keep []experiment.Record
		for _, r := range merged {
			if strings.HasPrefix(r.Variant, *variant) {
				keep = append(keep, r)
			}
		}
		if len(keep) == 0 {
			return fmt.Errorf("sweep merge: no record of variant %s (the records' variants: %s)", experiment.Quote(*variant), strings.Join(variantNames(vs), ", "))
		}
		merged = keep
	default:
		for _, v := range vs {
			if len(v.names) > 1 || v.clash >= 0 {
				return fmt.Errorf("sweep merge: the records of %s are of %s; a report of them together would mix them: merge one with --variant HASH, or --variant all", v.preset, v.describe())
			}
		}
	}
	if conflicts > 0 {
		fmt.Fprintf(stderr, "sweep merge: %d runs had copies that disagree (a failed and a finished copy, or different results); kept the finished copy, else the first\n", conflicts)
	}
	holes := gaps(merged)
	for _, g := range holes {
		fmt.Fprintf(stderr, "sweep merge: %s\n", g)
	}
	incomplete := func() error {
		if len(holes) == 0 || *partial {
			return nil
		}
		return &exitError{exitIncomplete, fmt.Errorf("sweep merge: the records are incomplete (above): merged as far as they go, exit 3 (--allow-partial exits 0)")}
	}
	if *out == "" {
		for _, r := range merged {
			if err := writeJSONLine(stdout, r); err != nil {
				return err
			}
		}
		return incomplete()
	}
	if err := experiment.WriteRecordsAtomic(*out, merged); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "merged %d records (%d duplicates dropped) into %s\n", len(merged), read-len(merged), *out)
	return incomplete()
}

// presetVariants is what the records of one preset hold: each variant's
// records (by Record.Variant; "" for records written before variants
// were), an index with two different configs (clash, else −1) and, for
// the first variant that differs from another at one index, how.
type presetVariants struct {
	preset string
	names  []string
	count  map[string]int
	clash  int
	diff   string
}

func (v presetVariants) describe() string {
	var parts []string
	for _, n := range v.names {
		label := n
		if label == "" {
			label = "(unrecorded)"
		}
		parts = append(parts, fmt.Sprintf("%s (%d record%s)", label, v.count[n], map[bool]string{true: "", false: "s"}[v.count[n] == 1]))
	}
	s := fmt.Sprintf("%d variants: %s", len(v.names), strings.Join(parts, ", "))
	if len(v.names) == 1 {
		s = "one variant whose index " + strconv.Itoa(v.clash) + " has two configs"
	}
	if v.diff != "" {
		s += " — at one index they differ in " + v.diff
	}
	return s
}

// variants groups records by preset and variant, in order of appearance.
func variants(recs []experiment.Record) []presetVariants {
	var out []presetVariants
	at := map[string]int{}
	first := map[string]map[int]experiment.Record{}
	for _, r := range recs {
		k, ok := at[r.Preset]
		if !ok {
			k = len(out)
			at[r.Preset] = k
			out = append(out, presetVariants{preset: r.Preset, count: map[string]int{}, clash: -1})
			first[r.Preset] = map[int]experiment.Record{}
		}
		v := &out[k]
		if v.count[r.Variant] == 0 {
			v.names = append(v.names, r.Variant)
		}
		v.count[r.Variant]++
		if f, ok := first[r.Preset][r.Index]; !ok {
			first[r.Preset][r.Index] = r
		} else if f.Hash != r.Hash && v.diff == "" {
			v.diff = configDiff(f.Config, r.Config)
			if f.Variant == r.Variant && v.clash < 0 {
				v.clash = r.Index
			}
		}
	}
	return out
}

// variantNames lists every preset's variants.
func variantNames(vs []presetVariants) []string {
	var out []string
	for _, v := range vs {
		for _, n := range v.names {
			out = append(out, fmt.Sprintf("%s of %s", n, v.preset))
		}
	}
	return out
}

// variantSets is how a record of another variant differs from the run of
// its index in grid g (made with the --sets sets): as the --set flags of
// its variant ("" when they cannot be told) and in words ("width 32 ≠ 512").
func variantSets(g *presets.Grid, r experiment.Record, sets []string) (string, string) {
	if r.Index < 0 || r.Index >= g.Len() {
		return "", "index " + strconv.Itoa(r.Index) + " is past this grid"
	}
	j, err := g.Job(r.Index)
	if err != nil {
		return "", "its run here cannot be built"
	}
	// This grid's --sets, but those of the keys that differ, then theirs.
	differ := map[string]string{}
	var keys []string
	for _, st := range experiment.Settings {
		if x := r.Config.Value(st.Key); x != j.Config.Value(st.Key) {
			differ[st.Key] = x
			keys = append(keys, st.Key)
		}
	}
	set := ""
	for _, kv := range sets {
		if k, _, _ := strings.Cut(kv, "="); differ[strings.TrimSpace(k)] == "" {
			set += " --set " + experiment.ShellQuote(kv)
		}
	}
	for _, k := range keys {
		set += " --set " + experiment.ShellQuote(k+"="+differ[k])
	}
	return set, configDiff(j.Config, r.Config)
}

// configDiff says which settings differ: "width 32 ≠ 512".
func configDiff(a, b experiment.Config) string {
	var diffs []string
	for _, st := range experiment.Settings {
		if x, y := a.Value(st.Key), b.Value(st.Key); x != y {
			diffs = append(diffs, fmt.Sprintf("%s %s ≠ %s", st.Key, x, y))
		}
	}
	return strings.Join(diffs, ", ")
}

// gaps says, per preset, which indices below its largest have no record
// (runs not yet done, or lost) and how many failed: a merge of an
// unfinished grid says so instead of looking complete.
func gaps(recs []experiment.Record) []string {
	type seen struct {
		max    int
		have   map[int]bool
		failed int
	}
	by := map[string]*seen{}
	var names []string
	label := map[string]string{}
	for _, r := range recs {
		// Per variant: one variant's record never fills another's gap.
		key := r.Preset + "\x00" + r.Variant
		s := by[key]
		if s == nil {
			s = &seen{max: -1, have: map[int]bool{}}
			by[key] = s
			names = append(names, key)
			label[key] = r.Preset
			if r.Variant != "" {
				label[key] = fmt.Sprintf("%s (variant %s)", r.Preset, r.Variant)
			}
		}
		s.max = max(s.max, r.Index)
		s.have[r.Index] = true
		if r.Error != "" {
			s.failed++
		}
	}
	var out []string
	for _, name := range names {
		s := by[name]
		var missing experiment.Indices
		for i := 0; i <= s.max; i++ {
			if !s.have[i] {
				missing.Add(i)
			}
		}
		preset := strings.SplitN(name, "\x00", 2)[0]
		lab := label[name]
		if preset == "" {
			lab = "(no preset)"
		}
		if missing.Len() > 0 {
			out = append(out, fmt.Sprintf("%s: %d indices below the largest (%d) have no record: %s (sweep status %s DIR says what is still to run)",
				lab, missing.Len(), s.max, experiment.Excerpt(missing.Spec(), 200), preset))
		}
		if s.failed > 0 {
			out = append(out, fmt.Sprintf("%s: %d records are failed runs", lab, s.failed))
		}
	}
	return out
}

func recordSummary(r experiment.Record) string {
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

func (p *progress) add(r experiment.Record) {
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

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
