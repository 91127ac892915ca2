package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/learners"
	"github.com/reluscope/reluscope/experiment/results"
	"github.com/reluscope/reluscope/experiment/uniform"
)

// runOptions are what reluscope run was asked to do.
type runOptions struct {
	cfg    experiment.Config
	json   bool   // one JSON object per event instead of text
	out    string // the folder to save the run to ("" none)
	vsAdam bool   // a learner's run is compared with Adam's
	// limit is the heap the run is held to (its memory estimate; 0 with
	// --ignore-memory).
	limit uint64
}

// parseRun reads run's arguments (flag.ErrHelp after printing -h).
func parseRun(args []string, stdout io.Writer) (runOptions, error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	cf := newConfigFlags(fs, "default")
	asJSON := fs.Bool("json", false, "write one JSON object per event to stdout instead of text")
	out := fs.String("out", "", "save the config, metric history (CSV) and both networks (JSON) to this folder")
	vsAdam := fs.Bool("vs-adam", true, "with a learner other than adam, also train Adam on the same samples and print both side by side")
	cfg, err := cf.parse(args, stdout)
	o := runOptions{cfg: cfg, json: *asJSON, out: *out, vsAdam: *vsAdam}
	if err == nil && !cf.ignoreMem {
		o.limit = experiment.MemoryEstimate(cfg, 0)
	}
	return o, err
}

func cmdRun(ctx context.Context, args []string, stdout, _ io.Writer) error {
	o, err := parseRun(args, stdout)
	if err != nil {
		return helpOK(err)
	}
	experiment.LimitMemory(o.limit)
	return o.run(ctx, stdout)
}

// run trains the config, printing its events, and saves it.
func (o runOptions) run(ctx context.Context, stdout io.Writer) error {
	cfg, asJSON, out, vsAdam := o.cfg, &o.json, &o.out, &o.vsAdam
	// Whatever ends this function ends the run's goroutine too.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if *out != "" {
		// The folder is made (and checked) before training, not after it.
		if err := checkOutDir(*out); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	enc := json.NewEncoder(stdout)
	var res *experiment.Result
	var runErr error
	// Text mode says something at least every 10 s, inside a long epoch or
	// a long evaluation too.
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	var last experiment.Event
	lastPrint := time.Now()
	events := experiment.Start(ctx, cfg, experiment.Options{})
	for {
		var ev experiment.Event
		var ok bool
		select {
		case ev, ok = <-events:
		case <-tick.C:
			if !*asJSON && time.Since(lastPrint) >= progressEvery && last.Kind != "" {
				fmt.Fprintf(stdout, "        … epoch %d/%d, step %d, %.0f steps/s, %s elapsed\n", last.Epoch, last.Epochs, last.Step, last.StepsPerSec, last.Elapsed.Round(time.Second))
				lastPrint = time.Now()
			}
			continue
		}
		if !ok {
			break
		}
		if ev.Kind != experiment.KindDone {
			last = ev
		}
		if len(ev.Checkpoints) > 0 {
			lastPrint = time.Now()
		}
		if *asJSON {
			if err := enc.Encode(ev); err != nil {
				return fmt.Errorf("writing the run's %s event: %w", ev.Kind, err)
			}
		} else {
			if ev.Kind == experiment.KindStart {
				// Once the run has started (its engine found, its files
				// read): a run refused before that prints only its error.
				printHeader(stdout, cfg)
			}
			for _, c := range ev.Checkpoints {
				tl := "—"
				if c.Epoch > 0 {
					tl = fmt.Sprintf("%.4e", c.TrainLoss)
				}
				sup := "—"
				if c.Bracket != nil {
					sup = c.Describe()
				}
				at := "x=" + experiment.FormatPoint(c.ArgMax, 4, false)
				if len(c.ArgMax) == 0 {
					at = "—"
				}
				fmt.Fprintf(stdout, "%7d %10.3e %11s %11s %11s %11s  %-24s %s\n", c.Epoch, c.LR, tl, metric(c.L1), metric(c.L2), metric(c.Linf), at, sup)
			}
		}
		if ev.Kind == experiment.KindDone {
			res, runErr = ev.Result, ev.Err
		}
	}
	if res != nil && !*asJSON {
		summary(stdout, res)
		if res.Learner != nil && runErr == nil && *vsAdam {
			if err := compareWithAdam(ctx, stdout, cfg, res); err != nil {
				return err
			}
		}
	}
	if *out != "" && res != nil {
		if err := results.SaveRun(*out, res); err != nil {
			return fmt.Errorf("saving to %s: %w", *out, err)
		}
		if !*asJSON {
			fmt.Fprintf(stdout, "saved to %s\n", *out)
		}
	}
	if runErr != nil {
		if errors.Is(runErr, context.Canceled) {
			return errors.New("interrupted")
		}
		return runErr
	}
	return nil
}

