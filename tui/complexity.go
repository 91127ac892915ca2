package tui

import (
	"context"
	"fmt"
	"log"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/report"
	"github.com/reluscope/reluscope/experiment/results"
	tp "github.com/reluscope/reluscope/experiment/textplot"
	"github.com/reluscope/reluscope/experiment/uniform"
	"github.com/reluscope/reluscope/internal/osutil"
)

// The sample-complexity view trains the current setting for a series of
// sample counts ("rungs") in the background and plots the final L2 and L∞
// against m on log–log axes with the reference rates m^(−(1/p+1/d)).

// complexityView is the sample-complexity panel and its background runs.
// Finished rungs are kept while the setting (apart from m and epochs) stays.
type complexityView struct {
	st      *Styles
	ctx     context.Context
	log     *log.Logger
	seq     int    // the last id handed out
	id      int    // the runs in flight; older rungs are dropped
	key     string // the setting the rungs belong to
	results map[int]results.Record
	cancel  context.CancelFunc
	ch      <-chan results.Record
	err     string
}

func newComplexityView(st *Styles, ctx context.Context, l *log.Logger) complexityView {
	return complexityView{st: st, ctx: ctx, log: l}
}

func (v complexityView) statusText() string {
	return "sample complexity: training the current setting for m = 10 … 10000; v goes back"
}

// The view draws its own runs: the run's student changes nothing.
func (v complexityView) refresh(*runState) (screen, tea.Cmd) { return v, nil }
func (v complexityView) reset() screen                       { return v }
func (v complexityView) setSize(int, int) screen             { return v }

// settingKey identifies the settings a set of rungs was run for.
func settingKey(c experiment.Config) string {
	c.Samples, c.Epochs = 0, 0
	return experiment.ConfigHash(c)
}

