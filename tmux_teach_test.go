package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	ratioRe   = regexp.MustCompile(`L∞/L2 ([0-9.]+)×`)
	hideRe    = regexp.MustCompile(`, between [0-9.e+-]+: ([0-9.]+)×`)
	slopesRe  = regexp.MustCompile(`slopes: L2 (-?[0-9.]+), L∞ (-?[0-9.]+)`)
	stepRe    = regexp.MustCompile(` step ([0-9.]+[kM]?) `)
	depthSelR = regexp.MustCompile(`▸ depth\s+(\d+) `)
)

// TestTeachingDemos drives the real binary with exactly the keys of the
// README's "Teaching with reluscope" and checks that the screen shows what
// the README says the class should see.
func TestTeachingDemos(t *testing.T) {
	needTmux(t)

	t.Run("1 L2 falls, L∞ does not", func(t *testing.T) {
		e := startExplorer(t, 80, 24)
		e.waitFor("a few seconds of the default run", 30*time.Second, func(s string) bool {
			n, ok := number(regexp.MustCompile(`epoch (\d+)/200`), s)
			return ok && n >= 20
		})
		e.keys("j", "Right", "Right")
		scr := e.waitFor("the dimension-3 run to finish", 90*time.Second, func(s string) bool {
			return strings.Contains(s, "✓ done") && regexp.MustCompile(`▸ dim\s+3 `).MatchString(s)
		})
		l2, _ := number(regexp.MustCompile(`L2 ([0-9.]+) `), scr)
		li, _ := number(regexp.MustCompile(`L∞ ([0-9.]+) at`), scr)
		r, _ := number(ratioRe, scr)
		t.Logf("d = 3 after 200 epochs: L2 %g, L∞ %g, ratio %g", l2, li, r)
		if !(l2 < 0.013 && li > 0.05 && li < 0.1 && r > 5) {
			t.Fatalf("d = 3: L2 %g, L∞ %g, L∞/L2 %g; the README says L2 about 0.011, L∞ 0.06–0.08, ratio above 5:\n%s", l2, li, r, scr)
		}
		if !strings.Contains(scr, "before: dim 1 → 3") || !strings.Contains(scr, "◆ true sup") {
			t.Fatalf("the previous run or the true sup is not on the chart:\n%s", scr)
		}
		e.quit()
	})

	t.Run("2 where the error hides", func(t *testing.T) {
		e := startExplorer(t, 80, 24, "--preset", "few-samples")
		e.keys("e")
		e.waitFor("|e| between the samples over 10× |e| at them", 60*time.Second, func(s string) bool {
			r, ok := number(hideRe, s)
			return strings.Contains(s, "at the 10 samples |e| ≤") && ok && r > 10
		})
		e.quit()
	})

	t.Run("3 samples help L2 more than L∞, dimension makes it worse", func(t *testing.T) {
		e := startExplorer(t, 80, 24)
		e.keys("v")
		slopes := func(what string) (float64, float64) {
			scr := e.waitFor(what, 240*time.Second, func(s string) bool { return strings.Contains(s, "7 of 7 runs") && slopesRe.MatchString(s) })
			m := slopesRe.FindStringSubmatch(scr)
			l2, _ := number(regexp.MustCompile(`(.+)`), m[1])
			li, _ := number(regexp.MustCompile(`(.+)`), m[2])
			return l2, li
		}
		l2, li := slopes("the d = 1 slopes")
		t.Logf("d = 1: slopes L2 %.2f, L∞ (exact sup) %.2f", l2, li)
		if !(l2 < li) || l2 > -0.75 || l2 < -0.9 || li > -0.65 || li < -0.85 {
			t.Fatalf("d = 1 slopes L2 %.2f, L∞ %.2f; the README says about −0.83 and −0.75", l2, li)
		}
		e.keys("v", "j", "Right", "Right", "v")
		e.waitFor("the d = 3 runs", 20*time.Second, func(s string) bool { return strings.Contains(s, "(d=3,") })
		l2b, lib := slopes("the d = 3 slopes")
		t.Logf("d = 3: slopes L2 %.2f, L∞ %.2f", l2b, lib)
		if !(l2b < lib) || !(lib > li) || l2b > -0.46 || l2b < -0.66 || lib > -0.35 || lib < -0.55 {
			t.Fatalf("d = 3 slopes L2 %.2f, L∞ %.2f; the README says about −0.56 and −0.45, flatter than at d = 1", l2b, lib)
		}
		e.quit()
	})

	t.Run("4 and 5 the fooling pair, taller with depth", func(t *testing.T) {
		e := startExplorer(t, 80, 24)
		e.keys("f")
		scr := e.waitFor("the fooling pair", 30*time.Second, func(s string) bool { return strings.Contains(s, "height by width") })
		for _, want := range []string{"bump 49.5", "bump on all 1000 samples: max |·| = 0", "2.22", "errs ≥ 24.8 on 0 or on the bump", "4:3.1  5:49.5  6:793"} {
			if !strings.Contains(scr, want) {
				t.Fatalf("the fooling pair lacks %q:\n%s", want, scr)
			}
		}
		e.keys("Right")
		scr = e.waitFor("the bump at depth 6", 30*time.Second, func(s string) bool {
			return strings.Contains(s, "bump 793") && strings.Contains(s, "5:49.5  6:793  7:1.27e+04")
		})
		if !strings.Contains(scr, "16:24.8  32:793  64:2.54e+04") {
			t.Fatalf("the heights by width at depth 6 are not shown:\n%s", scr)
		}
		e.quit()
	})
}

