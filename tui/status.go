package tui

import (
	"fmt"
	"log"
	"math"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/reluscope/reluscope/experiment"
	tp "github.com/reluscope/reluscope/experiment/textplot"
)

// runPhase is what the run is doing, as the status line says it.
type runPhase int

const (
	phaseStarting runPhase = iota
	phaseTraining
	phasePaused
	phaseHeld // the sample-complexity view has the cores
	phaseRestarting
	phaseAsking // a long run waits for r
	phaseDone
	phaseStopped
)

// statusLine is the three lines under the panels: the run's progress, its
// last checkpoint, and the latest message (a refusal in the error style).
type statusLine struct {
	msg  string
	ok   bool
	keep bool // a refusal stays until the next key
	// answer: the message answers a key (a chart's readout, a toggle),
	// not a run's event; the focus view shows it too.
	answer bool
}

// set shows a message answering a key; a refusal (ok false) is kept until
// the next key.
func (s *statusLine) set(ok bool, format string, args ...any) {
	s.msg = fmt.Sprintf(format, args...)
	s.ok = ok
	s.keep = !ok
	s.answer = true
}

// event shows what the run did, unless a refusal is being kept.
func (s *statusLine) event(ok bool, format string, args ...any) {
	if s.keep {
		return
	}
	s.msg = fmt.Sprintf(format, args...)
	s.ok = ok
	s.answer = false
}

// restarted turns "x = v — restarting" into "x = v — new run started".
func (s *statusLine) restarted() {
	if s.keep {
		return
	}
	if base, ok := strings.CutSuffix(s.msg, " — restarting"); ok {
		s.msg = base + " — new run started"
	}
}

// view draws the lines for run r, w wide: its progress, its last
// checkpoint (or the evaluation under way), and the message; pace is the
// pace's label and forever says keep-training mode is on.
func (s statusLine) view(st *Styles, r *runState, phase runPhase, pace string, paceEps float64, forever bool, w int) string {
	out := []string{
		tp.Fit(progressLine(st, r, phase, shownPace(r, phase, pace, paceEps), forever, w), w),
		tp.Fit(checkpointLine(st, r, w), w),
	}
	return strings.Join(append(out, s.messageLines(st, w)...), "\n")
}

// shownPace is the pace's label, or what the run reaches when the machine
// cannot keep up with it.
func shownPace(r *runState, phase runPhase, pace string, paceEps float64) string {
	if phase == phaseTraining && !math.IsInf(paceEps, 1) && r.stepsPerSec > 0 && r.cfg.Samples > 0 {
		if got := r.stepsPerSec / float64(r.cfg.StepsPerEpoch()); got < 0.7*paceEps {
			return fmt.Sprintf("%.3g of %g ep/s", got, paceEps)
		}
	}
	return pace
}

// timeLeft is the run's remaining time from the steps done (live inside a
// long epoch), at the recent rate (the pace's, when paced), not the
// average: a pace slowed mid-run says how long it now takes.
func timeLeft(r *runState, forever bool) string {
	var total int64
	if r.cfg.Samples > 0 {
		total = int64(max(1, r.cfg.TotalEpochs())) * int64(r.cfg.StepsPerEpoch())
	}
	switch {
	case r.done:
		return "0:00"
	case forever:
		return "∞"
	case total == 0:
		return "—"
	case r.step > 0 && r.step < total:
		rate := r.stepsPerSec
		if !(rate > 0) {
			rate = float64(r.step) / max(1e-9, r.elapsed.Seconds())
		}
		return clock(time.Duration(float64(total-r.step) / rate * float64(time.Second)))
	case r.step >= total:
		return "0:00"
	}
	return "—"
}