// start runs the missing rungs for cfg on all cores; each finished run
// arrives as a rungMsg.
func (v complexityView) start(cfg experiment.Config) (screen, tea.Cmd) {
	v = v.stop().(complexityView)
	if key := settingKey(cfg); v.key != key {
		v.key, v.results, v.err = key, map[int]results.Record{}, ""
	}
	v.seq++
	v.id = v.seq
	var jobs []experiment.Job
	for i, c := range experiment.ComplexityConfigs(cfg) {
		if _, done := v.results[c.Samples]; !done {
			jobs = append(jobs, experiment.Job{Index: i, Config: c})
		}
	}
	v.cancel, v.ch = nil, nil
	if len(jobs) == 0 {
		return v, nil
	}
	ctx, cancel := context.WithCancel(v.ctx)
	ch := make(chan results.Record)
	v.cancel, v.ch = cancel, ch
	go func() {
		defer close(ch)
		results.RunPool(ctx, slices.Values(jobs), min(runtime.NumCPU(), len(jobs)), "explorer", nil, func(r results.Record) error {
			select {
			case ch <- r:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	v.log.Printf("sample complexity %d: %d runs", v.id, len(jobs))
	return v, waitForRung(v.id, ch)
}

// stop cancels the runs in flight (finished rungs are kept).
func (v complexityView) stop() screen {
	if v.cancel != nil {
		v.cancel()
		v.cancel = nil
	}
	return v
}

func waitForRung(id int, ch <-chan results.Record) tea.Cmd {
	return func() tea.Msg {
		r, ok := <-ch
		if !ok {
			return rungMsg{id: id, closed: true}
		}
		return rungMsg{id: id, rec: r}
	}
}

// update takes one finished rung (or the end of the runs).
func (v complexityView) update(sm screenMsg, _ *runState) (screen, tea.Cmd, error) {
	msg, ok := sm.(rungMsg)
	if !ok || msg.id != v.id {
		return v, nil, nil
	}
	if msg.closed {
		v.cancel = nil
		return v, nil, nil
	}
	r := msg.rec
	if r.Error != "" {
		v.err = fmt.Sprintf("m=%d: %s", r.Config.Samples, r.Error)
	}
	v.results[r.Config.Samples] = r
	return v, waitForRung(msg.id, v.ch), nil
}

// series are the finished rungs: m, the final L∞ (the exact sup where
// the rung has it) and L2, in increasing m.
func (v complexityView) series() (ms, linf, l2 []float64, exact bool) {
	var keys []int
	for k := range v.results {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		r := v.results[k]
		if n := len(r.History); n > 0 && r.Error == "" {
			f := r.History[n-1]
			u := f.Linf
			if f.Bracket != nil && f.Bracket.Method == uniform.MethodExact {
				u, exact = f.Bracket.Upper, true
			}
			ms, linf, l2 = append(ms, float64(k)), append(linf, u), append(l2, f.L2)
		}
	}
	return ms, linf, l2, exact
}

// view draws the panel for settings cfg, w×h.
func (v complexityView) view(_ *runState, cfg experiment.Config, w, h int) string {
	st := v.st
	ms, linf, l2, exact := v.series()
	refInf, ref2 := report.RefSlope(report.Linf, cfg.Dim), report.RefSlope(report.L2, cfg.Dim)
	// The table: m, L2, L∞ (or the exact sup) per column, in blocks that fit.
	lab3 := "L∞"
	if exact {
		lab3 = "sup"
	}
	perBlock := max(1, (w-2-5)/9)
	var table []string
	for b := 0; b < len(ms); b += perBlock {
		var row1, row2, row3 strings.Builder
		row1.WriteString(fmt.Sprintf("%-5s", "m"))
		row2.WriteString(st.L2.Render(fmt.Sprintf("%-5s", "L2")))
		row3.WriteString(st.Linf.Render(fmt.Sprintf("%-5s", lab3)))
		for i := b; i < min(len(ms), b+perBlock); i++ {
			row1.WriteString(fmt.Sprintf("%9s", tp.CountLabel(ms[i])))
			row2.WriteString(fmt.Sprintf("%9.2e", l2[i]))
			row3.WriteString(fmt.Sprintf("%9.2e", linf[i]))
		}
		table = append(table, row1.String(), row2.String(), row3.String())
	}
	slopes := ""
	if len(ms) >= 2 {
		f2, fi := report.FitPower(ms, l2), report.FitPower(ms, linf)
		exactNote := ""
		if exact {
			exactNote = st.Muted.Render("L∞ = exact sup")
		}
		slopes = tp.Legend(w-2, fmt.Sprintf("slopes: L2 %.2f, L∞ %.2f (bounds %.2f, %.2f)", f2.B, fi.B, ref2, refInf), exactNote)
	}
	lo, hi := math.MaxInt, 0
	for _, r := range experiment.ComplexityConfigs(cfg) {
		lo, hi = min(lo, r.Epochs*r.StepsPerEpoch()), max(hi, r.Epochs*r.StepsPerEpoch())
	}
	status := fmt.Sprintf("%d of %d runs · batch %d · %s–%s steps · w saves",
		len(v.results), len(experiment.ComplexityMs), experiment.RungBatch, tp.CountLabel(float64(lo)), tp.CountLabel(float64(hi)))
	if v.err != "" {
		status += "  " + st.Error.Render(v.err)
	}
	head := []string{st.Muted.Render(status), slopes}
	chartH := h - 2 - len(head) - len(table)
	chart := report.LogLogChart(st.paint(), ms, linf, l2, refInf, ref2, w-2, max(3, chartH))
	body := strings.Join(append(append(head, chart), table...), "\n")
	return panel(st, fmt.Sprintf("errors vs samples m (d=%d, L=%d, w=%d)", cfg.Dim, cfg.Depth, cfg.Width), body, w, h)
}

// save writes the view's finished runs in the background into a new
// folder under dir (see write).
func (v complexityView) save(dir string, now time.Time, cfg experiment.Config) tea.Cmd {
	results := make(map[int]results.Record, len(v.results))
	for k, r := range v.results {
		results[k] = r
	}
	v.results = results // a copy: the view goes on adding rungs
	dir = filepath.Join(dir, fmt.Sprintf("complexity-%s-d%d-L%d-w%d", now.Format("20060102-150405"), cfg.Dim, cfg.Depth, cfg.Width))
	return func() tea.Msg {
		if err := v.write(dir); err != nil {
			return savedMsg{err: err}
		}
		return savedMsg{path: dir + " (results.jsonl, table.csv, figure.png)"}
	}
}

// write writes the view's finished runs to dir as a report can read them
// (results.jsonl), with the aggregated table (table.csv) and the figure
// (figure.png).
func (v complexityView) write(path string) error {
	var recs []results.Record
	var keys []int
	for k := range v.results {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		recs = append(recs, v.results[k])
	}
	if len(recs) == 0 {
		return fmt.Errorf("no finished runs to save yet")
	}
	dir, err := results.OpenResults(path)
	if err != nil {
		return err
	}
	if err := dir.WriteAll(recs); err != nil {
		return err
	}
	reps := report.Aggregate(recs)
	if err := osutil.WriteFileAtomic(filepath.Join(path, "table.csv"), report.CSV(reps)); err != nil {
		return err
	}
	return report.WriteFigure(filepath.Join(path, "figure.png"), reps)
}
