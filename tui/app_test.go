package tui

import (
	"context"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
	"go.uber.org/goleak"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/results"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// Measured rates are kept in a cache folder of the tests' own.
func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	cache, err := os.MkdirTemp("", "reluscope-cache")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", cache)
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) { os.RemoveAll(cache); os.Exit(code) }))
}

var fixedNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// testConfig trains in a fraction of a second.
func testConfig() experiment.Config {
	c := experiment.Default()
	c.Depth, c.TeacherWidth, c.Width = 3, 16, 16
	c.Samples, c.Epochs = 200, 40
	c.Batch = experiment.Batch{Size: 50}
	c.LR, c.LREnd = 3e-3, 3e-5
	c.EvalPoints, c.EvalEvery = 0, 0 // the explorer's choice
	return c
}

func newModel(t *testing.T, cfg experiment.Config) Model {
	t.Helper()
	th := NoColorTheme()
	m := New(cfg, Options{Theme: &th, Now: func() time.Time { return fixedNow }, SaveDir: t.TempDir(), Pace: math.Inf(1)})
	mm, _ := m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	t.Cleanup(func() { mm.(Model).Close() })
	return mm.(Model)
}

func keyMsg(s string) tea.KeyMsg {
	switch s {
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case " ":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func press(m Model, keys ...string) (Model, tea.Cmd) {
	var cmd tea.Cmd
	for _, k := range keys {
		var mm tea.Model
		mm, cmd = m.Update(keyMsg(k))
		m = mm.(Model)
	}
	return m, cmd
}

func send(m Model, msg tea.Msg) (Model, tea.Cmd) {
	mm, cmd := m.Update(msg)
	return mm.(Model), cmd
}

// started returns m with a run started the way Init starts it.
func started(t *testing.T, m Model) Model {
	t.Helper()
	m, _ = send(m, m.Init()())
	if m.sess.events == nil || m.sess.cancel == nil {
		t.Fatal("Init did not start a run")
	}
	return m
}

// drain reads a run's channel to its end and returns the last event.
func drain(t *testing.T, ch <-chan experiment.Event) experiment.Event {
	t.Helper()
	var last experiment.Event
	timeout := time.After(60 * time.Second) // generous: a loaded machine
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return last
			}
			last = ev
		case <-timeout:
			t.Fatal("run did not end")
		}
	}
}

// pump feeds a run's events into the model until the run is done.
func pump(t *testing.T, m Model) Model {
	t.Helper()
	cmd := waitForEvent(m.sess.run.id, m.sess.events)
	for i := 0; i < 100000 && !m.sess.run.done; i++ {
		msg := cmd()
		m, _ = send(m, msg)
		if _, ok := msg.(runClosedMsg); ok {
			break
		}
		cmd = waitForEvent(m.sess.run.id, m.sess.events)
	}
	return m
}

func TestSelectionKeys(t *testing.T) {
	m := newModel(t, testConfig())
	m, _ = press(m, "down", "down")
	if fields[m.settings.selected].name != "width" {
		t.Fatalf("two downs select %s, want width", fields[m.settings.selected].name)
	}
	m, _ = press(m, "j", "k", "up")
	if fields[m.settings.selected].name != "dim" {
		t.Fatalf("j k up select %s, want dim", fields[m.settings.selected].name)
	}
	m, _ = press(m, "up", "up")
	if fields[m.settings.selected].name != "backend" {
		t.Fatalf("up from the top wraps to %s, want backend", fields[m.settings.selected].name)
	}
	// Several runes in one message (fast typing) are several keys.
	m, _ = press(m, "jjj")
	if fields[m.settings.selected].name != "width" {
		t.Fatalf(`"jjj" selects %s, want width`, fields[m.settings.selected].name)
	}
}