// TestExplorerPaceAndPause: at the default pace the chart moves on
// screen after screen before the run is done; space at width 2048 stops
// the step counter (after a first evaluation whose live
// clock is on screen); a key changes the screen idle and under load.
// Every wait is for an event (its deadline only guards against a hang):
// latencies are logged, not held to a number, so the test passes on a
// loaded machine.
func TestExplorerPaceAndPause(t *testing.T) {
	needTmux(t)

	t.Run("the default run can be watched", func(t *testing.T) {
		e := startExplorer(t, 80, 24)
		chart := func(s string) string {
			lines := strings.Split(s, "\n")
			return strings.Join(lines[2:min(len(lines), 10)], "\n")
		}
		scr := e.waitFor("the first curve", 120*time.Second, func(s string) bool { return strings.Contains(s, "L∞/L2") })
		if !strings.Contains(scr, "ep/s") {
			t.Fatalf("the status line does not show the pace:\n%s", scr)
		}
		// Ten different charts, each drawn while the run still trains:
		// the paced run is slow enough to watch, however fast the machine.
		prev := chart(scr)
		for i := 0; i < 10; i++ {
			scr = e.waitFor("the chart to move", 120*time.Second, func(s string) bool {
				return chart(s) != prev || strings.Contains(s, "✓ done")
			})
			if strings.Contains(scr, "✓ done") {
				t.Fatalf("the default run was done after %d chart changes; want it paced to be watched:\n%s", i, scr)
			}
			prev = chart(scr)
		}
		e.quit()
	})

	t.Run("pause at width 2048", func(t *testing.T) {
		// Steps of width 2048 (about 4 GFLOP each: long enough that one is
		// under way when space lands); 2048 evaluation points so that the
		// first evaluation takes seconds, not minutes, on a loaded machine.
		e := startExplorer(t, 100, 30, "--width", "2048", "--samples", "2000", "--epochs", "1000", "--eval-points", "2048")
		// Hours of training here: the explorer says so and waits for r.
		e.waitFor("the long-run estimate", 120*time.Second, func(s string) bool {
			return strings.Contains(s, "? waiting") && strings.Contains(s, "takes about")
		})
		// enter keeps its meaning there: the edit box, not the run.
		e.keys("Enter")
		e.waitFor("the edit box in the gate", 30*time.Second, func(s string) bool {
			return strings.Contains(s, "✎ depth") && strings.Contains(s, "? waiting")
		})
		e.keys("Escape")
		e.waitFor("the edit box closed", 30*time.Second, func(s string) bool { return !strings.Contains(s, "✎") })
		e.keys("r")
		// The first checkpoint's evaluation comes first; its clock is live.
		e.waitFor("the live clock of the first evaluation", 300*time.Second, func(s string) bool {
			return strings.Contains(s, "measuring the errors on") || strings.Contains(s, "L∞/L2")
		})
		e.waitFor("training steps", 600*time.Second, func(s string) bool {
			n, ok := number(stepRe, s)
			return ok && n >= 3 && strings.Contains(s, "▶ training")
		})
		sent := time.Now()
		e.keys("Space")
		e.waitFor("the run shown paused", 60*time.Second, func(s string) bool { return strings.Contains(s, "‖ paused") })
		// Steps already under way may still land; then the counter holds.
		var n float64
		e.waitFor("the step counter to settle", 60*time.Second, func(s string) bool {
			v, ok := number(stepRe, s)
			settled := ok && v == n
			n = v
			if !settled {
				time.Sleep(500 * time.Millisecond)
			}
			return settled
		})
		t.Logf("pause at width 2048: the step counter settled at %.0f, %v after space", n, time.Since(sent).Round(time.Millisecond))
		for i := 0; i < 4; i++ {
			time.Sleep(500 * time.Millisecond)
			scr := e.screen()
			if v, _ := number(stepRe, scr); v != n || !strings.Contains(scr, "‖ paused") {
				t.Fatalf("paused at step %.0f, the counter moved on to %.0f:\n%s", n, v, scr)
			}
		}
		e.quit()
	})

	t.Run("key latency", func(t *testing.T) {
		measure := func(e *explorer) time.Duration {
			var best time.Duration = time.Hour
			for i := 0; i < 3; i++ {
				before := depthSelR.MatchString(e.screen())
				sent := time.Now()
				e.keys("j")
				e.waitFor("the selection to move", 60*time.Second, func(s string) bool { return depthSelR.MatchString(s) != before })
				best = min(best, time.Since(sent))
				e.keys("k")
				e.waitFor("the selection to move back", 60*time.Second, func(s string) bool { return depthSelR.MatchString(s) == before })
			}
			return best
		}
		idle := startExplorer(t, 80, 24, "--pace", "full")
		idle.waitFor("the run done", 300*time.Second, func(s string) bool { return strings.Contains(s, "✓ done") })
		li := measure(idle)
		idle.quit()
		busy := startExplorer(t, 80, 24, "--pace", "full", "--width", "512", "--epochs", "100000")
		busy.waitFor("the long-run estimate", 120*time.Second, func(s string) bool { return strings.Contains(s, "? waiting") })
		busy.keys("r")
		busy.waitFor("training", 300*time.Second, func(s string) bool { return strings.Contains(s, "▶ training") })
		lb := measure(busy)
		busy.quit()
		t.Logf("key→screen latency (best of 3, tmux polling included): idle %v, training width 512 at full speed %v", li.Round(time.Millisecond), lb.Round(time.Millisecond))
	})
}

