package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"iter"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/results"
	"github.com/reluscope/reluscope/presets"
)

// The grid a sweep command works on: its flags (a preset, --set, --limit,
// the folder), its walk run by run, how two of its variants differ, and
// records written as JSON lines. Shared by sweep and its subcommands; no
// command calls another.

// sweepFlags are shared by sweep and its subcommands but merge.
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
		return presets.Preset{}, fmt.Errorf("%s: want one PRESET, got %d arguments (reluscope sweep -h lists the forms)", s.fs.Name(), len(pos))
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

// variantSets is how a record of another variant differs from the run of
// its index in grid g (made with the --sets sets): as the --set flags of
// its variant ("" when they cannot be told) and in words ("width 32 ≠ 512").
func variantSets(g *presets.Grid, r results.Record, sets []string) (string, string) {
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

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