func TestChangeCancelsAndRestartsAfterDebounce(t *testing.T) {
	m := started(t, newModel(t, testConfig()))
	old, oldID := m.sess.events, m.sess.run.id
	m, _ = press(m, "down", "down") // width
	m, cmd := press(m, "right")
	if m.cfg.Width != 32 || cmd == nil || m.sess.pending == 0 {
		t.Fatalf("→ on width: width %d, pending %d; want 32 and a debounced restart", m.cfg.Width, m.sess.pending)
	}
	last := drain(t, old)
	if last.Kind != experiment.KindDone || !errors.Is(last.Err, context.Canceled) {
		t.Fatalf("old run ended with %s %v, want done with context.Canceled", last.Kind, last.Err)
	}
	// Two more presses before the debounce fires: only the last token starts a run.
	m, _ = press(m, "down") // samples
	m, _ = press(m, "right")
	tok1 := m.sess.pending
	m, _ = press(m, "right")
	tok2 := m.sess.pending
	if m.cfg.Samples != 1000 {
		t.Fatalf("samples %d after two → from 200 (steps 200, 500, 1000), want 1000", m.cfg.Samples)
	}
	m, cmd = send(m, restartMsg{token: tok1})
	if cmd != nil || m.sess.pending != tok2 {
		t.Fatal("a superseded debounce token started a run")
	}
	m, cmd = send(m, restartMsg{token: tok2})
	if cmd == nil || m.sess.pending != 0 || m.sess.run.id <= oldID || m.sess.run.cfg.Width != 32 || m.sess.run.cfg.Samples != 1000 {
		t.Fatalf("the latest token did not start a run with the new settings (id %d, cfg %+v)", m.sess.run.id, m.sess.run.cfg)
	}
	// A stale event of the old run is dropped and not re-armed.
	stale := experiment.Event{Kind: experiment.KindProgress, Epoch: 7, Checkpoints: []experiment.Checkpoint{{Epoch: 7}}}
	m2, cmd := send(m, eventMsg{id: oldID, ev: stale})
	if cmd != nil || len(m2.sess.run.hist) != 0 || m2.sess.run.epoch == 7 {
		t.Fatal("a stale event was applied or re-armed")
	}
	m = pump(t, m)
	if !m.sess.run.done || m.sess.run.err != nil || len(m.sess.run.hist) == 0 {
		t.Fatalf("new run: done %v err %v with %d checkpoints", m.sess.run.done, m.sess.run.err, len(m.sess.run.hist))
	}
	if !strings.Contains(m.status.msg, "finished") {
		t.Fatalf("status after the run: %q", m.status.msg)
	}
}

func TestOutOfRangeRefused(t *testing.T) {
	cfg := testConfig()
	cfg.Depth = experiment.MaxDepth
	m := newModel(t, cfg)
	m, cmd := press(m, "right") // depth is selected first
	if m.cfg.Depth != experiment.MaxDepth || cmd != nil || m.status.ok || !strings.Contains(m.status.msg, "depth: must stay in [2, 32]") {
		t.Fatalf("→ at max depth: depth %d, status %q", m.cfg.Depth, m.status.msg)
	}
	m, _ = press(m, "down", "enter") // type a dim
	m.settings.input.SetValue("0")
	m, cmd = press(m, "enter")
	if m.cfg.Dim != 1 || cmd != nil || !strings.Contains(m.status.msg, "dim: 0 is out of range [1, 64]") {
		t.Fatalf("typed dim 0: dim %d, status %q", m.cfg.Dim, m.status.msg)
	}
	m, _ = press(m, "enter")
	m.settings.input.SetValue("3")
	m, cmd = press(m, "enter")
	if m.cfg.Dim != 3 || cmd == nil {
		t.Fatalf("typed dim 3: dim %d", m.cfg.Dim)
	}
	m, _ = press(m, "enter")
	m.settings.input.SetValue("5")
	m, _ = press(m, "esc")
	if m.cfg.Dim != 3 || m.settings.editing {
		t.Fatal("esc did not cancel the edit")
	}
	// The lr steps keep the decay ratio.
	m.settings.selected = fieldIndex("lr")
	m, _ = press(m, "left")
	if m.cfg.LR != 1e-3 || m.cfg.LREnd != 1e-5 {
		t.Fatalf("← on lr 3e-3: lr %g → %g, want 1e-3 → 1e-5", m.cfg.LR, m.cfg.LREnd)
	}
	m.settings.selected = fieldIndex("backend")
	m, _ = press(m, "right")
	if m.cfg.Backend != "native" {
		// backends sort as gorgonia, native: → from native is past the end
		t.Fatalf("backend %s", m.cfg.Backend)
	}
	m, _ = press(m, "left")
	if m.cfg.Backend != "gorgonia" {
		t.Fatalf("← on backend native gives %s, want gorgonia", m.cfg.Backend)
	}
}