// progressEvery is the longest text mode stays silent.
var progressEvery = 10 * time.Second

// compareWithAdam trains Adam on the same samples with the same student
// shape and prints the two side by side.
func compareWithAdam(ctx context.Context, w io.Writer, cfg experiment.Config, res *experiment.Result) error {
	a := cfg
	a.Learner = experiment.LearnerAdam
	ares, err := experiment.Run(ctx, a, experiment.Options{}, func(experiment.Event) error { return nil })
	if err != nil {
		return fmt.Errorf("adam on the same samples: %w", err)
	}
	fmt.Fprintf(w, "\nthe same %d samples, the same student shape %v:\n", cfg.Samples, cfg.StudentSizes())
	fmt.Fprintf(w, "  %-10s %14s %12s %12s %14s %10s\n", "learner", "train Σ(f−y)²", "train mse", "L2", "uniform error", "time")
	row := func(name string, r *experiment.Result) {
		f := r.Final()
		sum := f.TrainLoss * float64(cfg.Samples)
		uni := f.Linf
		if f.Bracket != nil {
			uni = f.Upper
		}
		dash := func(v float64) string {
			if math.IsNaN(v) {
				return "—"
			}
			return fmt.Sprintf("%.4g", v)
		}
		fmt.Fprintf(w, "  %-10s %14.6g %12.6g %12s %14s %10s\n", name, sum, f.TrainLoss, dash(f.L2), dash(uni), r.Elapsed.Round(time.Millisecond))
	}
	row(res.Learner.Name, res)
	row("adam", ares)
	if !cfg.NoOutputBias {
		return nil
	}
	fmt.Fprintf(w, "  (Adam's student has an output bias; the %s network has none)\n", res.Learner.Name)
	return nil
}

func summary(w io.Writer, res *experiment.Result) {
	f := res.Final()
	if f == nil {
		return
	}
	if l := res.Learner; l != nil {
		what, unit := "", "steps"
		if fit, err := learners.Get(l.Name); err == nil {
			what, unit = fit.What(), fit.Unit()
		}
		fmt.Fprintf(w, "%s: %s, summed squared loss Σ(f(x)−y)² = %.6g (mean %.6g) over %d samples, after %d %s in %s\n",
			l.Name, what, l.Loss, f.TrainLoss, res.Config.Samples, l.Work, unit, time.Duration(l.Seconds*float64(time.Second)).Round(time.Microsecond))
		if res.Config.DataFile != "" {
			return // no teacher: there are no errors to report
		}
	}
	sps := float64(res.Steps) / math.Max(res.Elapsed.Seconds(), 1e-9)
	what := "final errors"
	if strings.HasPrefix(res.Error, "interrupted") {
		fmt.Fprintf(w, "%s (%s, %d Adam steps)\n", res.Error, res.Elapsed.Round(time.Millisecond), res.Steps)
		what = fmt.Sprintf("errors at the last checkpoint (epoch %d)", f.Epoch)
	} else if res.Learner != nil {
		fmt.Fprintf(w, "done in %s (the fit and its evaluation)\n", res.Elapsed.Round(time.Millisecond)) // its work is counted above
	} else {
		fmt.Fprintf(w, "done in %s: %d epochs, %d Adam steps (%.0f steps/s)\n", res.Elapsed.Round(time.Millisecond), f.Epoch, res.Steps, sps)
	}
	if res.Config.DataFile != "" {
		fmt.Fprintf(w, "final training loss (mse) %.4e; no teacher: the data file's samples have no errors off them to measure\n", f.TrainLoss)
		return
	}
	fmt.Fprintf(w, "%s over %d fresh points: L1 %.4e  L2 %.4e  L∞ %.4e  (L∞/L2 = %.1f)  worst at x=%s\n",
		what, f.N, f.L1, f.L2, f.Linf, f.Linf/f.L2, experiment.FormatPoint(f.ArgMax, 4, false))
	if b := f.Bracket; b != nil {
		// Exact or closed: the sampled L∞ against the sup. Open: only its
		// lower end is a value of |e|, so the share is at most this.
		share := fmt.Sprintf("the sampled L∞ is %.1f%% of it", 100*f.Linf/b.Upper)
		if b.Method != uniform.MethodExact && !b.Closed {
			share = fmt.Sprintf("the sampled L∞ is ≥ %.1f%% of the true sup and ≤ %.1f%%", 100*f.Linf/b.Upper, 100*f.Linf/b.Lower)
		}
		fmt.Fprintf(w, "true uniform error sup|student − teacher| over the cube: %s at x=%s in %.2fs (%s)\n",
			b.Describe(), experiment.FormatPoint(b.At, 4, false), b.Seconds, share)
	}
}

