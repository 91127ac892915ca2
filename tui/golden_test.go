package tui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/results"
	"github.com/reluscope/reluscope/experiment/uniform"
)

// goldenModel is the explorer at a fixed size, part-way (upTo epochs) through
// a fixed-seed run, with fixed timings.
func goldenModel(t *testing.T, w, h, upTo, dim int) Model {
	t.Helper()
	cfg := testConfig()
	cfg.Dim = dim
	ecfg := experiment.ExplorerConfig(cfg)
	var start experiment.Event
	res, err := experiment.Run(context.Background(), ecfg, experiment.Options{}, func(ev experiment.Event) error {
		if ev.Kind == experiment.KindStart {
			start = ev
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m := newModel(t, cfg)
	m, _ = send(m, sizeMsg(w, h))
	m.sess.run = runState{id: 7, cfg: ecfg}
	m, _ = send(m, eventMsg{id: 7, ev: start})
	for _, c := range res.History {
		if c.Epoch > upTo {
			break
		}
		ev := experiment.Event{Kind: experiment.KindProgress, Epoch: c.Epoch, Epochs: ecfg.Epochs,
			Step: int64(c.Epoch * ecfg.StepsPerEpoch()), LR: c.LR, Loss: c.TrainLoss, StepsPerSec: 1234,
			Elapsed: time.Duration(c.Epoch) * 50 * time.Millisecond, Checkpoints: []experiment.Checkpoint{c}}
		first := max(1, c.Epoch-ecfg.Interval()+1)
		if c.Epoch > 0 {
			ev.EpochLoss, ev.FirstEpoch = res.EpochLoss[first-1:c.Epoch], first
		}
		m, _ = send(m, eventMsg{id: 7, ev: ev})
	}
	fd, err := experiment.NewLineProfile(context.Background(), ecfg, res.Student, start.Inputs, funcCols(m.rightWidth()-2))
	if err != nil {
		t.Fatal(err)
	}
	m, _ = send(m, computedMsg{to: screenTrain, id: 7, data: fd})
	m.sess.run.student = res.Student // the views drawn from here on show the trained student
	m.status.msg, m.status.ok = "", true
	return m
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -update to create it)", err)
	}
	if string(want) != got {
		t.Fatalf("%s differs from the golden file (rerun with -update if the change is intended)\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

func TestGoldenViews(t *testing.T) {
	for _, tc := range []struct {
		w, h, upTo, dim int
		help, loss      bool
	}{
		{80, 24, 24, 1, false, false},
		{120, 40, 24, 1, false, true},
		{80, 24, 40, 1, true, false},
		{80, 24, 40, 3, false, false},
	} {
		m := goldenModel(t, tc.w, tc.h, tc.upTo, tc.dim)
		m.showHelp = tc.help
		if tc.loss {
			m, _ = press(m, "L")
		}
		name := fmt.Sprintf("explorer_%dx%d_epoch%d", tc.w, tc.h, tc.upTo)
		if tc.help {
			name += "_help"
		}
		if tc.dim > 1 {
			name += fmt.Sprintf("_d%d", tc.dim)
			// The worst point's location is shown whole, even in 3 dimensions.
			if !regexp.MustCompile(`at x=\(-?[0-9.]+,-?[0-9.]+,-?[0-9.]+\)`).MatchString(m.View()) {
				t.Fatalf("%s: the checkpoint line cuts the location of the worst point:\n%s", name, m.View())
			}
		}
		v := m.View()
		for i, l := range splitLines(v) {
			if w := displayWidth(l); w != tc.w {
				t.Fatalf("%s: line %d is %d cells wide, want %d: %q", name, i, w, tc.w, l)
			}
		}
		if n := len(splitLines(v)); n != tc.h {
			t.Fatalf("%s: %d lines, want %d", name, n, tc.h)
		}
		checkGolden(t, name, v)
	}
}

// TestStatusFitsNarrowTerminals: at 80 columns the checkpoint line of a run
// in 3 dimensions shows the worst point whole (fewer decimals, then without
// L1) instead of cutting it, and 120 columns keep every detail.
func TestStatusFitsNarrowTerminals(t *testing.T) {
	m := goldenModel(t, 80, 24, 40, 3)
	c := &m.sess.run.hist[len(m.sess.run.hist)-1]
	c.L1, c.L2, c.Linf = 0.00831, 0.0109, 0.0641
	c.ArgMax = []float64{-0.4621, -0.4613, -0.5}
	for _, tc := range []struct {
		w    int
		want string
	}{
		{80, "L1 0.00831  L2 0.0109  L∞/L2 5.9×  L∞ 0.0641 at x=(-0.46,-0.46,-0.50)"},
		{70, "epoch 40:  L2 0.0109  L∞/L2 5.9×  L∞ 0.0641 at x=(-0.46,-0.46,-0.50)"},
		{120, "L1 0.00831  L2 0.0109  L∞/L2 5.9×  L∞ 0.0641 at x=(-0.462,-0.461,-0.500)"},
	} {
		if v := m.statusView(tc.w); !strings.Contains(v, tc.want) {
			t.Fatalf("%d columns: status\n%s\nlacks %q", tc.w, v, tc.want)
		}
	}
}

// TestGoldenTrueSup: the exact sup at each checkpoint is drawn on the error
// chart (◆ true sup) and where the last one is attained is marked in the
// function view, at 80×24 and 120×40.
func TestGoldenTrueSup(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		m := goldenModel(t, size[0], size[1], 24, 1)
		ecfg := m.sess.run.cfg
		snaps := map[int]*backend.Net{}
		_, err := experiment.Run(context.Background(), ecfg, experiment.Options{Interval: time.Nanosecond}, func(ev experiment.Event) error {
			if n := len(ev.Checkpoints); n > 0 && ev.Student != nil {
				snaps[ev.Checkpoints[n-1].Epoch] = ev.Student
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range m.sess.run.hist {
			s := snaps[c.Epoch]
			if s == nil {
				continue
			}
			b, err := uniform.Exact1D(s, m.sess.run.teacher, 1)
			if err != nil {
				t.Fatal(err)
			}
			if b.Upper < c.Linf*(1-1e-12) {
				t.Fatalf("epoch %d: exact sup %v below the sampled L∞ %v", c.Epoch, b.Upper, c.Linf)
			}
			b.Seconds = 0
			m, _ = send(m, computedMsg{to: supSlot, id: 7, data: supPoint{epoch: c.Epoch, b: b}})
		}
		v := m.View()
		if !strings.Contains(v, "◆ true sup (exact)") || (size[0] >= 120 && !strings.Contains(v, "(exact, epoch 24)")) {
			t.Fatalf("the true sup is not shown:\n%s", v)
		}
		checkGolden(t, fmt.Sprintf("explorer_%dx%d_epoch24_sup", size[0], size[1]), v)
		// Markers, not a line over L∞: at most one (two cells) every
		// supGap columns, the legend's one besides.
		if n := strings.Count(v, "◆"); n > 1+2*(size[0]/supGap+1) {
			t.Fatalf("%dx%d: %d true-sup cells: a line, not markers:\n%s", size[0], size[1], n, v)
		}
		// With the training loss on as well, every series drawn keeps an
		// entry (short ones where the full do not fit), none dropped.
		lm, _ := press(m, "L")
		lv := lm.View()
		if !strings.Contains(lv, "◆") || !strings.Contains(lv, "·· train") || !strings.Contains(lv, "── L∞") || !strings.Contains(lv, "━━ L2") {
			t.Fatalf("%dx%d with the loss: an entry is missing from the legend:\n%s", size[0], size[1], lv)
		}
	}
}

// TestGoldenFool: the fooling pair of the run's samples at 80×24 and
// 120×40 (f), with the bump's two norms beside the student's error.
func TestGoldenFool(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		m := goldenModel(t, size[0], size[1], 24, 1)
		m, _ = press(m, "f")
		if m.screen != screenFool {
			t.Fatal("f does not open the fooling pair")
		}
		fd, err := experiment.NewFoolProfile(context.Background(), m.sess.run.cfg, m.sess.run.student, m.sess.run.inputs, m.screens[screenFool].(foolView).cols, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, _ = send(m, computedMsg{to: screenFool, id: 7, data: foolData{id: 7, FoolProfile: fd}})
		m.status.msg = ""
		v := m.View()
		for _, want := range []string{"fooling pair", "student + bump", "sup (L∞)", "L2 (RMS)", "height by depth"} {
			if !strings.Contains(v, want) {
				t.Fatalf("%dx%d: the fooling pair lacks %q:\n%s", size[0], size[1], want, v)
			}
		}
		for i, l := range splitLines(v) {
			if w := displayWidth(l); w != size[0] {
				t.Fatalf("line %d is %d cells wide, want %d: %q", i, w, size[0], l)
			}
		}
		// The ▲ stands under the spike: the column of the plot's top.
		spike, tri := -1, -1
		for _, l := range splitLines(v) {
			r := []rune(l)
			for c, ch := range r {
				if ch == '╭' && spike < 0 && c+1 < len(r) && (r[c+1] == '╮' || r[c+1] == '╯') {
					spike = c
				}
				if ch == '▲' {
					tri = c
				}
			}
		}
		if spike < 0 || tri < spike-1 || tri > spike+2 {
			t.Fatalf("%dx%d: ▲ at column %d, the spike at %d:\n%s", size[0], size[1], tri, spike, v)
		}
		checkGolden(t, fmt.Sprintf("explorer_%dx%d_fool", size[0], size[1]), v)
		m, _ = press(m, "f")
		if m.screen != screenTrain {
			t.Fatal("f again does not go back to training")
		}
	}
}

// TestGoldenTeachingViews: the error between the samples (e) at 80×24 and
// 120×40, the previous run dimmed on the chart with what changed, the edit
// box, and the summary of a terminal too small for the panels.
func TestGoldenTeachingViews(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		m := goldenModel(t, size[0], size[1], 24, 1)
		m, _ = press(m, "e")
		if m.screen != screenErrorView {
			t.Fatal("e does not open the error between the samples")
		}
		hd, err := experiment.NewErrorProfile(context.Background(), m.sess.run.cfg, m.sess.run.student, m.sess.run.inputs, m.screens[screenErrorView].(errorView).cols)
		if err != nil {
			t.Fatal(err)
		}
		m, _ = send(m, computedMsg{to: screenErrorView, id: 7, data: hd})
		m.status.msg = ""
		v := m.View()
		if !strings.Contains(v, "at the 200 samples |e| ≤") || !strings.Contains(v, "∙ |e| at the samples") {
			t.Fatalf("%dx%d: the error view lacks its summary:\n%s", size[0], size[1], v)
		}
		checkGolden(t, fmt.Sprintf("explorer_%dx%d_hide", size[0], size[1]), v)
	}

	m := goldenModel(t, 80, 24, 24, 1)
	// Raise the samples: the run so far stays on the chart, dotted.
	m, _ = press(m, "down", "down", "down", "right")
	m.status.msg = ""
	v := m.View()
	if !strings.Contains(v, "before: samples 200 → 500") {
		t.Fatalf("the previous run is not labelled:\n%s", v)
	}
	checkGolden(t, "explorer_80x24_before", v)

	m = goldenModel(t, 80, 24, 24, 1)
	m, _ = press(m, "enter", "4")
	v = m.View()
	if !strings.Contains(v, "✎ depth") || !strings.Contains(v, "[4▏]") {
		t.Fatalf("no visible edit box:\n%s", v)
	}
	checkGolden(t, "explorer_80x24_editing", v)

	m = goldenModel(t, 40, 10, 24, 1)
	v = m.View()
	if !strings.Contains(v, "the charts need 64×20") || len(splitLines(v)) != 10 {
		t.Fatalf("the 40×10 summary:\n%s", v)
	}
	checkGolden(t, "explorer_40x10_small", v)
}

// TestGoldenFocus: z gives the error chart the whole terminal with the
// checkpoint's numbers in one line under it — at 80×24 at least 16 plot
// rows (the normal view has about 8); Z moves focus to the teacher and
// the student; z again is the normal view, unchanged.
func TestGoldenFocus(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		m := goldenModel(t, size[0], size[1], 24, 1)
		before := m.View()
		m, _ = press(m, "z")
		if !m.focus || m.part != 0 {
			t.Fatal("z does not focus the error chart")
		}
		v := m.View()
		rows := 0
		for _, l := range splitLines(v) {
			if strings.ContainsAny(l, "┤┼") {
				rows++
			}
			if w := displayWidth(l); w != size[0] {
				t.Fatalf("%dx%d focus: a line is %d cells wide: %q", size[0], size[1], w, l)
			}
		}
		if rows < size[1]-8 || strings.Contains(v, "settings") || !strings.Contains(v, "L∞/L2") {
			t.Fatalf("%dx%d focus: %d plot rows (want ≥ %d), settings hidden, numbers shown:\n%s", size[0], size[1], rows, size[1]-8, v)
		}
		checkGolden(t, fmt.Sprintf("explorer_%dx%d_focus", size[0], size[1]), v)
		m, _ = press(m, "Z")
		if m.part != 1 || !strings.Contains(m.status.msg, "teacher and student") {
			t.Fatalf("Z: part %d, status %q", m.part, m.status.msg)
		}
		m, _ = press(m, "z")
		m.status.msg = ""
		if m.focus {
			t.Fatal("z again does not leave the focus view")
		}
		m2 := goldenModel(t, size[0], size[1], 24, 1)
		m2.status.msg = ""
		if after := m.View(); after != m2.View() && after != before {
			t.Fatalf("after the focus view the normal view differs:\n%s", after)
		}
	}
}

// The sample-complexity view with seven finished rungs: the x axis is
// ticked at the m values run and the legend says what the dotted lines are.
func TestGoldenComplexity(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		m := goldenModel(t, size[0], size[1], 24, 1)
		cv := m.screens[screenComplexity].(complexityView)
		cv.key, cv.results = settingKey(m.cfg), map[int]results.Record{}
		for _, c := range experiment.ComplexityConfigs(m.cfg) {
			x := float64(c.Samples)
			cv.results[c.Samples] = results.Record{Config: c, History: []experiment.Checkpoint{{},
				{Epoch: c.Epochs, Metrics: experiment.Metrics{L2: 0.3 * math.Pow(x, -0.9), Linf: 0.5 * math.Pow(x, -0.2)}}}}
		}
		m.screens[screenComplexity] = cv
		m.screen = screenComplexity
		v := m.View()
		for _, want := range []string{"10", "30", "100", "300", "1k", "3k", "10k", "lower-bound rate", "slopes: L2 -0.90, L∞ -0.20"} {
			if !strings.Contains(v, want) {
				t.Fatalf("%dx%d: %q missing from the sample-complexity view:\n%s", size[0], size[1], want, v)
			}
		}
		for _, bad := range []string{"56.2", "316", "1.78k"} {
			if strings.Contains(v, bad) {
				t.Fatalf("%dx%d: an x tick between the m values run (%s):\n%s", size[0], size[1], bad, v)
			}
		}
		checkGolden(t, fmt.Sprintf("explorer_%dx%d_complexity", size[0], size[1]), v)
		if size[0] == 80 { // at 80×24 the chart is small beside the table: z enlarges it
			m, _ = press(m, "z")
			v = m.View()
			rows := 0
			for _, l := range splitLines(v) {
				if strings.ContainsAny(l, "┤┼") {
					rows++
				}
			}
			if rows < 8 {
				t.Fatalf("focus on the sample-complexity chart: %d plot rows, want ≥ 8:\n%s", rows, v)
			}
			checkGolden(t, "explorer_80x24_complexity_focus", v)
		}
	}
}

// A learner other than Adam fits once: the error chart's axis is the zero
// network and the fit, the status line has no epochs, lr or step rate, and
// c (keep training) says why it does not apply.
func TestGoldenLearner(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		cfg := testConfig()
		cfg.Learner, cfg.StudentDepth, cfg.Width, cfg.Samples = "exact-erm", 2, 2, 20
		ecfg := experiment.ExplorerConfig(cfg)
		var evs []experiment.Event
		for ev := range experiment.Start(context.Background(), ecfg, experiment.Options{}) {
			ev.Elapsed, ev.StepsPerSec = 40*time.Millisecond, 81000
			if ev.Result != nil {
				ev.Result.Elapsed = ev.Elapsed
			}
			evs = append(evs, ev)
		}
		if evs[len(evs)-1].Kind != experiment.KindDone {
			t.Fatalf("the run's last event is %s", evs[len(evs)-1].Kind)
		}
		m := newModel(t, cfg)
		m, _ = send(m, sizeMsg(size[0], size[1]))
		m.sess.run = runState{id: 7, cfg: ecfg}
		for _, ev := range evs {
			m, _ = send(m, eventMsg{id: 7, ev: ev})
		}
		v := m.View()
		for _, want := range []string{"zero net", "fitted by exact-erm", "one fit by exact-erm", "fitted:  L1"} {
			if !strings.Contains(v, want) {
				t.Fatalf("%dx%d: %q missing:\n%s", size[0], size[1], want, v)
			}
		}
		for _, bad := range []string{"lr 0", "steps/s", "epoch 1/"} {
			if strings.Contains(v, bad) {
				t.Fatalf("%dx%d: %q shown for a one-shot learner:\n%s", size[0], size[1], bad, v)
			}
		}
		checkGolden(t, fmt.Sprintf("explorer_%dx%d_learner", size[0], size[1]), v)
		m, _ = press(m, "c")
		if m.sess.forever || !strings.Contains(m.status.msg, "fits once") {
			t.Fatalf("c on a learner's fit: forever %v, status %q", m.sess.forever, m.status.msg)
		}
	}
}

// A long evaluation says how far it is: checkpoint, points, time.
func TestStatusShowsLongEvaluation(t *testing.T) {
	m := goldenModel(t, 80, 24, 24, 1)
	k := len(m.sess.run.hist)
	m.sess.run.eval = experiment.EvalProgress{K: k, Done: 1_200_000, Total: 16_777_216}
	m.sess.run.evalLong, m.sess.run.evalFor = true, 12*time.Second
	want := fmt.Sprintf("evaluating checkpoint %d: 1.2M of 16.8M points… 0:12", k)
	if v := m.View(); !strings.Contains(v, want) {
		t.Fatalf("%q missing:\n%s", want, v)
	}
	// A progress seen once (a short evaluation) or already delivered is not shown.
	m.sess.run.evalLong = false
	if strings.Contains(m.View(), "evaluating checkpoint") {
		t.Fatal("a short evaluation was shown")
	}
	m.sess.run.evalLong, m.sess.run.eval.K = true, k-1
	if strings.Contains(m.View(), "evaluating checkpoint") {
		t.Fatal("a delivered checkpoint's evaluation was shown")
	}
}

// A click on the error chart reads the checkpoint at that epoch into the
// status line, in the normal layout and in focus (shown there too).
func TestClickReadsTheChart(t *testing.T) {
	for _, focus := range []bool{false, true} {
		m := goldenModel(t, 80, 24, 24, 1)
		if focus {
			m, _ = press(m, "z")
		}
		x0, y0, w, h, ok := m.chartRect()
		if !ok {
			t.Fatal("no error chart on the screen")
		}
		lines := splitLines(m.View())
		axis, row := -1, -1
		for y := y0 + 1; y < y0+h-1 && axis < 0; y++ {
			for c, r := range []rune(lines[y]) {
				if c > x0 && (r == '┤' || r == '┼') {
					axis, row = c, y
					break
				}
			}
		}
		if axis < 0 || !strings.Contains(lines[y0], "errors") || !strings.Contains(lines[y0+h-1], "╯") {
			t.Fatalf("focus %v: the chart is not where chartRect says (%d,%d %dx%d):\n%s", focus, x0, y0, w, h, m.View())
		}
		ncol := w - 2 - 11
		// Half-way along the 40-epoch axis: epoch 20.
		mm, _ := m.Update(tea.MouseMsg{X: axis + (ncol-1)/2, Y: row, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
		m = mm.(Model)
		c := m.sess.run.hist[20]
		want := fmt.Sprintf("epoch 20: L∞ %.3g  L2 %.3g", c.Linf, c.L2)
		if !strings.Contains(m.status.msg, want) {
			t.Fatalf("focus %v: status %q, want %q", focus, m.status.msg, want)
		}
		// On the screen too: the focus view shows the answer to a click.
		if v := m.View(); !strings.Contains(v, "(clicked near epoch") {
			t.Fatalf("focus %v: the readout is not on the screen:\n%s", focus, v)
		}
		// The right end is past the run's last checkpoint: it reads that one.
		mm, _ = m.Update(tea.MouseMsg{X: x0 + w - 2, Y: row, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
		if msg := mm.(Model).status.msg; !strings.HasPrefix(msg, "epoch 24:") {
			t.Fatalf("focus %v: a click at the right end reads %q", focus, msg)
		}
	}
	// Below the chart (the teacher and student panel) nothing is read.
	m := goldenModel(t, 80, 24, 24, 1)
	_, y0, _, h, _ := m.chartRect()
	mm, _ := m.Update(tea.MouseMsg{X: 60, Y: y0 + h + 2, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	if strings.Contains(mm.(Model).status.msg, "clicked near") {
		t.Fatal("a click on the function panel read the error chart")
	}
}

// The focus view (a projector) says when the run is not simply training:
// paused, held by the help or a view's runs, done.
func TestFocusViewShowsTheRunsState(t *testing.T) {
	m := goldenModel(t, 80, 24, 24, 1)
	m, _ = press(m, "z")
	m.sess.paused = true
	if v := m.View(); !strings.Contains(v, "‖ paused  epoch 24:") {
		t.Fatalf("a pause is not shown in focus:\n%s", v)
	}
	m.sess.paused, m.sess.run.done = false, true
	if v := m.View(); !strings.Contains(v, "✓ done  epoch 24:") {
		t.Fatalf("the finish is not shown in focus:\n%s", v)
	}
	m.sess.run.done, m.showHelp = false, true
	if got := m.phase(); got != phaseHeld {
		t.Fatalf("with the help open the phase is %v, want held", got)
	}
}

// A stopped run keeps its reason on its own line: a refusal after it (the
// next key's message) does not take it away.
func TestStopReasonSurvivesARefusal(t *testing.T) {
	m := goldenModel(t, 80, 24, 24, 1)
	m.sess.run.done, m.sess.run.err = true, errors.New("the loss is not finite (NaN) at epoch 12: lower the learning rate")
	m.status.set(false, "keep training is Adam's: discrete fits once")
	v := m.View()
	if !strings.Contains(v, "✗ stopped  the loss is not finite (NaN) at epoch 12") || !strings.Contains(v, "keep training is Adam's") {
		t.Fatalf("the stop's reason or the refusal is missing:\n%s", v)
	}
}

// After a change of setting the fooling view says how the bump's height
// changed (the chart alone is autoscaled: depth 6's bump, 16× taller,
// would look the same as depth 5's).
func TestFoolSaysHowTheBumpChanged(t *testing.T) {
	m := goldenModel(t, 120, 40, 24, 1)
	m, _ = press(m, "f", "z")
	fv := m.screens[screenFool].(foolView)
	fd, err := experiment.NewFoolProfile(context.Background(), m.sess.run.cfg, m.sess.run.student, m.sess.run.inputs, fv.cols, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, _ = send(m, computedMsg{to: screenFool, id: 7, data: foolData{id: 7, FoolProfile: fd}})
	fv = m.screens[screenFool].(foolView)
	next := m.cfg
	next.Depth++
	fv = fv.settingsChanged(&m.sess.run, next).(foolView)
	cfg6 := m.sess.run.cfg
	cfg6.Depth++
	fd6, err := experiment.NewFoolProfile(context.Background(), cfg6, m.sess.run.student, m.sess.run.inputs, fv.cols, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := renderFool(m.styles, &foolData{id: 8, FoolProfile: fd6}, fv.before, cfg6, nil, nil, 118, 36)
	want := fmt.Sprintf("depth %d → %d: bump %.3g → %.3g (×%.3g)", cfg6.Depth-1, cfg6.Depth, fd.Fool.Height, fd6.Fool.Height, fd6.Fool.Height/fd.Fool.Height)
	if !strings.Contains(v, want) {
		t.Fatalf("want %q in\n%s", want, v)
	}
}