func TestRunKeys(t *testing.T) {
	cfg := testConfig()
	cfg.Epochs = 100000 // long enough to pause
	m := started(t, newModel(t, cfg))
	m, _ = press(m, " ")
	if !m.sess.paused || !m.sess.ctl.Paused() {
		t.Fatal("space did not pause")
	}
	m, _ = press(m, " ")
	if m.sess.paused || m.sess.ctl.Paused() {
		t.Fatal("space did not resume")
	}
	m, _ = press(m, ".")
	if !m.sess.paused || !m.sess.ctl.Paused() {
		t.Fatal(". did not pause for a single step")
	}
	id := m.sess.run.id
	m, cmd := press(m, "r")
	if cmd == nil || m.sess.run.id == id || m.sess.paused {
		t.Fatal("r did not restart")
	}
	seed := m.cfg.TeacherSeed
	m, cmd = press(m, "t")
	if m.cfg.TeacherSeed != seed+1 || cmd == nil {
		t.Fatal("t did not draw a new teacher")
	}
	s := m.cfg.InitSeed
	m, _ = press(m, "s")
	if m.cfg.InitSeed != s+1 || m.cfg.DataSeed != s+1 {
		t.Fatal("s did not draw a new student and data")
	}
	m, _ = press(m, "L")
	if !m.screens[screenTrain].(trainScreen).chart.showLoss {
		t.Fatal("L did not show the loss")
	}
	m, _ = press(m, "?")
	if !m.showHelp || !strings.Contains(m.View(), "any key closes") {
		t.Fatal("? did not show the help")
	}
	m, _ = press(m, "x")
	if m.showHelp {
		t.Fatal("a key did not close the help")
	}
	_, cmd = press(m, "q")
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("q did not quit")
	}
}

func TestQuitCancelsTheRun(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	cfg := testConfig()
	cfg.Epochs = 100000
	m := started(t, newModel(t, cfg))
	ch := m.sess.events
	_, cmd := press(m, "q")
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("q did not quit")
	}
	if last := drain(t, ch); !errors.Is(last.Err, context.Canceled) {
		t.Fatalf("after q the run ended with %v", last.Err)
	}
}

func TestSaveWritesTheRun(t *testing.T) {
	m := pump(t, started(t, newModel(t, testConfig())))
	m, cmd := press(m, "w")
	m, _ = send(m, cmd())
	if !m.status.ok || !strings.HasPrefix(m.status.msg, "saved to ") {
		t.Fatalf("status after save: %q", m.status.msg)
	}
	dir := strings.TrimPrefix(m.status.msg, "saved to ")
	for _, f := range []string{"config.json", "history.csv", "teacher.json", "student.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("save did not write %s", f)
		}
	}
	if _, err := experiment.LoadNetwork(filepath.Join(dir, "student.json")); err != nil {
		t.Fatal(err)
	}
	// A second save in the same second (the clock is fixed) gets its own folder.
	m, cmd = press(m, "w")
	m, _ = send(m, cmd())
	if again := strings.TrimPrefix(m.status.msg, "saved to "); again != dir+"-2" {
		t.Fatalf("the second save went to %q, want %q", again, dir+"-2")
	}
}

