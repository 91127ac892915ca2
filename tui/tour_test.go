package tui

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// wrapWords never splits a word: every line fits, the words come back in
// order, and text cut off ends the last line with "…" after a whole word.
func TestWrapWordsKeepsWholeWords(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	vocab := strings.Fields("L∞ 0.0641 is 5.9× L2 -0.83 — and stays. not the uniform error does (c^L·N^(L−1)/ε)^d samples, 7e+16 at m = 1000 --data-seed --teacher-seed=7 results/sweep-paper-1d")
	for trial := 0; trial < 2000; trial++ {
		var words []string
		for k := 1 + r.IntN(40); k > 0; k-- {
			words = append(words, vocab[r.IntN(len(vocab))])
		}
		w, n := 24+r.IntN(100), 1+r.IntN(3) // wider than the longest word
		lines := wrapWords(strings.Join(words, " "), w, n)
		if len(lines) > n {
			t.Fatalf("%d lines, want ≤ %d", len(lines), n)
		}
		var got []string
		for _, l := range lines {
			if ansi.StringWidth(l) > w {
				t.Fatalf("line %q is wider than %d", l, w)
			}
			got = append(got, strings.Fields(l)...)
		}
		cut := len(got) > 0 && got[len(got)-1] == "…"
		if cut {
			got = got[:len(got)-1]
		}
		if len(got) > len(words) || strings.Join(got, " ") != strings.Join(words[:len(got)], " ") || cut == (len(got) == len(words)) {
			t.Fatalf("w %d, %d lines: %q from %q", w, n, lines, words)
		}
	}
}

// The tour's keys: space goes on, ← back (not below the first step, not
// past the last), q leaves into the free explorer with the step's settings
// and view; each step sets its settings, view and the focus view up.
func TestTourKeys(t *testing.T) {
	m := newModel(t, testConfig())
	defer func() { m.Close() }() // the last step's runs
	m, _ = press(m, "T")
	if m.tour == nil || m.tour.at != 0 || !m.focus || m.screen != screenTrain {
		t.Fatalf("T did not open the tour at its first step in the focus view: %+v", m.tour)
	}
	m, _ = press(m, "left")
	if m.tour.at != 0 {
		t.Fatal("← went below the first step")
	}
	want := []screenID{screenTrain, screenTrain, screenErrorView, screenComplexity, screenComplexity, screenFool, screenFool, screenFool}
	dims := []int{1, 3, 1, 1, 3, 1, 1, 3}
	for i := 0; i < TourSteps(); i++ {
		if m.tour.at != i || m.screen != want[i] || m.cfg.Dim != dims[i] || !m.focus {
			t.Fatalf("step %d: at %d, screen %d, dim %d, focus %v", i+1, m.tour.at, m.screen, m.cfg.Dim, m.focus)
		}
		if v := m.View(); !strings.Contains(v, "tour ") || strings.Count(v, "\n") != 29 {
			t.Fatalf("step %d's view lacks its caption or is not 30 rows:\n%s", i+1, v)
		}
		if i < TourSteps()-1 {
			m, _ = press(m, " ")
		}
	}
	if m.cfg.Samples != testConfig().Samples || m.cfg.Depth != testConfig().Depth {
		t.Fatalf("a step's settings leaked into the next: %+v", m.cfg)
	}
	m, _ = press(m, " ")
	if m.tour.at != TourSteps()-1 {
		t.Fatal("space went past the last step")
	}
	m, _ = press(m, "left")
	if m.tour.at != TourSteps()-2 || m.cfg.Depth != 6 || m.cfg.Dim != 1 {
		t.Fatalf("← from the last step: at %d, depth %d, dim %d; want step %d at depth 6, d = 1", m.tour.at+1, m.cfg.Depth, m.cfg.Dim, TourSteps()-1)
	}
	m, _ = press(m, "q")
	if m.tour != nil || m.focus || m.screen != screenFool || m.cfg.Depth != 6 {
		t.Fatalf("q did not leave into the free explorer at the step: tour %v, focus %v, screen %d, depth %d", m.tour, m.focus, m.screen, m.cfg.Depth)
	}
	if v := m.View(); strings.Contains(v, "tour 7/8") || !strings.Contains(v, "left the tour") {
		t.Fatalf("after q:\n%s", v)
	}
}