// TestExplorerSmallTerminalsAndTyping: 40×10, 20×5 and a resize to 10×5 do
// not crash; typing a value replaces the old one.
func TestExplorerSmallTerminalsAndTyping(t *testing.T) {
	needTmux(t)
	for _, size := range [][2]int{{40, 10}, {20, 5}} {
		e := startExplorer(t, size[0], size[1], "--pace", "full")
		e.waitFor("the small-terminal note", 30*time.Second, func(s string) bool { return strings.Contains(s, "q quits") })
		e.quit()
	}
	e := startExplorer(t, 80, 24, "--pace", "full")
	e.waitFor("the panels", 30*time.Second, func(s string) bool { return strings.Contains(s, "settings") })
	e.tmux("resize-window", "-t", "main", "-x", "10", "-y", "5")
	e.waitFor("the 10×5 note", 10*time.Second, func(s string) bool { return strings.Contains(s, "q quits") })
	e.tmux("resize-window", "-t", "main", "-x", "80", "-y", "24")
	e.waitFor("the panels again", 10*time.Second, func(s string) bool { return strings.Contains(s, "settings") })
	// Typing replaces: depth 5, enter, 3, enter → 3 (not 53).
	e.keys("Enter")
	e.waitFor("the edit box", 10*time.Second, func(s string) bool { return strings.Contains(s, "✎ depth") && strings.Contains(s, "▏]") })
	e.keys("3", "Enter")
	e.waitFor("depth 3", 10*time.Second, func(s string) bool {
		m := depthSelR.FindStringSubmatch(s)
		return m != nil && m[1] == "3" && strings.Contains(s, "depth = 3")
	})
	e.quit()
}