func sizeMsg(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }

func splitLines(s string) []string { return strings.Split(s, "\n") }

func displayWidth(s string) int { return lipgloss.Width(s) }

func TestSampleComplexityView(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	cfg := testConfig()
	cfg.Epochs = 100000
	m := started(t, newModel(t, cfg))
	m, cmd := press(m, "v")
	if !(m.screen == screenComplexity) || cmd == nil || m.screens[screenComplexity].(complexityView).cancel == nil || !m.sess.ctl.Paused() || m.sess.paused {
		t.Fatal("v did not start the sample-complexity runs and hold the training run")
	}
	if !strings.Contains(m.View(), "errors vs samples m") || !strings.Contains(m.View(), "‖ held") {
		t.Fatal("the view does not show the sample-complexity panel")
	}
	// Finished rungs fill the table and the fit; stale runs are dropped.
	id := m.screens[screenComplexity].(complexityView).id
	for i, c := range experiment.ComplexityConfigs(m.cfg)[:3] {
		e := 0.1 / float64(i+1)
		rec := results.Record{Config: c, History: []experiment.Checkpoint{{}, {Epoch: c.Epochs, Metrics: experiment.Metrics{L2: e / 10, Linf: e}}}}
		m, _ = send(m, rungMsg{id: id, rec: rec})
	}
	m, _ = send(m, rungMsg{id: id - 1, rec: results.Record{Config: experiment.Config{Samples: 77}}})
	if len(m.screens[screenComplexity].(complexityView).results) != 3 {
		t.Fatalf("%d rungs recorded, want 3", len(m.screens[screenComplexity].(complexityView).results))
	}
	v := m.View()
	if !strings.Contains(v, "3 of 7 runs") || !strings.Contains(v, "slopes: L2") || !strings.Contains(v, "1.00e-01") {
		t.Fatalf("sample-complexity view:\n%s", v)
	}
	// w saves what a report reads, the table and the figure.
	m, cmd = press(m, "w")
	m, _ = send(m, cmd())
	dir, _, ok := strings.Cut(strings.TrimPrefix(m.status.msg, "saved to "), " (")
	if !ok {
		t.Fatalf("status after w: %q", m.status.msg)
	}
	for _, f := range []string{"results.jsonl", "table.csv", "figure.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Fatalf("w in the sample-complexity view did not write %s: %v", f, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "results.jsonl")); strings.Count(string(b), "\n") != 3 {
		t.Fatalf("results.jsonl holds %d lines, want the 3 runs", strings.Count(string(b), "\n"))
	}
	m, _ = press(m, "v")
	if (m.screen == screenComplexity) || m.screens[screenComplexity].(complexityView).cancel != nil || m.sess.ctl.Paused() {
		t.Fatal("v did not stop the sample-complexity runs and resume training")
	}
	// The rungs are kept for the same settings.
	if len(m.screens[screenComplexity].(complexityView).results) != 3 {
		t.Fatal("leaving the view dropped the finished rungs")
	}
	m.Close()
}

func TestSineTargetPanel(t *testing.T) {
	cfg := testConfig()
	cfg.Target = experiment.TargetSine
	m := newModel(t, cfg)
	v := m.View()
	if !strings.Contains(v, "log(sin 50x + 2) + sin 5x") || strings.Contains(v, "needs m ≳") {
		t.Fatalf("the settings panel of the sine target:\n%s", v)
	}
}

// TestSettingsRefuseWhatDoesNotFit: a setting whose run would not fit in
// memory is refused in the status line, and the run goes on unchanged.
func TestSettingsRefuseWhatDoesNotFit(t *testing.T) {
	t.Setenv("RELUSCOPE_MEM_AVAILABLE", "17179869184") // 16 GiB, on any machine
	m := newModel(t, testConfig())
	m, _ = press(m, "down", "down", "enter", "4", "0", "9", "6", "enter") // width 4096
	m, _ = press(m, "up", "up", "enter", "3", "2", "enter")               // depth 32
	if m.cfg.Depth == 32 || m.status.ok || !strings.Contains(m.status.msg, "of memory") {
		t.Fatalf("depth %d, status %q; want the change refused for memory", m.cfg.Depth, m.status.msg)
	}
}

