package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/presets"
)

// tourCaption is the tour's caption on screen: its two rows and the step
// line under them, joined into one line of text.
func tourCaption(scr string) string {
	lines := strings.Split(strings.TrimRight(scr, "\n"), "\n")
	lines = lines[max(0, len(lines)-3):]
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, " ")
}

// headlessLast is the last checkpoint of the explorer's run of the
// default settings changed by change, run headless (reluscope run, the
// command the share key gives).
func headlessLast(t *testing.T, change func(*experiment.Config)) experiment.Checkpoint {
	t.Helper()
	p, err := presets.Load("default")
	if err != nil {
		t.Fatal(err)
	}
	cfg := explorerSettings(p.Config, func(string) bool { return false })
	change(&cfg)
	line := experiment.Command(experiment.ExplorerConfig(cfg), p.Config, "default")
	args := append(strings.Fields(line)[1:], "--json")
	out := runBinary(t, args...)
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<24)
	var last *experiment.Checkpoint
	for sc.Scan() {
		var ev experiment.Event
		if json.Unmarshal(sc.Bytes(), &ev) == nil && len(ev.Checkpoints) > 0 {
			last = &ev.Checkpoints[len(ev.Checkpoints)-1]
		}
	}
	if last == nil {
		t.Fatalf("%s gave no checkpoint:\n%s", line, experiment.Excerpt(out, 2000))
	}
	return *last
}

// foolHeight is `reluscope fool`'s bump height for flags.
func foolHeight(t *testing.T, flags ...string) float64 {
	t.Helper()
	out := runBinary(t, append([]string{"fool"}, flags...)...)
	v, ok := number(regexp.MustCompile(`sup norm ([0-9.e+]+) at`), out)
	if !ok {
		t.Fatalf("reluscope fool %v: no height in\n%s", flags, out)
	}
	return v
}

