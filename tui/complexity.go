package tui

import (
	"context"
	"fmt"
	"log"
	"math"
	"runtime"
	"sort"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/report"
	tp "github.com/reluscope/reluscope/experiment/textplot"
)

// The sample-complexity view trains the current setting for a series of
// sample counts ("rungs") in the background and plots the final L2 and L∞
// against m on log–log axes with the reference rates m^(−(1/p+1/d)).

// complexityMs are the sample counts of the view.
var complexityMs = []int{10, 30, 100, 300, 1000, 3000, 10000}

// Every rung trains the current setting's epochs, as the paper's protocol
// does (the steps grow with m), but at least rungMinSteps Adam steps (a
// rung of 10 samples would otherwise take one step an epoch, and a few
// thousand steps leave every m at the same optimization-limited error) and
// at most rungFLOPs of training (6·params·batch per step: 50k steps at
// width 32), never capped below rungFloorSteps (width 512: 4000 steps). At
// the default setting the whole view takes a few seconds on 2 cores.
const (
	rungMinSteps   = 20000
	rungFloorSteps = 4000
	rungFLOPs      = 5e10
	rungEvalPoints = 1 << 15
)

// rungSteps is the Adam steps of the rung with config r (epochs unset).
func rungSteps(c, r experiment.Config) int {
	perStep := 6 * float64(backend.NumParams(r.StudentSizes())) * float64(r.BatchSize())
	hi := max(rungFloorSteps, int(rungFLOPs/perStep))
	return min(max(c.Epochs*r.StepsPerEpoch(), rungMinSteps), hi)
}

// ComplexityConfigs are the runs of the sample-complexity view for settings c.
func ComplexityConfigs(c experiment.Config) []experiment.Config {
	var out []experiment.Config
	for _, m := range complexityMs {
		r := c
		r.Samples = m
		spe := r.StepsPerEpoch()
		r.Epochs = max(1, (rungSteps(c, r)+spe-1)/spe)
		r.EvalEvery = r.Epochs // the first and last checkpoints only
		r.EvalPoints = rungEvalPoints
		out = append(out, r)
	}
	return out
}

// complexityView is the sample-complexity panel and its background runs.
// Finished rungs are kept while the setting (apart from m and epochs) stays.
type complexityView struct {
	st      *Styles
	ctx     context.Context
	log     *log.Logger
	seq     int    // the last id handed out
	id      int    // the runs in flight; older rungs are dropped
	key     string // the setting the rungs belong to
	results map[int]experiment.Record
	cancel  context.CancelFunc
	ch      <-chan experiment.Record
	err     string
}

func newComplexityView(st *Styles, ctx context.Context, l *log.Logger) complexityView {
	return complexityView{st: st, ctx: ctx, log: l}
}

// settingKey identifies the settings a set of rungs was run for.
func settingKey(c experiment.Config) string {
	c.Samples, c.Epochs = 0, 0
	return experiment.ConfigHash(c)
}

// start runs the missing rungs for cfg on all cores; each finished run
// arrives as a rungMsg.
func (v complexityView) start(cfg experiment.Config) (complexityView, tea.Cmd) {
	v.stop()
	if key := settingKey(cfg); v.key != key {
		v.key, v.results, v.err = key, map[int]experiment.Record{}, ""
	}
	v.seq++
	v.id = v.seq
	var jobs []experiment.Job
	for i, c := range ComplexityConfigs(cfg) {
		if _, done := v.results[c.Samples]; !done {
			jobs = append(jobs, experiment.Job{Index: i, Config: c})
		}
	}
	v.cancel, v.ch = nil, nil
	if len(jobs) == 0 {
		return v, nil
	}
	ctx, cancel := context.WithCancel(v.ctx)
	ch := make(chan experiment.Record)
	v.cancel, v.ch = cancel, ch
	go func() {
		defer close(ch)
		experiment.RunPool(ctx, jobs, runtime.NumCPU(), "explorer", func(r experiment.Record) error {
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
func (v *complexityView) stop() {
	if v.cancel != nil {
		v.cancel()
		v.cancel = nil
	}
}

func waitForRung(id int, ch <-chan experiment.Record) tea.Cmd {
	return func() tea.Msg {
		r, ok := <-ch
		if !ok {
			return rungMsg{id: id, closed: true}
		}
		return rungMsg{id: id, rec: r}
	}
}

// update takes one finished rung (or the end of the runs).
func (v complexityView) update(msg rungMsg) (complexityView, tea.Cmd) {
	if msg.id != v.id {
		return v, nil
	}
	if msg.closed {
		v.cancel = nil
		return v, nil
	}
	r := msg.rec
	if r.Error != "" {
		v.err = fmt.Sprintf("m=%d: %s", r.Config.Samples, r.Error)
	}
	v.results[r.Config.Samples] = r
	return v, waitForRung(msg.id, v.ch)
}

// view draws the panel for settings cfg, w×h.
func (v complexityView) view(cfg experiment.Config, w, h int) string {
	st := v.st
	var ms, linf, l2 []float64
	var keys []int
	for k := range v.results {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		r := v.results[k]
		if n := len(r.History); n > 0 && r.Error == "" {
			f := r.History[n-1]
			ms, linf, l2 = append(ms, float64(k)), append(linf, f.Linf), append(l2, f.L2)
		}
	}
	refInf, ref2 := report.RefSlope(report.Linf, cfg.Dim), report.RefSlope(report.L2, cfg.Dim)
	var row1, row2, row3 strings.Builder
	row1.WriteString(fmt.Sprintf("%-5s", "m"))
	row2.WriteString(st.L2.Render(fmt.Sprintf("%-5s", "L2")))
	row3.WriteString(st.Linf.Render(fmt.Sprintf("%-5s", "L∞")))
	for i, m := range ms {
		row1.WriteString(fmt.Sprintf("%9s", tp.CountLabel(m)))
		row2.WriteString(fmt.Sprintf("%9.2e", l2[i]))
		row3.WriteString(fmt.Sprintf("%9.2e", linf[i]))
	}
	table := []string{row1.String(), row2.String(), row3.String()}
	slopes := ""
	if len(ms) >= 2 {
		f2, fi := report.FitPower(ms, l2), report.FitPower(ms, linf)
		slopes = fmt.Sprintf("fitted slopes: L2 %.2f (reference %.2f)   L∞ %.2f (reference %.2f)", f2.B, ref2, fi.B, refInf)
	}
	lo, hi := math.MaxInt, 0
	for _, r := range ComplexityConfigs(cfg) {
		lo, hi = min(lo, r.Epochs*r.StepsPerEpoch()), max(hi, r.Epochs*r.StepsPerEpoch())
	}
	status := fmt.Sprintf("%d of %d runs done · %s–%s Adam steps · %d fresh points",
		len(v.results), len(complexityMs), tp.CountLabel(float64(lo)), tp.CountLabel(float64(hi)), rungEvalPoints)
	if v.err != "" {
		status += "  " + st.Error.Render(v.err)
	}
	head := []string{st.Muted.Render(status), slopes}
	chartH := h - 2 - len(head) - len(table) - 1
	chart := report.LogLogChart(st.paint(), ms, linf, l2, refInf, ref2, w-2, max(3, chartH))
	body := strings.Join(append(append(head, chart), table...), "\n")
	return panel(st, fmt.Sprintf("sample complexity: final errors vs m (d=%d, depth %d, width %d)", cfg.Dim, cfg.Depth, cfg.Width), body, w, h)
}