// TestClockRunsBeforeTheFirstCheckpoint: a wide student's first
// evaluation can take a minute; until its checkpoint the status line's
// clock ticks and says what is being waited for, and the ticking stops
// once the run has checkpoints.
func TestClockRunsBeforeTheFirstCheckpoint(t *testing.T) {
	m := started(t, newModel(t, testConfig()))
	m.sess.now = func() time.Time { return fixedNow.Add(12 * time.Second) }
	m, cmd := send(m, clockMsg{id: m.sess.run.id})
	if cmd == nil {
		t.Fatal("the clock did not tick on before the first checkpoint")
	}
	v := m.View()
	if !strings.Contains(v, "measuring the errors on") || !strings.Contains(v, "0:12") {
		t.Fatalf("no live clock before the first checkpoint:\n%s", v)
	}
	if _, cmd := send(m, clockMsg{id: m.sess.run.id - 1}); cmd != nil {
		t.Fatal("an old run's clock ticked on")
	}
	m = pump(t, m)
	if _, cmd := send(m, clockMsg{id: m.sess.run.id}); cmd != nil {
		t.Fatal("the clock ticked on after the run had checkpoints")
	}
	if strings.Contains(m.View(), "measuring the errors on") {
		t.Fatal("the wait is still shown after the run")
	}
}

// TestLongMessagesWrap: a refusal too long for 80 columns wraps into more
// status rows instead of losing its reason; the screen keeps its size.
func TestLongMessagesWrap(t *testing.T) {
	m := newModel(t, testConfig())
	m, _ = send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	reason := "learner: exact-erm on 50 samples in 1 dimensions at width 32 is 3.1e+61 subproblems, more than the 1000000 allowed (fewer units or samples)"
	m.status.set(false, "learner refused: %s", reason)
	v := m.View()
	if n := len(splitLines(v)); n != 24 {
		t.Fatalf("%d lines, want 24", n)
	}
	flat := strings.Join(strings.Fields(v), " ")
	if !strings.Contains(flat, "(fewer units or samples)") || !strings.Contains(flat, "more than the 1000000 allowed") {
		t.Fatalf("the refusal's reason is cut at 80 columns:\n%s", v)
	}
	for _, l := range splitLines(v) {
		if w := displayWidth(l); w != 80 {
			t.Fatalf("a line is %d cells wide: %q", w, l)
		}
	}
	if got := wrapMessage(strings.Repeat("word ", 100), 20, 3); len(got) != 3 || !strings.HasSuffix(got[2], "…") {
		t.Fatalf("a very long message: %q, want 3 rows, the last cut with …", got)
	}
}

// TestResetAndShareKeys: R brings the settings back to the preset's (here
// the ones the explorer opened with) and restarts; y gives the command of
// the run shown to the clipboard.
func TestResetAndShareKeys(t *testing.T) {
	th := NoColorTheme()
	var clip []string
	m := New(testConfig(), Options{Theme: &th, Now: func() time.Time { return fixedNow }, SaveDir: t.TempDir(), Pace: math.Inf(1),
		Clipboard: func(s string) { clip = append(clip, s) }})
	t.Cleanup(func() { m.Close() })
	m = started(t, m)
	m, _ = press(m, "down", "down", "right") // width 16 → 32
	if m.cfg.Width == testConfig().Width {
		t.Fatal("→ did not change the width")
	}
	m, cmd := press(m, "R")
	if m.cfg != testConfig() || cmd == nil || !strings.Contains(m.status.msg, "back to the preset") {
		t.Fatalf("R: width %d, status %q", m.cfg.Width, m.status.msg)
	}
	if _, cmd := press(m, "R"); cmd != nil {
		t.Fatal("R on the preset's settings restarted the run")
	}
	m, cmd = press(m, "y")
	if cmd == nil {
		t.Fatal("y copied nothing")
	}
	cmd()
	if len(clip) != 1 || !strings.HasPrefix(clip[0], "reluscope run") || !strings.Contains(m.status.msg, clip[0]) {
		t.Fatalf("y: clipboard %q, status %q", clip, m.status.msg)
	}
}