// TestTourAt80x24 walks `reluscope tour` through all its steps at 80×24,
// as a teacher would with space, and checks each caption's live numbers:
// the runs' against the same settings run headless, the fooling pair's
// against `reluscope fool`, the slopes and the error between the samples
// against what the README says; ← goes back, q leaves the tour into the
// free explorer.
func TestTourAt80x24(t *testing.T) {
	e := startExplorer(t, 80, 24, "tour", "--pace", "full")
	g3 := func(v float64) string { return fmt.Sprintf("%.3g", v) }
	step := func(n int, what string, timeout time.Duration, ok func(caption string) bool) string {
		t.Helper()
		scr := e.waitFor(what, timeout, func(s string) bool {
			c := tourCaption(s)
			return strings.Contains(c, fmt.Sprintf("tour %d/8", n)) && ok(c)
		})
		for _, l := range strings.Split(scr, "\n") {
			if n := len([]rune(l)); n > 80 {
				t.Fatalf("a row of %d columns:\n%s", n, scr)
			}
		}
		t.Logf("step %d:\n%s", n, strings.Join(strings.Split(scr, "\n")[21:], "\n"))
		return tourCaption(scr)
	}
	// 1: the claim, d = 1, to its end.
	want1 := headlessLast(t, func(*experiment.Config) {})
	step(1, "the claim's run to its end", 300*time.Second, func(c string) bool {
		return strings.Contains(c, fmt.Sprintf("Epoch 200: L2 %s, L∞ %s = %.1f× L2.", g3(want1.L2), g3(want1.Linf), want1.Linf/want1.L2))
	})
	// 2: d = 3; L∞ several times L2 at the end, and stays.
	e.keys("Space")
	want2 := headlessLast(t, func(c *experiment.Config) { c.Dim = 3 })
	if !(want2.Linf > 5*want2.L2) {
		t.Fatalf("d = 3 headless: L∞ %g, L2 %g: not the gap the step states", want2.Linf, want2.L2)
	}
	step(2, "the d = 3 run to its end", 300*time.Second, func(c string) bool {
		return strings.Contains(c, fmt.Sprintf("Epoch 200: L∞ %s is %.1f× L2 %s — and stays.", g3(want2.Linf), want2.Linf/want2.L2, g3(want2.L2)))
	})
	// 3: 10 samples; between them |e| over 10× its value at them.
	e.keys("Space")
	hide := regexp.MustCompile(`At the 10 samples \|e\| ≤ [0-9.e-]+, between [0-9.e-]+: ([0-9]+)×\.`)
	step(3, "the error between the samples", 300*time.Second, func(c string) bool {
		r, ok := number(hide, c)
		return ok && r >= 10
	})
	// 4, 5: the slopes in m, flatter in d = 3; the d = 1 fall recalled.
	slopes := regexp.MustCompile(`Slopes: L2 (-[0-9.]+), L∞ (-[0-9.]+): ×10 samples cut L2 [0-9.]+×, L∞ ([0-9.]+)×`)
	e.keys("Space")
	c4 := step(4, "the d = 1 slopes", 300*time.Second, func(c string) bool { return slopes.MatchString(c) })
	m4 := slopes.FindStringSubmatch(c4)
	e.keys("Space")
	c5 := step(5, "the d = 3 slopes", 300*time.Second, func(c string) bool { return slopes.MatchString(c) })
	m5 := slopes.FindStringSubmatch(c5)
	var s [6]float64
	for i, v := range append(m4[1:], m5[1:]...) {
		fmt.Sscan(v, &s[i])
	}
	t.Logf("slopes d = 1: L2 %.2f, L∞ %.2f (÷%.1f a decade); d = 3: L2 %.2f, L∞ %.2f (÷%.1f)", s[0], s[1], s[2], s[3], s[4], s[5])
	if !(s[0] < s[1] && s[3] < s[4] && s[4] > s[1] && s[5] < s[2]) || !strings.Contains(c5, fmt.Sprintf("(d = 1: %s×)", m4[3])) {
		t.Fatalf("the slopes do not say what the steps state (L2 steeper; L∞ flatter in d = 3):\n%s\n%s", c4, c5)
	}
	// 6, 7, 8: the fooling pair, by depth, and in d = 3 — heights equal
	// reluscope fool's.
	for _, tc := range []struct {
		n     int
		flags []string
		text  func(h float64) string
	}{
		{6, nil, func(h float64) string {
			return fmt.Sprintf("is 0 on all 1000 samples (max |·| = 0) yet rises to %s between them: any learner errs by ≥ %s", g3(h), g3(h/2))
		}},
		{7, []string{"--depth", "6"}, func(h float64) string { return fmt.Sprintf("Depth 6: the bump rises to %s, ×16 a layer", g3(h)) }},
		{8, []string{"--dim", "3"}, func(h float64) string {
			return fmt.Sprintf("the bump is %s at m = 1000: ε = 0.01 needs m ≈ %.0e", g3(h), 1000*math.Pow(h/0.02, 3))
		}},
	} {
		h := foolHeight(t, tc.flags...)
		e.keys("Space")
		step(tc.n, fmt.Sprintf("step %d's bump", tc.n), 120*time.Second, func(c string) bool { return strings.Contains(c, tc.text(h)) })
	}
	// ← goes back a step; q leaves the tour, the explorer stays.
	e.keys("Left")
	step(7, "back at step 7", 120*time.Second, func(c string) bool { return strings.Contains(c, "Depth 6") })
	e.keys("q")
	scr := e.waitFor("the free explorer", 30*time.Second, func(s string) bool {
		return !strings.Contains(s, "tour 7/8") && strings.Contains(s, "? keys · q quit") && strings.Contains(s, "▸ depth         6")
	})
	if bytes.Contains([]byte(scr), []byte("space next")) {
		t.Fatalf("the tour's caption stayed:\n%s", scr)
	}
	e.quit()
}