// progressLine is the status's first line: the phase, the epoch and a
// bar, then the fullest run details that fit (lr and the backend go
// first); a waiting run says how it starts, a stopped one why it stopped.
func progressLine(st *Styles, r *runState, phase runPhase, pace string, forever bool, w int) string {
	state := phaseLabel(st, phase)
	switch {
	case phase == phaseAsking: // nothing runs: no epochs, steps or rate to show
		return state + st.Muted.Render("  not started: r starts it, a change of setting re-estimates")
	case phase == phaseStopped && r.err != nil:
		// Why, on the run's own line: a later message (a refusal) cannot
		// take the reason away.
		why := wrapWords(r.err.Error(), max(8, w-ansi.StringWidth(state)-2), 1)[0]
		return state + "  " + st.Error.Render(why)
	}
	E := max(1, r.cfg.TotalEpochs())
	frac := min(1, float64(r.epoch)/float64(E))
	elapsed := r.elapsed
	if len(r.hist) == 0 && !r.done {
		elapsed = max(elapsed, r.waited) // live before the first checkpoint
	}
	ep := fmt.Sprintf("epoch %d/%d", r.epoch, E)
	if forever {
		ep += "∞"
	}
	pre := fmt.Sprintf("%s  %s ", state, ep)
	// A learner other than Adam fits once: no epochs, steps, lr or rate.
	cands := []string{
		fmt.Sprintf(" work %s  %s", humanCount(r.step), clock(elapsed)),
		fmt.Sprintf(" %s", clock(elapsed)),
	}
	if r.cfg.UsesLearner() {
		frac = map[bool]float64{true: 1, false: 0}[r.done]
		pre = fmt.Sprintf("%s  one fit by %s ", state, r.cfg.Learner)
	} else {
		cands = adamDetails(r, clock(elapsed), timeLeft(r, forever), pace)
	}
	var post string
	for _, v := range cands {
		post = v
		if ansi.StringWidth(pre)+6+ansi.StringWidth(post) <= w {
			break
		}
	}
	barW := max(6, min(30, w-ansi.StringWidth(pre)-ansi.StringWidth(post)))
	fill := int(frac*float64(barW) + 0.5)
	return pre + st.Bar.Render(strings.Repeat("█", fill)) + st.BarEmpty.Render(strings.Repeat("░", barW-fill)) + post
}

// adamDetails are an Adam run's details after the bar, fullest first.
func adamDetails(r *runState, elapsed, left, pace string) []string {
	be := r.backendName
	if be == "" {
		be = r.cfg.Backend
	}
	step, rate := humanCount(r.step), humanRate(r.stepsPerSec)
	return []string{
		fmt.Sprintf(" step %s  lr %.2g  %s steps/s  %s, %s left  %s  %s", step, r.lr, rate, elapsed, left, pace, be),
		fmt.Sprintf(" step %s  %s steps/s  %s, %s left  %s  %s", step, rate, elapsed, left, pace, be),
		fmt.Sprintf(" lr %.2g  %s steps/s  %s, %s left  %s  %s", r.lr, rate, elapsed, left, pace, be),
		fmt.Sprintf(" %s steps/s  %s, %s left  %s  %s", rate, elapsed, left, pace, be),
		fmt.Sprintf(" %s steps/s  %s, %s left  %s", rate, elapsed, left, pace),
		fmt.Sprintf(" %s/s %s, %s left %s", rate, elapsed, left, pace),
	}
}

// checkpointLine is the status's second line: a long evaluation's
// progress, else the last checkpoint's errors as fully as they fit, else
// that there is none yet.
func checkpointLine(st *Styles, r *runState, w int) string {
	if r.evalLong && !r.done && r.eval.Total > 0 && (len(r.hist) == 0 || r.eval.K >= len(r.hist)) {
		return st.Muted.Render(fmt.Sprintf("evaluating checkpoint %d: %s of %s points… %s", r.eval.K, humanCount(int64(r.eval.Done)), humanCount(int64(r.eval.Total)), clock(r.evalFor)))
	}
	n := len(r.hist)
	switch {
	case n == 0 && r.waited >= time.Second && !r.done:
		return st.Muted.Render(fmt.Sprintf("no checkpoint yet: measuring the errors on %s fresh points… %s", humanCount(int64(r.cfg.EvalPoints)), clock(r.waited)))
	case n == 0:
		return st.Muted.Render("no checkpoint yet")
	case math.IsNaN(r.hist[n-1].L2):
		// A data file's samples: no teacher, no errors off the samples.
		c := r.hist[n-1]
		return fmt.Sprintf("epoch %d:  train mse %s  L2 — L∞ — (the samples of %s: no teacher to measure against)", c.Epoch,
			st.Value.Render(fmt.Sprintf("%.3g", c.TrainLoss)), experiment.Excerpt(r.cfg.DataFile, 30))
	}
	c := r.hist[n-1]
	when := fmt.Sprintf("epoch %d:", c.Epoch)
	if r.cfg.UsesLearner() {
		when = map[bool]string{true: "fitted:", false: "zero net:"}[c.Epoch > 0]
	}
	// The fullest line that fits: 3 decimals in the location, then 2,
	// then without L1 (a point in d ≥ 3 does not fit 80 columns whole).
	var line string
	for _, v := range []struct {
		digits int
		l1     bool
	}{{3, true}, {2, true}, {2, false}} {
		l1 := ""
		if v.l1 {
			l1 = "L1 " + st.Value.Render(fmt.Sprintf("%.3g", c.L1)) + "  "
		}
		line = fmt.Sprintf("%s  %sL2 %s  L∞/L2 %s  L∞ %s at x=%s",
			when, l1, st.L2.Render(fmt.Sprintf("%.3g", c.L2)),
			st.Value.Render(fmt.Sprintf("%.1f×", c.Linf/c.L2)), st.Linf.Render(fmt.Sprintf("%.3g", c.Linf)), experiment.FormatPoint(c.ArgMax, v.digits, true))
		if ansi.StringWidth(line) <= w {
			break
		}
	}
	return line
}