// TestMouse: a click on a setting selects it, the wheel over it steps its
// value, a click on "f" in the key bar opens the fooling pair, and a
// click closes the help.
func TestMouse(t *testing.T) {
	m := started(t, newModel(t, testConfig()))
	m, _ = send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	click := func(x, y int, b tea.MouseButton) tea.MouseMsg {
		return tea.MouseMsg{X: x, Y: y, Action: tea.MouseActionPress, Button: b}
	}
	m, _ = send(m, click(5, 2+2, tea.MouseButtonLeft)) // the third row: width
	if fields[m.settings.selected].name != "width" {
		t.Fatalf("a click on the third row selected %q", fields[m.settings.selected].name)
	}
	w := m.cfg.Width
	m, cmd := send(m, click(5, 2+2, tea.MouseButtonWheelUp))
	if m.cfg.Width <= w || cmd == nil {
		t.Fatalf("the wheel up over width: %d → %d", w, m.cfg.Width)
	}
	bar := ansi.Strip(m.keyBar(80))
	x := strings.Index(bar, "e f v views")
	if x < 0 {
		t.Fatalf("no views in the key bar %q", bar)
	}
	x = ansi.StringWidth(bar[:x]) + 2 // the f
	m, _ = send(m, click(x, 23, tea.MouseButtonLeft))
	if m.screen != screenFool {
		t.Fatalf("a click on f in the key bar: screen %d", m.screen)
	}
	m.showHelp = true
	m, _ = send(m, click(40, 10, tea.MouseButtonLeft))
	if m.showHelp {
		t.Fatal("a click did not close the help")
	}
}

// TestHelpPausesAndPassesKeys: the help holds the run while it is open; a
// key that closes it also does what it does (f opens the fooling pair); an
// empty edit box keeps the value.
func TestHelpPausesAndPassesKeys(t *testing.T) {
	m := started(t, newModel(t, testConfig()))
	m, _ = press(m, "?")
	if !m.showHelp || !m.sess.ctl.Paused() {
		t.Fatalf("? : help %v, run paused %v", m.showHelp, m.sess.ctl.Paused())
	}
	m, _ = press(m, "f")
	if m.showHelp || m.screen != screenFool {
		t.Fatalf("f in the help: help %v, screen %d", m.showHelp, m.screen)
	}
	m, _ = press(m, "esc", "?", "?")
	if m.showHelp || m.sess.ctl.Paused() || m.screen != screenTrain {
		t.Fatalf("? twice: help %v, paused %v", m.showHelp, m.sess.ctl.Paused())
	}
	w := m.cfg.Width
	m, _ = press(m, "down", "down", "enter", "enter")
	if m.cfg.Width != w || !strings.Contains(m.status.msg, "kept at") || m.settings.editing {
		t.Fatalf("enter on an empty box: width %d (was %d), status %q", m.cfg.Width, w, m.status.msg)
	}
	m.Close()
	drain(t, m.sess.events)
}

