package tui

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/reluscope/reluscope/experiment"
)

// The sample-complexity view trains the current setting for a ladder of
// sample counts in the background and plots the final L2 and L∞ against m on
// log–log axes with the reference rates m^(−(1/p+1/d)).

// ladderMs are the sample counts of the view.
var ladderMs = []int{10, 30, 100, 300, 1000, 3000, 10000}

// Every rung trains the current setting's epochs, as the paper's protocol
// does (the steps grow with m), but at least ladderMinSteps Adam steps (a
// rung of 10 samples would otherwise take one step an epoch, and a few
// thousand steps leave every m at the same optimization-limited error) and
// at most ladderFLOPs of training (6·params·batch per step: 50k steps at
// width 32), never capped below ladderFloorSteps (width 512: 4000 steps). At
// the default setting the whole ladder takes a few seconds on 2 cores.
const (
	ladderMinSteps   = 20000
	ladderFloorSteps = 4000
	ladderFLOPs      = 5e10
)

// ladderSteps is the Adam steps of the rung with config r (epochs unset).
func ladderSteps(c, r experiment.Config) int {
	params := 0
	sz := r.StudentSizes()
	for l := 0; l+1 < len(sz); l++ {
		params += (sz[l] + 1) * sz[l+1]
	}
	perStep := 6 * float64(params) * float64(r.BatchSize())
	hi := max(ladderFloorSteps, int(ladderFLOPs/perStep))
	return min(max(c.Epochs*r.StepsPerEpoch(), ladderMinSteps), hi)
}

// LadderConfigs are the runs of the sample-complexity view for settings c.
func LadderConfigs(c experiment.Config) []experiment.Config {
	var out []experiment.Config
	for _, m := range ladderMs {
		r := c
		r.Samples = m
		spe := r.StepsPerEpoch()
		r.Epochs = max(1, (ladderSteps(c, r)+spe-1)/spe)
		r.EvalEvery = r.Epochs // the first and last checkpoints only
		r.EvalPoints = 1 << 15
		out = append(out, r)
	}
	return out
}

// ladderState is the view's runs for one setting.
type ladderState struct {
	id      int
	key     string // the setting it belongs to
	results map[int]experiment.Record
	total   int
	cancel  context.CancelFunc
	ch      <-chan experiment.Record
	err     string
}

// ladderKey identifies the settings a ladder was run for.
func ladderKey(c experiment.Config) string {
	c.Samples, c.Epochs = 0, 0
	return experiment.ConfigHash(c)
}

// startLadder runs the missing rungs for m.cfg on all cores; each finished
// run arrives as a ladderMsg.
func (m *Model) startLadder() tea.Cmd {
	m.stopLadder()
	key := ladderKey(m.cfg)
	if m.ladder.key != key {
		m.ladder = ladderState{key: key, results: map[int]experiment.Record{}}
	}
	m.ladderSeq++
	m.ladder.id = m.ladderSeq
	var jobs []experiment.Job
	for i, c := range LadderConfigs(m.cfg) {
		if _, done := m.ladder.results[c.Samples]; !done {
			jobs = append(jobs, experiment.Job{Index: i, Config: c})
		}
	}
	m.ladder.total = len(ladderMs)
	if len(jobs) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(m.opt.Context)
	ch := make(chan experiment.Record)
	m.ladder.cancel, m.ladder.ch = cancel, ch
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
	m.opt.Log.Printf("ladder %d: %d runs", m.ladder.id, len(jobs))
	return waitForRung(m.ladder.id, ch)
}

func (m *Model) stopLadder() {
	if m.ladder.cancel != nil {
		m.ladder.cancel()
		m.ladder.cancel = nil
	}
}

func waitForRung(id int, ch <-chan experiment.Record) tea.Cmd {
	return func() tea.Msg {
		r, ok := <-ch
		if !ok {
			return ladderMsg{id: id, closed: true}
		}
		return ladderMsg{id: id, rec: r}
	}
}

// ladderMsg carries one finished run of ladder id.
type ladderMsg struct {
	id     int
	rec    experiment.Record
	closed bool
}

func (m *Model) applyRung(msg ladderMsg) tea.Cmd {
	if msg.id != m.ladder.id {
		return nil
	}
	if msg.closed {
		m.ladder.cancel = nil
		return nil
	}
	r := msg.rec
	if r.Error != "" {
		m.ladder.err = fmt.Sprintf("m=%d: %s", r.Config.Samples, r.Error)
	}
	m.ladder.results[r.Config.Samples] = r
	return waitForRung(msg.id, m.ladder.ch)
}

// ladderView draws the sample-complexity view in a w×h panel.
func (m Model) ladderView(w, h int) string {
	st := &m.styles
	var ms, linf, l2 []float64
	var keys []int
	for k := range m.ladder.results {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		r := m.ladder.results[k]
		if n := len(r.History); n > 0 && r.Error == "" {
			f := r.History[n-1]
			ms, linf, l2 = append(ms, float64(k)), append(linf, f.Linf), append(l2, f.L2)
		}
	}
	d := float64(m.cfg.Dim)
	table := []string{}
	var row1, row2, row3 strings.Builder
	row1.WriteString(fmt.Sprintf("%-5s", "m"))
	row2.WriteString(st.L2.Render(fmt.Sprintf("%-5s", "L2")))
	row3.WriteString(st.Linf.Render(fmt.Sprintf("%-5s", "L∞")))
	for i, v := range ms {
		row1.WriteString(fmt.Sprintf("%9s", compactInt(int(v))))
		row2.WriteString(fmt.Sprintf("%9.2e", l2[i]))
		row3.WriteString(fmt.Sprintf("%9.2e", linf[i]))
	}
	table = append(table, row1.String(), row2.String(), row3.String())
	slopes := ""
	if len(ms) >= 2 {
		f2, fi := experiment.FitPower(ms, l2), experiment.FitPower(ms, linf)
		slopes = fmt.Sprintf("fitted slopes: L2 %.2f (reference %.2f)   L∞ %.2f (reference %.2f)", f2.B, -(0.5 + 1/d), fi.B, -1/d)
	}
	lo, hi := math.MaxInt, 0
	for _, r := range LadderConfigs(m.cfg) {
		lo, hi = min(lo, r.Epochs*r.StepsPerEpoch()), max(hi, r.Epochs*r.StepsPerEpoch())
	}
	status := fmt.Sprintf("%d of %d runs done · %s–%s Adam steps · %d fresh points",
		len(m.ladder.results), m.ladder.total, countLabel(float64(lo)), countLabel(float64(hi)), 1<<15)
	if m.ladder.err != "" {
		status += "  " + st.Error.Render(m.ladder.err)
	}
	head := []string{st.Muted.Render(status), slopes}
	chartH := h - 2 - len(head) - len(table) - 1
	chart := renderLogLog(st, ms, linf, l2, -1/d, -(0.5 + 1/d), w-2, max(3, chartH))
	body := strings.Join(append(append(head, chart), table...), "\n")
	return m.panel(fmt.Sprintf("sample complexity: final errors vs m (d=%d, depth %d, width %d)", m.cfg.Dim, m.cfg.Depth, m.cfg.Width), body, w, h)
}

func compactInt(v int) string {
	if v >= 1000 && v%1000 == 0 {
		return fmt.Sprintf("%dk", v/1000)
	}
	return fmt.Sprint(v)
}