// printHeader prints a started run's header: what learns from what, its
// expected time when long, the table's columns.
func printHeader(stdout io.Writer, cfg experiment.Config) {
	fmt.Fprintln(stdout, runHeader(cfg))
	if dt, err := backend.ParseDType(cfg.DType); err == nil && !experiment.PlainlyShort(cfg) {
		if _, ok := experiment.CachedRate(cfg.Backend, dt, 0); !ok {
			fmt.Fprintln(stdout, "measuring this machine's speed for an estimate of the run's time (2 s, kept a week)")
		}
	}
	if d, why, err := experiment.Estimate(cfg, 0); err == nil && d > experiment.LongRun {
		fmt.Fprintf(stdout, "this run takes about %s here: %s; Ctrl-C stops it\n", experiment.Clock(d), why)
	}
	fmt.Fprintf(stdout, "%7s %10s %11s %11s %11s %11s  %-24s %s\n", "epoch", "lr", "train mse", "L1", "L2", "L∞ sampled", "worst sampled at", "true sup |s − t|")
}

// runHeader is the first line of a run: what learns from what. A data
// run has no teacher: its samples are the file's.
func runHeader(cfg experiment.Config) string {
	from := fmt.Sprintf("teacher %v (c=%g, %d params)", cfg.TeacherSizes(), cfg.Coef, backend.NumParams(cfg.TeacherSizes()))
	if cfg.TeacherFile != "" {
		from = fmt.Sprintf("teacher %s %v (%d params)", experiment.Excerpt(cfg.TeacherFile, 60), cfg.TeacherSizes(), backend.NumParams(cfg.TeacherSizes()))
	}
	if cfg.DataFile != "" {
		from = fmt.Sprintf("data %s (%d samples in d=%d, no teacher: only the training loss is measured)", experiment.Excerpt(cfg.DataFile, 60), cfg.Samples, cfg.Dim)
		if x, _, err := experiment.LoadData(cfg.DataFile, cfg.Dim); err == nil {
			if r := experiment.InCube(x); r > 0 {
				from += fmt.Sprintf("; its inputs reach |x| = %g, outside the cube [−0.5, 0.5]^%d", r, cfg.Dim)
			}
		}
	}
	batch := fmt.Sprintf("batch=%d", cfg.BatchSize())
	if cfg.Batch.Frac > 0 {
		batch = fmt.Sprintf("batch=%d (%s of m)", cfg.BatchSize(), cfg.Batch)
	}
	return fmt.Sprintf("%s  student %v (%d params)  m=%d %s  %d epochs  lr %.3g→%.3g  %s/%s",
		from, cfg.StudentSizes(), backend.NumParams(cfg.StudentSizes()), cfg.Samples, batch, cfg.Epochs, cfg.LR, cfg.LREnd, cfg.Backend, cfg.DType)
}

// metric is an error as the table prints it ("—" where there is none).
func metric(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.4e", v)
}