// TestExplorerFocus: at 80×24, z gives demonstration 1's error chart the
// whole terminal: at least 16 plot rows, the settings hidden, the
// checkpoint's numbers under it; z again brings the panels back.
func TestExplorerFocus(t *testing.T) {
	needTmux(t)
	e := startExplorer(t, 80, 24, "--pace", "full")
	e.waitFor("the first curve", 120*time.Second, func(s string) bool { return strings.Contains(s, "L∞/L2") })
	e.keys("z")
	scr := e.waitFor("the focus view", 60*time.Second, func(s string) bool { return !strings.Contains(s, "settings") })
	rows := 0
	for _, l := range strings.Split(scr, "\n") {
		if strings.ContainsAny(l, "┤┼") {
			rows++
		}
	}
	if rows < 16 || !strings.Contains(scr, "L∞/L2") {
		t.Fatalf("focus at 80×24: %d plot rows, want ≥ 16, and the numbers:\n%s", rows, scr)
	}
	e.keys("z")
	e.waitFor("the panels back", 60*time.Second, func(s string) bool { return strings.Contains(s, "settings") })
	e.quit()

	// Demonstration 1's end (dimension 3) in focus: the L∞ and L2 lines at
	// the last epoch are at least 3 rows apart, a gap a class can see.
	e = startExplorer(t, 80, 24, "--pace", "full", "--dim", "3")
	e.waitFor("the finished run", 300*time.Second, func(s string) bool { return strings.Contains(s, "✓ done") })
	e.keys("z")
	scr = e.waitFor("the focus view", 60*time.Second, func(s string) bool { return !strings.Contains(s, "settings") })
	linf, l2 := lastRow(scr, "─╭╮╰╯"), lastRow(scr, "━┏┓┗┛")
	if linf < 0 || l2 < 0 || l2-linf < 3 {
		t.Fatalf("demonstration 1 in focus at 80×24: L∞ ends on row %d, L2 on row %d, want ≥ 3 rows apart:\n%s", linf, l2, scr)
	}
	t.Logf("demonstration 1 in focus at 80×24: the L∞ and L2 lines end %d rows apart", l2-linf)
	e.quit()
}

// lastRow is the row of a chart line's rightmost cell: the rows of screen
// whose glyphs (one of chars) reach furthest right, inside the borders; the
// lowest such row.
func lastRow(screen, chars string) int {
	best, row := -1, -1
	for y, l := range strings.Split(screen, "\n") {
		if strings.ContainsRune(l, '└') || strings.HasPrefix(l, "╭") || strings.HasPrefix(l, "╰") {
			continue // the x axis, the panel's borders
		}
		r := []rune(l)
		for c := len(r) - 2; c > 0; c-- {
			if strings.ContainsRune(chars, r[c]) {
				if c >= best {
					best, row = c, y
				}
				break
			}
		}
	}
	return row
}

// TestExplorerRefusalWraps: at 80×24 a learner's refusal wraps onto more
// status rows and its reason is on screen whole.
func TestExplorerRefusalWraps(t *testing.T) {
	needTmux(t)
	e := startExplorer(t, 80, 24, "--pace", "full")
	e.waitFor("the panels", 60*time.Second, func(s string) bool { return strings.Contains(s, "learner") })
	for i := 0; i < 12; i++ {
		e.keys("j")
	}
	e.waitFor("learner selected", 30*time.Second, func(s string) bool { return strings.Contains(s, "▸ learner") })
	e.keys("Right")
	e.waitFor("discrete", 30*time.Second, func(s string) bool { return strings.Contains(s, "discrete") })
	e.keys("Right")
	scr := e.waitFor("the refusal", 60*time.Second, func(s string) bool { return strings.Contains(s, "learner refused") })
	flat := strings.Join(strings.Fields(scr), " ")
	if !strings.Contains(flat, "fewer units or samples)") {
		t.Fatalf("the refusal's reason is cut:\n%s", scr)
	}
	e.quit()
}

