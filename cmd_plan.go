package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/results"
	"github.com/reluscope/reluscope/internal/osutil"
)

// planClass is the runs of a grid that cost alike: one width, depth, m,
// batch rule, epochs and evaluation points.
type planClass struct {
	key     string
	cfg     experiment.Config // its first run
	indices results.Indices
	cost    experiment.Cost
	seconds float64 // one run, estimated at the measured rate
	mem     uint64  // one run's peak
	from    int     // finished runs its time is the median of (0: a rate's)
}

// classKey is what a run's cost and memory depend on: its class in plan.
type classKey struct {
	width, depth, samples, epochs, eval int
	batch                               experiment.Batch
}

// classOf is c's class.
func classOf(c experiment.Config) classKey {
	return classKey{c.Width, len(c.StudentSizes()) - 1, c.Samples, c.Epochs, c.EvalPoints, c.Batch}
}

// fileIsDir says whether path is a folder.
func fileIsDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// cmdSweepPlan prints a grid's classes of runs with their cost here and
// what to ask a cluster for; --sbatch DIR writes an array script per class.
func cmdSweepPlan(_ context.Context, args []string, stdout, _ io.Writer) error {
	s := newSweepFlags("sweep plan")
	s.ignoreMem = true
	cpus := s.fs.Int("cpus-per-task", 2, "cores each task computes on: the rate is measured on this many")
	sbatch := s.fs.String("sbatch", "", "write into this folder, per class, the list of its runs' indices and a Slurm array script")
	block := s.fs.Int("block", 1000, "tasks per array at most (below the cluster's MaxArraySize)")
	rateFlag := s.fs.Float64("rate", 0, "the rate a task computes at, GFLOP/s: no measurement here (a cluster node is not this machine)")
	maxTimeFlag := s.fs.String("max-time", "", "the partition's time limit, D-HH:MM:SS: a class whose runs need longer asks for it and goes on over several submissions")
	remeasure := s.fs.Bool("remeasure", false, "measure this machine's rate again (else the one measured within a week is used)")
	rateFrom := s.fs.String("rate-from", "", "a folder of finished runs of this preset (shards): a class's time is the median of its runs' seconds, other classes' at their median rate (default: results/shards-PRESET when it holds any)")
	p, err := s.parse(args, stdout)
	if err != nil {
		return helpOK(err)
	}
	if *cpus < 1 || *cpus > maxCPUsPerTask || *block < 1 {
		return fmt.Errorf("--cpus-per-task %d, --block %d: the cores are 1 to %d, the block ≥ 1", *cpus, *block, maxCPUsPerTask)
	}
	if *rateFlag < 0 || math.IsNaN(*rateFlag) || math.IsInf(*rateFlag, 0) || *rateFlag > 1e9 {
		return fmt.Errorf("--rate %v: GFLOP/s, a number > 0", *rateFlag)
	}
	var maxTime int // seconds; 0: none
	if *maxTimeFlag != "" {
		if maxTime, err = parseSlurmTime(*maxTimeFlag); err != nil || maxTime < minMaxTime {
			return fmt.Errorf("--max-time %s: a Slurm time limit (D-HH:MM:SS, HH:MM:SS or minutes) of at least %d minutes (a run is signalled %d s before it)", experiment.Quote(*maxTimeFlag), minMaxTime/60, signalLead)
		}
	}
	from := *rateFrom
	if from == "" {
		if d := filepath.Join("results", "shards-"+p.Name); fileIsDir(d) {
			from = d
		}
	} else if !fileIsDir(from) {
		return fmt.Errorf("--rate-from %s is not a folder", experiment.Quote(from))
	}
	w, err := s.walk(p)
	if err != nil {
		return err
	}
	var classes []*planClass
	byKey := map[classKey]*planClass{}
	for j := range w.all() {
		c := j.Config
		key := classOf(c)
		k := byKey[key]
		if k == nil {
			k = &planClass{key: fmt.Sprintf("width %d, depth %d, m %d, batch %s, %d epochs, %d eval points", c.Width, key.depth, c.Samples, c.Batch, c.Epochs, c.EvalPoints),
				cfg: c, cost: experiment.RunCost(c), mem: experiment.MemoryEstimate(c, *cpus)}
			byKey[key] = k
			classes = append(classes, k)
		}
		k.indices.Add(j.Index)
	}
	if w.err != nil {
		return w.err
	}
	// The times, from the best source there is: (a) the finished runs of a
	// class (the median of their seconds), (b) a rate given (--rate) or
	// that of the finished runs (their median FLOP/s), (c) the rate
	// measured here. The source is printed.
	var sources []string
	var recRate float64
	if from != "" {
		secs := map[classKey][]float64{}
		var flops []float64
		recs, err := results.ReadResults(from)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if r.Preset != p.Name || r.Error != "" || !(r.Seconds > 0) || (r.Variant != "" && r.Variant != w.g.Variant()) {
				continue // another grid's, or another variant's, or no time
			}
			c := r.Config
			key := classOf(c)
			secs[key] = append(secs[key], r.Seconds)
			flops = append(flops, experiment.RunCost(c).FLOP()/r.Seconds)
		}
		n := 0
		for key, ss := range secs {
			if k := byKey[key]; k != nil {
				k.seconds, k.from = experiment.Median(ss), len(ss)
				n++
			}
		}
		if len(flops) > 0 {
			recRate = experiment.Median(flops)
			sources = append(sources, fmt.Sprintf("%d of %d classes: the median time of their finished runs in %s (%d runs)", n, len(classes), from, len(flops)))
		}
	}
	rates := map[string]experiment.Rate{}
	for _, k := range classes {
		if k.from > 0 {
			continue
		}
		rk := k.cfg.Backend + "/" + k.cfg.DType
		r, ok := rates[rk]
		switch {
		case ok:
		case *rateFlag > 0:
			r = experiment.Rate{Engine: k.cfg.Backend, Threads: *cpus, FLOPS: *rateFlag * 1e9}
			sources = append(sources, fmt.Sprintf("%s: %g GFLOP/s given (--rate)", rk, *rateFlag))
		case recRate > 0:
			r = experiment.Rate{Engine: k.cfg.Backend, Threads: *cpus, FLOPS: recRate}
			sources = append(sources, fmt.Sprintf("%s: %s/s, the finished runs' median rate", rk, experiment.FLOPCount(recRate)))
		default:
			dt, err := backend.ParseDType(k.cfg.DType)
			if err != nil {
				return err
			}
			measure := experiment.MachineRate
			if *remeasure {
				measure = experiment.RemeasureRate
			}
			if r, err = measure(k.cfg.Backend, dt, *cpus); err != nil {
				return fmt.Errorf("measuring %s here: %w", rk, err)
			}
			sources = append(sources, fmt.Sprintf("%s: %s, %s", rk, r, r.Source()))
		}
		rates[rk] = r
		k.seconds = r.Seconds(k.cost)
	}
	sort.SliceStable(classes, func(a, b int) bool { return classes[a].seconds < classes[b].seconds })
	fmt.Fprintf(stdout, "%s: %d runs in %d classes; times on %d cores from:\n", p.Name, w.g.Len(), len(classes), *cpus)
	for _, src := range sources {
		fmt.Fprintf(stdout, "  %s\n", src)
	}
	fmt.Fprintf(stdout, "\n%3s %6s  %-62s %10s %12s %10s %10s\n", "", "runs", "class", "FLOP/run", "time/run", "CPU-hours", "peak mem")
	var total float64
	for i, k := range classes {
		ch := float64(k.indices.Len()) * k.seconds * float64(*cpus) / 3600
		total += ch
		fmt.Fprintf(stdout, "%3d %6d  %-62s %10s %12s %10.1f %10s\n", i, k.indices.Len(), k.key, experiment.FLOPCount(k.cost.FLOP()),
			experiment.Clock(time.Duration(k.seconds*float64(time.Second))), ch, experiment.Bytes(k.mem))
	}
	fmt.Fprintf(stdout, "total: %.0f CPU-hours (%.1f days on one %d-core task)\n", total, total/float64(*cpus)/24, *cpus)
	switch eng, err := backend.Get("cuda"); {
	case err != nil:
		fmt.Fprintln(stdout, "GPU: this binary has no cuda engine (build with -tags gpu for examples/slurm-array-gpu.sh)")
	case eng.Available() != nil:
		fmt.Fprintf(stdout, "GPU: the cuda engine is built in but cannot run here (%v): no GPU-hours\n", eng.Available())
	default:
		r, err := experiment.MachineRate("cuda", backend.Float64, *cpus)
		if err != nil {
			return fmt.Errorf("measuring cuda here: %w", err)
		}
		var gh float64
		fmt.Fprintf(stdout, "GPU (--set backend=cuda, examples/slurm-array-gpu.sh): %s\n", r)
		for i, k := range classes {
			sec := r.Seconds(k.cost)
			gh += float64(k.indices.Len()) * sec / 3600
			fmt.Fprintf(stdout, "%3d  %12s a run, %10.1f GPU-hours\n", i, experiment.Clock(time.Duration(sec*float64(time.Second))), float64(k.indices.Len())*sec/3600)
		}
		fmt.Fprintf(stdout, "GPU total: %.0f GPU-hours\n", gh)
	}
	fmt.Fprintln(stdout, "\nwhat to ask for, per class (--time: 1.5 × the estimate + 10 min, whole hours; --mem: 1.25 × the peak + 512 MiB):")
	chunked := false
	for i, k := range classes {
		t, n := askTime(k.seconds, maxTime)
		more := ""
		if n > 1 {
			more, chunked = fmt.Sprintf(", over about %d submissions of --max-time each", n), true
		}
		fmt.Fprintf(stdout, "%3d  --cpus-per-task=%d --time=%s --mem=%s  (%d runs%s)\n", i, *cpus, t, slurmMem(k.mem), k.indices.Len(), more)
	}
	if chunked {
		fmt.Fprintf(stdout, "runs longer than --max-time %s go on over several submissions: Slurm's SIGTERM %d s before the limit saves the run's state, the task requeues itself and the run continues from there.\n", *maxTimeFlag, signalLead)
	} else {
		fmt.Fprintln(stdout, "a run longer than the cluster's time limit goes on over several submissions: SIGTERM (--signal) saves its state, the task requeues itself and continues it (--max-time plans for a limit).")
	}
	if *sbatch == "" {
		fmt.Fprintf(stdout, "\n--sbatch DIR writes each class's indices and array script.\n")
		return nil
	}
	if err := os.MkdirAll(*sbatch, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwritten to %s; submit from the folder the results go under:\n  mkdir -p logs\n", *sbatch)
	// The scripts name this binary by its absolute path: a job submitted
	// with --export=NONE has no PATH of the user's.
	self := "reluscope"
	if exe, err := os.Executable(); err == nil {
		self = exe
	}
	extra := ""
	for _, kv := range s.sets {
		extra += " --set " + experiment.ShellQuote(kv)
	}
	for _, l := range s.limits {
		extra += " --limit " + experiment.ShellQuote(l)
	}
	for i, k := range classes {
		idx := filepath.Join(*sbatch, fmt.Sprintf("class-%d.idx", i))
		err := osutil.WriteAtomic(idx, func(w io.Writer) error {
			var b []byte
			for x := range k.indices.All() {
				b = strconv.AppendInt(b[:0], int64(x), 10)
				if _, err := w.Write(append(b, '\n')); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		script := filepath.Join(*sbatch, fmt.Sprintf("class-%d.sh", i))
		t, n := askTime(k.seconds, maxTime)
		requeues := max(10, 2*n)
		chunks := ""
		if n > 1 {
			chunks = fmt.Sprintf("\n# Longer than --max-time %s: each run goes on over about %d submissions\n# (it requeues itself, at most %d times).", *maxTimeFlag, n, requeues)
		}
		body := fmt.Sprintf(`#!/bin/bash
# %s, class %d: %s — %d runs, about %s each here.%s
# Task T of an array submitted as "sbatch --array=0-N %s K" runs the run on
# line K+T+1 of %s (arrays stay below MaxArraySize: blocks of %d). The
# offset K is the script's argument (or $OFFSET), and reluscope is the
# binary that wrote this script (or $RELUSCOPE), so that it runs with any
# --export, NONE included.
#SBATCH --job-name=reluscope-%s-%d
#SBATCH --cpus-per-task=%d
#SBATCH --mem=%s
#SBATCH --time=%s
#SBATCH --signal=B:TERM@%d
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output=logs/reluscope-%%A_%%a.out
set -euo pipefail
RELUSCOPE=${RELUSCOPE:-%s}
command -v "$RELUSCOPE" >/dev/null || { echo "reluscope is not at $RELUSCOPE: set RELUSCOPE=/path/to/reluscope (sbatch --export=ALL,RELUSCOPE=…)" >&2; exit 1; }
OFFSET=${1:-${OFFSET:-0}}
I=$(sed -n "$(( OFFSET + SLURM_ARRAY_TASK_ID + 1 ))p" %s)
[ -n "$I" ] || { echo "no run on line $(( OFFSET + SLURM_ARRAY_TASK_ID + 1 )) of %s" >&2; exit 1; }
# The run is a child of this script, which forwards Slurm's SIGTERM to it
# (--signal=B: signals the batch shell only) and, when the run stopped with
# its state saved (exit 75), requeues the task: it comes back by itself
# and goes on from its state, up to RELUSCOPE_MAX_REQUEUES times (%d).
"$RELUSCOPE" sweep run %s --index "$I" --out "results/shards-%s"%s &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' TERM INT
rc=0
wait "$pid" || rc=$?
while kill -0 "$pid" 2>/dev/null; do # the trap ended the wait: the run is saving
  rc=0
  wait "$pid" || rc=$?
done
# A job cancelled (scancel) is not RUNNING any more: it stays stopped.
if [ "$rc" = 75 ] && [ -n "${SLURM_JOB_ID:-}" ] && [ "${SLURM_RESTART_COUNT:-0}" -lt "${RELUSCOPE_MAX_REQUEUES:-%d}" ] &&
  [ "$(squeue -h -j "$SLURM_JOB_ID" -o %%T 2>/dev/null)" = RUNNING ]; then
  echo "reluscope: run stopped with its state saved: requeued (restart $(( ${SLURM_RESTART_COUNT:-0} + 1 )))" >&2
  scontrol requeue "$SLURM_JOB_ID" && exit 0
fi
exit "$rc"
`, p.Name, i, k.key, k.indices.Len(), experiment.Clock(time.Duration(k.seconds*float64(time.Second))), chunks, script, idx, *block,
			p.Name, i, *cpus, slurmMem(k.mem), t, signalLead, experiment.ShellQuote(self), experiment.ShellQuote(idx), idx, requeues, experiment.ShellQuote(p.Name), p.Name, extra, requeues)
		if err := osutil.WriteFileAtomic(script, []byte(body)); err != nil {
			return err
		}
		if err := os.Chmod(script, 0o755); err != nil {
			return err
		}
		for off := 0; off < k.indices.Len(); off += *block {
			n := min(*block, k.indices.Len()-off)
			fmt.Fprintf(stdout, "  sbatch --array=0-%d %s %d\n", n-1, script, off)
		}
	}
	return nil
}

// slurmTime is 1.5 × the estimate + 10 minutes in whole hours, as Slurm
// writes it (D-HH:MM:SS past a day).
func slurmTime(seconds float64) string {
	h := int(math.Ceil((1.5*seconds + 600) / 3600))
	if h >= 24 {
		return fmt.Sprintf("%d-%02d:00:00", h/24, h%24)
	}
	return fmt.Sprintf("%02d:00:00", h)
}

// signalLead is how long before its time limit Slurm signals a task
// (--signal=B:TERM@signalLead): the run's state is saved in that time.
const signalLead = 300

// minMaxTime is the least --max-time: a task must have time to compute
// between its start and the signal.
const minMaxTime = 20 * 60

// askTime is the --time to ask for a run of about seconds under a limit
// of maxTime seconds (0: none), and over how many submissions it goes: one
// when slurmTime fits, else the limit itself, each submission computing
// until the signal, the whole with slurmTime's margin.
func askTime(seconds float64, maxTime int) (string, int) {
	t := slurmTime(seconds)
	if maxTime == 0 {
		return t, 1
	}
	if need, _ := parseSlurmTime(t); need <= maxTime {
		return t, 1
	}
	n := int(math.Ceil((1.5*seconds + 600) / float64(maxTime-signalLead)))
	return formatSlurmTime(maxTime), max(n, 2)
}

// parseSlurmTime reads a Slurm time limit: minutes, MM:SS, HH:MM:SS,
// D-HH, D-HH:MM or D-HH:MM:SS, in seconds.
func parseSlurmTime(s string) (int, error) {
	days, rest := 0, s
	if d, r, ok := strings.Cut(s, "-"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 || n > 365 {
			return 0, fmt.Errorf("days %q", d)
		}
		days, rest = n, r
	}
	parts := strings.Split(rest, ":")
	if len(parts) > 3 || rest == "" {
		return 0, fmt.Errorf("time %q", s)
	}
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || (i > 0 && n > 59) {
			return 0, fmt.Errorf("time %q", s)
		}
		nums[i] = n
	}
	var sec int
	switch {
	case days > 0 && len(nums) == 1: // D-HH
		sec = nums[0] * 3600
	case days > 0 && len(nums) == 2: // D-HH:MM
		sec = nums[0]*3600 + nums[1]*60
	case len(nums) == 1: // minutes
		sec = nums[0] * 60
	case len(nums) == 2: // MM:SS
		sec = nums[0]*60 + nums[1]
	default: // HH:MM:SS
		sec = nums[0]*3600 + nums[1]*60 + nums[2]
	}
	if days > 0 && nums[0] > 23 {
		return 0, fmt.Errorf("hours %d past a day", nums[0])
	}
	return days*86400 + sec, nil
}

// formatSlurmTime writes seconds as Slurm does: D-HH:MM:SS past a day.
func formatSlurmTime(sec int) string {
	if sec >= 86400 {
		return fmt.Sprintf("%d-%02d:%02d:%02d", sec/86400, sec%86400/3600, sec%3600/60, sec%60)
	}
	return fmt.Sprintf("%02d:%02d:%02d", sec/3600, sec%3600/60, sec%60)
}

// slurmMem is 1.25 × the peak + 512 MiB, in whole MiB or GiB.
func slurmMem(peak uint64) string {
	mib := int(math.Ceil((1.25*float64(peak) + 512<<20) / (1 << 20)))
	if mib >= 4096 {
		return fmt.Sprintf("%dG", (mib+1023)/1024)
	}
	return fmt.Sprintf("%dM", mib)
}

// maxCPUsPerTask bounds --cpus-per-task: more cores than any node has (the
// rate is measured, and the memory estimated, for that many threads).
const maxCPUsPerTask = 1024