// TestRemainingTimeAndPaceAreHonest: the time left is at the recent rate
// (a pace slowed to 0.5 epochs a second: 700 steps at 2 a second, 5:50),
// not the run's average; a pace the machine cannot keep up with says what
// it reaches.
func TestRemainingTimeAndPaceAreHonest(t *testing.T) {
	st := NewStyles(NoColorTheme())
	cfg := testConfig() // 200 samples, batch 50: 4 steps an epoch
	cfg.Epochs = 200
	r := &runState{cfg: cfg, started: true, epoch: 25, step: 100, stepsPerSec: 2, elapsed: 10 * time.Second}
	v := statusLine{}.view(&st, r, phaseTraining, "0.5 ep/s", 0.5, false, 120)
	if !strings.Contains(v, "5:50 left") || !strings.Contains(v, "0.5 ep/s") {
		t.Fatalf("paced at 0.5 ep/s:\n%s", v)
	}
	r.stepsPerSec = 64 // 16 epochs a second against a pace of 500
	v = statusLine{}.view(&st, r, phaseTraining, "500 ep/s", 500, false, 120)
	if !strings.Contains(v, "16 of 500 ep/s") {
		t.Fatalf("a pace out of reach:\n%s", v)
	}
}

// TestNewDataKeepsTheStudent: d draws new training data (the data seed)
// and keeps the student's start; s draws both.
func TestNewDataKeepsTheStudent(t *testing.T) {
	m := started(t, newModel(t, testConfig()))
	c := m.cfg
	m, cmd := press(m, "d")
	if m.cfg.DataSeed != c.DataSeed+1 || m.cfg.InitSeed != c.InitSeed || cmd == nil {
		t.Fatalf("d: data seed %d → %d, init seed %d → %d", c.DataSeed, m.cfg.DataSeed, c.InitSeed, m.cfg.InitSeed)
	}
	m, _ = press(m, "s")
	if m.cfg.InitSeed != c.InitSeed+1 || m.cfg.DataSeed != m.cfg.InitSeed {
		t.Fatalf("s: init seed %d, data seed %d", m.cfg.InitSeed, m.cfg.DataSeed)
	}
}

// TestPresentStartsFocused: --present opens in the focus view.
func TestPresentStartsFocused(t *testing.T) {
	m := New(testConfig(), Options{Present: true, Now: func() time.Time { return fixedNow }, SaveDir: t.TempDir()})
	if !m.focus {
		t.Fatal("Present did not start in the focus view")
	}
	if p := PresentTheme(); p.Muted == DefaultTheme().Muted {
		t.Fatal("the present theme's muted text is the default's")
	}
}