// At every width the headline either keeps "does not" whole or says
// nothing beyond the name: never "… the uniform error L∞ does".
func TestHeadlineKeepsItsNegation(t *testing.T) {
	m := newModel(t, testConfig())
	for w := 10; w <= 200; w++ {
		title := m.title(w)
		if ansi.StringWidth(title) > w && w >= 9 {
			t.Fatalf("width %d: the title %q is wider", w, title)
		}
		if title != "reluscope" && !strings.HasSuffix(title, "L∞ does not") {
			t.Fatalf("width %d: %q", w, title)
		}
		if w >= 64 && !strings.Contains(title, "does not") {
			t.Fatalf("width %d (≥ the documented minimum 64): %q lost its claim", w, title)
		}
	}
}

// At 64×20 the keys take several pages: ? shows the first with a line
// saying which of how many, ? again the next, through the last (quit);
// every key appears on a page; ? on the last closes the help.
func TestHelpPagesAtTheSmallestSize(t *testing.T) {
	m := newModel(t, testConfig())
	defer func() { m.Close() }()
	mm, _ := m.Update(tea.WindowSizeMsg{Width: 64, Height: 20})
	m = mm.(Model)
	m, _ = press(m, "?")
	n := m.helpPages()
	if n < 2 {
		t.Fatalf("%d page at 64×20", n)
	}
	all := ""
	for p := 1; p <= n; p++ {
		v := m.View()
		if !m.showHelp || !strings.Contains(v, fmt.Sprintf("keys %d of %d pages", p, n)) {
			t.Fatalf("page %d of %d:\n%s", p, n, v)
		}
		all += v
		m, _ = press(m, "?")
	}
	if m.showHelp {
		t.Fatal("? on the last page did not close the help")
	}
	for _, r := range m.keys.helpRows() {
		if !strings.Contains(all, r.desc) {
			t.Fatalf("%q (%s) is on no page", r.desc, r.keys)
		}
	}
}

// --pace 3 runs at 3 epochs a second, not at the nearest level (2): the
// pace asked for becomes a level of its own, < and > step from it.
func TestPaceBetweenTheLevelsIsKept(t *testing.T) {
	s := newSession(nil, nil, 3, 200)
	if s.paceEps() != 3 || s.paceLabel() != "3 ep/s" {
		t.Fatalf("--pace 3: %v (%s)", s.paceEps(), s.paceLabel())
	}
	s.stepPace(1)
	if s.paceEps() != 5 {
		t.Fatalf("> from 3: %v, want 5", s.paceEps())
	}
	s.stepPace(-2)
	if s.paceEps() != 2 {
		t.Fatalf("< < from 5: %v, want 2", s.paceEps())
	}
	if d := newSession(nil, nil, 0, 200); d.paceEps() != 10 {
		t.Fatalf("the default pace of 200 epochs: %v ep/s, want 10 (20 s)", d.paceEps())
	}
}

// Keep training (c) is the run's: a new setting or r starts a run that
// stops at its epochs again.
func TestKeepTrainingEndsWithTheRun(t *testing.T) {
	m := newModel(t, testConfig())
	defer func() { m.Close() }()
	m, _ = press(m, "c")
	if !m.sess.forever {
		t.Fatal("c did not turn keep training on")
	}
	m, _ = press(m, "r")
	if m.sess.forever {
		t.Fatal("r kept keep-training mode for the new run")
	}
	m, _ = press(m, "c")
	m, _ = send(m, restartMsg{}) // what a changed setting sends after the debounce
	if m.sess.forever {
		t.Fatal("a new setting's run kept keep-training mode")
	}
}

// A setting that would run for hours waits for r — and the run before it
// stops there: its memory goes, its progress and numbers leave the screen.
func TestWaitingGateStopsTheRunBefore(t *testing.T) {
	m := newModel(t, testConfig())
	defer func() { m.Close() }()
	m, _ = send(m, restartMsg{})
	old := m.sess.run.ctx
	long := m.cfg
	long.Width, long.Samples, long.Epochs = 2048, 100000, 5000
	m.cfg = long
	m, _ = send(m, restartMsg{})
	if !m.sess.asking {
		t.Skip("the long setting is not estimated over the gate's limit here")
	}
	select {
	case <-old.Done():
	default:
		t.Fatal("the run before the gate still runs")
	}
	if len(m.sess.run.hist) != 0 || m.sess.run.cfg.Width != 2048 || !strings.Contains(m.View(), "? waiting") {
		t.Fatalf("the gate shows the run before: %d checkpoints, width %d\n%s", len(m.sess.run.hist), m.sess.run.cfg.Width, m.View())
	}
}