// TestExplorerShareReproduces: the share key's command (y), run headless,
// gives the explorer's final numbers.
func TestExplorerShareReproduces(t *testing.T) {
	needTmux(t)
	e := startExplorer(t, 100, 30, "--pace", "full", "--width", "16", "--epochs", "20", "--samples", "300", "--teacher-seed", "3")
	scr := e.waitFor("the run done", 300*time.Second, func(s string) bool { return strings.Contains(s, "✓ done") })
	m := regexp.MustCompile(`epoch 20:  L1 \S+  L2 (\S+)  L∞/L2 \S+  L∞ (\S+) at`).FindStringSubmatch(scr)
	if m == nil {
		t.Fatalf("no final checkpoint on screen:\n%s", scr)
	}
	e.keys("y")
	e.waitFor("the command", 30*time.Second, func(s string) bool { return strings.Contains(s, "reluscope run") })
	e.quit()
	logb, _ := os.ReadFile(filepath.Join(filepath.Dir(e.exitf), "log"))
	line := regexp.MustCompile(`share: (reluscope run.*)`).FindSubmatch(logb)
	if line == nil {
		t.Fatalf("the share key logged no command:\n%s", logb)
	}
	args := shellSplit(string(line[1]))
	out := runBinary(t, args[1:]...)
	f := regexp.MustCompile(`final errors over \d+ fresh points: L1 \S+  L2 (\S+)  L∞ (\S+)`).FindStringSubmatch(out)
	if f == nil {
		t.Fatalf("%s printed no final errors:\n%s", line[1], out)
	}
	for i := 1; i <= 2; i++ {
		a, _ := strconv.ParseFloat(m[i], 64)
		b, _ := strconv.ParseFloat(f[i], 64)
		if math.Abs(a-b) > 0.006*b {
			t.Fatalf("%s: headless %s, the explorer showed %s (L2, L∞ = %v vs %v)", line[1], f[i], m[i], m[1:], f[1:])
		}
	}
}

// TestExplorerMouse: an SGR mouse click sent through tmux on a setting
// selects it, and the wheel over it raises its value.
func TestExplorerMouse(t *testing.T) {
	needTmux(t)
	e := startExplorer(t, 80, 24, "--pace", "full")
	e.waitFor("the panels", 60*time.Second, func(s string) bool { return strings.Contains(s, "▸ depth") })
	// Column 6, row 5 (1-based): the third setting, width.
	e.keys("-l", "\x1b[<0;6;5M\x1b[<0;6;5m")
	e.waitFor("width selected", 30*time.Second, func(s string) bool { return strings.Contains(s, "▸ width") })
	e.keys("-l", "\x1b[<64;6;5M") // the wheel up
	e.waitFor("width raised", 30*time.Second, func(s string) bool { return regexp.MustCompile(`▸ width\s+64`).MatchString(s) })
	// Scrolled: k from width up past the first setting to the last one,
	// backend, then the wheel over the row that shows epochs changes
	// epochs (it changed the batch, one row off).
	e.keys("k", "k", "k")
	scr := e.waitFor("the list scrolled", 30*time.Second, func(s string) bool { return strings.Contains(s, "▸ backend") && !strings.Contains(s, "│  depth ") })
	row := -1
	for y, l := range strings.Split(scr, "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, "│ "), "epochs ") {
			row = y
		}
	}
	if row < 0 {
		t.Fatalf("no epochs row on the scrolled list:\n%s", scr)
	}
	e.keys("-l", fmt.Sprintf("\x1b[<64;6;%dM", row+1))
	e.waitFor("epochs changed", 30*time.Second, func(s string) bool {
		return regexp.MustCompile(`▸ epochs\s+\d+`).MatchString(s) && strings.Contains(s, "epochs = ")
	})
	e.quit()
}