// A setting estimated over ten minutes here does not start by itself: the
// status says about how long it takes and r starts it; enter keeps its
// meaning, typing a value (it started the run and dropped the value).
func TestLongRunAsksFirst(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	cfg := testConfig()
	cfg.Width, cfg.Depth, cfg.Samples, cfg.Epochs = 1024, 5, 1000000, 200 // ~4e15 flops of training
	m := newModel(t, cfg)
	// No rate measured yet on this machine: the run waits while one is
	// measured (the run before stopped), then says its estimate.
	forgetRate(t)
	m, measure := send(m, m.Init()())
	if measure == nil || m.sess.events != nil || m.sess.cancel != nil || !m.sess.asking || !strings.Contains(m.status.msg, "measuring this machine's speed") {
		t.Fatalf("a long run without a rate: status %q, waiting %v", m.status.msg, m.sess.asking)
	}
	msg := measure()
	if rm, ok := msg.(rateMsg); !ok || rm.err != nil {
		t.Fatalf("the measurement sent %#v", msg)
	}
	m, _ = send(m, msg)
	if m.sess.events != nil || m.sess.cancel != nil || !m.sess.asking {
		t.Fatal("a run estimated at hours started without asking")
	}
	if !strings.Contains(m.status.msg, "takes about") || !strings.Contains(m.status.msg, "r starts it") || !strings.Contains(m.View(), "? waiting") {
		t.Fatalf("status %q\n%s", m.status.msg, m.View())
	}
	// Other keys act as usual and keep it waiting: enter opens the edit
	// box of the selected setting, esc closes it.
	m, _ = press(m, "down", "enter")
	if m.sess.cancel != nil || !m.sess.asking || !m.settings.editing {
		t.Fatalf("enter in the gate: run started %v, waiting %v, editing %v", m.sess.cancel != nil, m.sess.asking, m.settings.editing)
	}
	m, _ = press(m, "esc", "r")
	if m.sess.cancel == nil || m.sess.asking || !strings.Contains(m.status.msg, "started: about ") || !strings.Contains(m.status.msg, " here") {
		t.Fatalf("r did not start the long run: status %q", m.status.msg)
	}
	m.Close()
	drain(t, m.sess.events) // the cancelled run's goroutine has ended
	// The same settings, once confirmed, are not asked again (r, c).
	m.sess.stop()
	if wait, _ := m.askFirst(m.runConfig()); wait {
		t.Fatal("a confirmed setting was asked again")
	}
	// The rate is kept: the next long setting says its estimate at once.
	m.cfg.Width = 1000
	if wait, cmd := m.askFirst(m.runConfig()); !wait || cmd != nil || !strings.Contains(m.status.msg, "takes about") {
		t.Fatalf("with a rate kept: waiting %v, measuring %v, status %q", wait, cmd != nil, m.status.msg)
	}
	// A measurement for settings no longer shown changes nothing.
	before := m.status.msg
	m, _ = send(m, rateMsg{hash: "other"})
	if m.status.msg != before || !m.sess.asking {
		t.Fatal("a stale measurement changed the gate")
	}
	// A short setting never asks.
	short := newModel(t, testConfig())
	short, _ = send(short, short.Init()())
	if short.sess.asking || short.sess.cancel == nil {
		t.Fatal("a short run asked before starting")
	}
	short.Close()
	drain(t, short.sess.events)
}

// forgetRate sends the rates this process measured or read, and the cache
// of measured rates, to a new folder of the test's: the next long setting
// is measured.
func forgetRate(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	experiment.ForgetRates()
}

// TestMouseOnAScrolledList: with the settings scrolled (the selection
// moved to the last ones at sizes where they do not all fit), a click and
// then the wheel on each row the list shows act on the setting that row
// shows, at several sizes (they acted one row off: the wheel over
// "epochs" changed the batch).
func TestMouseOnAScrolledList(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {64, 20}, {100, 30}} {
		m := started(t, newModel(t, testConfig()))
		m, _ = send(m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		m, _ = press(m, "up", "up", "up") // from the first, wrapped to the last ones: scrolled
		scrolled := false
		for y := 2; y < size[1]-2; y++ {
			line := []rune(ansi.Strip(m.View()))
			rows := strings.Split(string(line), "\n")
			row := []rune(rows[y])
			raw := string(row[1:min(len(row), controlsWidth-1)])
			if !strings.HasPrefix(raw, "  ") && !strings.HasPrefix(raw, "▸ ") {
				continue // the border, the counts under the list
			}
			text := strings.TrimLeft(raw, " ▸")
			name := ""
			for _, f := range fields {
				if strings.HasPrefix(text, f.name+" ") && len(f.name) > len(name) {
					name = f.name
				}
			}
			if name == "" {
				continue // a row under the list
			}
			if y == 2 && name != fields[0].name {
				scrolled = true
			}
			for _, b := range []tea.MouseButton{tea.MouseButtonLeft, tea.MouseButtonWheelUp} {
				m, _ = send(m, tea.MouseMsg{X: 5, Y: y, Action: tea.MouseActionPress, Button: b})
				if got := fields[m.settings.selected].name; got != name {
					t.Fatalf("%dx%d: button %v on row %d showing %q acted on %q:\n%s", size[0], size[1], b, y, name, got, strings.Join(rows, "\n"))
				}
			}
			m, _ = press(m, "esc")
		}
		if !scrolled && size[1] < 30 {
			t.Fatalf("%dx%d: the list was never scrolled", size[0], size[1])
		}
	}
}