// messageLines are the message, wrapped when it does not fit (up to three
// rows, the panels above give up the room): the reason of a refusal is
// never cut.
func (s statusLine) messageLines(st *Styles, w int) []string {
	var out []string
	for _, l := range wrapMessage(s.msg, w, 3) {
		if s.ok {
			l = st.Muted.Render(l)
		} else {
			l = st.Error.Render(l)
		}
		out = append(out, tp.Fit(l, w))
	}
	return out
}

// phaseLabel is the phase as the status line's first word says it.
func phaseLabel(st *Styles, phase runPhase) string {
	switch phase {
	case phaseStopped:
		return st.Error.Render("✗ stopped")
	case phaseDone:
		return st.OK.Render("✓ done")
	case phaseRestarting:
		return st.Muted.Render("… restarting")
	case phaseAsking:
		return st.Worst.Render("? waiting")
	case phaseHeld:
		return st.Value.Render("‖ held")
	case phasePaused:
		return st.Value.Render("‖ paused")
	case phaseTraining:
		return st.OK.Render("▶ training")
	}
	return st.Muted.Render("… starting")
}

// clock is h:mm:ss, in days and hours past 99 hours.
func clock(d time.Duration) string { return experiment.Clock(d) }

// humanCount writes a count exactly below 10⁵, then in k and M.
func humanCount(n int64) string {
	switch {
	case n >= 1_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 100_000:
		return fmt.Sprintf("%.0fk", float64(n)/1e3)
	}
	return fmt.Sprintf("%d", n)
}

// humanRate writes a rate with three significant figures at most: 12k, 1.5k, 150, 15.5.
func humanRate(v float64) string {
	switch {
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.1f", v)
	}
}

// frameStats times View and logs a summary every 5 s (View has a value
// receiver, so the stats live behind a pointer).
type frameStats struct {
	frames     int
	total, max time.Duration
	lastReport time.Time
}

func (c *frameStats) frame(d time.Duration, l *log.Logger) {
	c.frames++
	c.total += d
	c.max = max(c.max, d)
	if time.Since(c.lastReport) > 5*time.Second {
		c.report(l, false)
	}
}

func (c *frameStats) report(l *log.Logger, final bool) {
	if c.frames == 0 {
		return
	}
	l.Printf("frames: %d, mean %.2f ms, max %.2f ms (final=%v)", c.frames,
		float64(c.total.Microseconds())/1000/float64(c.frames), float64(c.max.Microseconds())/1000, final)
	c.frames, c.total, c.max = 0, 0, 0
	c.lastReport = time.Now()
}

// wrapMessage breaks msg into at most rows lines of w cells at spaces
// (a word longer than w is broken), the last cut with "…" if it still
// does not fit; an empty message is one empty line.
func wrapMessage(msg string, w, rows int) []string {
	if ansi.StringWidth(msg) <= w || w < 8 {
		return []string{msg}
	}
	return wrapWords(msg, w, rows)
}
