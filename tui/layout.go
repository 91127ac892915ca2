package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	tp "github.com/reluscope/reluscope/experiment/textplot"
)

// The layout: the title, the settings panel on the left and the screen on
// the right, the status lines and the key bar; the help overlay in place
// of the panels; a summary in a terminal too small for them.

const controlsWidth = 28

// The smallest terminal the panels are drawn in; below it a summary.
const (
	minWidth  = 64
	minHeight = 20
)

func (m Model) rightWidth() int { return max(20, m.width-controlsWidth) }

// bodyHeight is the panels' height in View: the terminal less the title
// and key bar (a row each) and the status rows.
func (m Model) bodyHeight() int {
	return m.height - 1 - lipgloss.Height(m.statusView(m.width)) - 1 - len(m.tourRows(m.width))
}

// tourRows are the tour's caption rows (none outside the tour).
func (m Model) tourRows(w int) []string {
	if m.tour == nil {
		return nil
	}
	return m.tourCaption(w)
}

// View renders the whole screen.
func (m Model) View() string {
	t0 := time.Now()
	defer func() { m.frames.frame(time.Since(t0), m.opt.Log) }()
	w, h := m.width, m.height
	title := m.title(w)
	if w < minWidth || h < minHeight {
		return m.smallView(title, w, h)
	}
	if m.focus && !m.showHelp {
		return m.focusView(w, h)
	}
	footer := m.keyBar(w)
	status := m.statusView(w)
	bodyH := m.bodyHeight()
	var body string
	if m.showHelp {
		body = panel(m.styles, "keys", m.helpView(w-2, bodyH-2), w, bodyH)
	} else {
		right := m.screens[m.screen].view(&m.sess.run, m.cfg, m.rightWidth(), bodyH)
		body = lipgloss.JoinHorizontal(lipgloss.Top, m.settings.view(m.cfg, controlsWidth, bodyH), right)
	}
	parts := []string{tp.Fit(title, w), body, status}
	if rows := m.tourRows(w); rows != nil {
		parts = append(parts, strings.Join(rows, "\n"))
	}
	out := lipgloss.JoinVertical(lipgloss.Left, append(parts, tp.Fit(footer, w))...)
	return tp.Box(strings.Split(out, "\n"), w, h)
}

// headlines are the title's claim, longest first: the widest that fits
// is shown, so that the negation is never cut off.
var headlines = []string{
	" — the L2 error falls easily, the uniform error L∞ does not",
	" — L2 falls easily, the uniform error L∞ does not",
	" — L2 falls easily, L∞ does not",
	"",
}

// title is the explorer's name and its claim at width w.
func (m Model) title(w int) string {
	for _, h := range headlines {
		if 9+ansi.StringWidth(h) <= w || h == "" {
			return m.styles.Title.Render("reluscope") + m.styles.Muted.Render(h)
		}
	}
	return ""
}

// focusView is one chart over the whole terminal with the status in one
// line under it: the checkpoint's numbers (what the class reads), the
// progress before the first, a refusal while it is kept.
func (m Model) focusView(w, h int) string {
	lines := strings.Split(m.statusView(w), "\n")
	status := lines[:1]
	if len(m.sess.run.hist) > 0 {
		status = lines[1:2]
		// What the run does, where it is not plain training: a pause, a
		// hold, the finish.
		switch ph := m.phase(); ph {
		case phasePaused, phaseHeld, phaseDone, phaseStopped, phaseAsking, phaseRestarting:
			label := phaseLabel(m.styles, ph) + "  "
			// The numbers at the width left beside the label (their
			// shorter form where the full one does not fit).
			narrow := strings.Split(m.statusView(max(20, w-ansi.StringWidth(label))), "\n")
			status = []string{tp.Fit(label+narrow[1], w)}
		}
	}
	switch {
	case m.status.keep:
		status = lines[2:] // the refusal, whole
	case m.status.answer && m.status.msg != "":
		status = append(status, lines[2:]...) // the answer to a key: a readout
	}
	status = append(status, m.tourRows(w)...)
	s := m.screens[m.screen]
	bh := h - len(status)
	var body string
	if p, ok := s.(parted); ok {
		body = p.partView(m.part, &m.sess.run, m.cfg, w, bh)
	} else {
		body = s.view(&m.sess.run, m.cfg, w, bh)
	}
	out := lipgloss.JoinVertical(lipgloss.Left, body, strings.Join(status, "\n"))
	return tp.Box(strings.Split(out, "\n"), w, h)
}

// smallView is the explorer in a terminal too small for its panels: the
// run's state and numbers, and what size is needed.
func (m Model) smallView(title string, w, h int) string {
	if w <= 0 || h <= 0 {
		return ""
	}
	r := &m.sess.run
	lines := []string{title}
	lines = append(lines, fmt.Sprintf("epoch %d/%d", r.epoch, r.cfg.Epochs))
	if n := len(r.hist); n > 0 {
		c := r.hist[n-1]
		lines = append(lines, fmt.Sprintf("L2 %.3g  L∞ %.3g", c.L2, c.Linf))
	}
	lines = append(lines, m.styles.Error.Render(fmt.Sprintf("terminal %d×%d: the charts need %d×%d", w, h, minWidth, minHeight)), "q quits")
	if len(lines) > h { // keep the note and the way out
		lines = append(lines[:max(0, h-2)], lines[len(lines)-2:]...)
		lines = lines[len(lines)-h:]
	}
	for i := range lines {
		lines[i] = tp.Fit(lines[i], w)
	}
	return tp.Box(lines, w, h)
}

// helpView lists the keys in as many columns as fit w×h: every key, or
// the page m.helpPage of them with a line saying how to see the rest.
func (m Model) helpView(w, h int) string {
	cells, cw, cols, rowsPer, pages := m.helpLayout(w, h)
	page := min(m.helpPage, pages-1)
	per := cols * rowsPer
	cells = cells[page*per : min(len(cells), (page+1)*per)]
	lines := make([]string, rowsPer)
	for i, c := range cells {
		r := i % rowsPer
		pad := cw + 2 - ansi.StringWidth(c)
		if i/rowsPer == cols-1 {
			pad = 0
		}
		lines[r] += c + strings.Repeat(" ", max(0, pad))
	}
	foot := "any key closes this help"
	if pages > 1 {
		foot = fmt.Sprintf("keys %d of %d pages: ? the next, any other key closes this help", page+1, pages)
		if page == pages-1 {
			foot = fmt.Sprintf("keys %d of %d pages: any key closes this help", page+1, pages)
		}
	}
	return strings.Join(append(lines, "", m.styles.Muted.Render(tp.Fit(foot, w))), "\n")
}

// helpPages is how many pages the keys take in the help panel now.
func (m Model) helpPages() int {
	_, _, _, _, pages := m.helpLayout(m.width-2, m.bodyHeight()-2)
	return pages
}

// helpLayout lays the keys' cells out in w×h: the cells, a column's
// width, the columns and rows of a page, and the pages.
func (m Model) helpLayout(w, h int) (cells []string, cw, cols, rowsPer, pages int) {
	rows := m.keys.helpRows()
	kw := 0
	for _, r := range rows {
		kw = max(kw, ansi.StringWidth(r.keys))
	}
	for _, r := range rows {
		c := m.styles.Value.Render(fmt.Sprintf("%-*s", kw, r.keys)) + "  " + m.styles.Muted.Render(r.desc)
		cells = append(cells, c)
		cw = max(cw, ansi.StringWidth(c))
	}
	rowsPer = max(1, h-2) // the rest: a blank row and the footer
	cols = (len(cells) + rowsPer - 1) / rowsPer
	for cols > 1 && cols*(cw+2) > w {
		cols-- // too narrow for more columns: more pages
	}
	if cols*rowsPer >= len(cells) {
		rowsPer = (len(cells) + cols - 1) / cols // one page: balanced columns
	}
	pages = (len(cells) + cols*rowsPer - 1) / (cols * rowsPer)
	return cells, cw, cols, rowsPer, pages
}

// keyBar is the line of keys under the status (keyMap.ShortHelp): as many
// as fit, and always the way to all keys and out.
func (m Model) keyBar(w int) string {
	st := m.styles
	item := func(k, d string) string { return st.Value.Render(k) + " " + st.Muted.Render(d) }
	sep := st.Muted.Render(" · ")
	short := m.keys.ShortHelp()
	tailKeys := short[len(short)-2:] // help and quit, always shown
	tail := item(tailKeys[0].Help().Key, tailKeys[0].Help().Desc) + sep + item(tailKeys[1].Help().Key, tailKeys[1].Help().Desc)
	out := ""
	for _, b := range short[:len(short)-2] {
		next := out + item(b.Help().Key, b.Help().Desc) + sep
		if ansi.StringWidth(next+tail) > w {
			break
		}
		out = next
	}
	return tp.Fit(out+tail, w)
}

// panel draws a rounded box of outer size w×h with the title in its top border.
func panel(st *Styles, title, content string, w, h int) string {
	b := st.Border
	t := " " + tp.FitWords(title, max(0, w-6)) + " "
	top := b.Render("╭─") + st.PanelTitle.Render(t) + b.Render(strings.Repeat("─", max(0, w-3-ansi.StringWidth(t)))+"╮")
	inner := strings.Split(tp.Box(strings.Split(content, "\n"), w-2, h-2), "\n")
	lines := []string{top}
	side := b.Render("│")
	for _, l := range inner {
		lines = append(lines, side+tp.Fit(l, w-2)+side)
	}
	lines = append(lines, b.Render("╰"+strings.Repeat("─", max(0, w-2))+"╯"))
	return strings.Join(lines, "\n")
}

// statusView is the status line for the current run.
func (m Model) statusView(w int) string {
	return m.status.view(m.styles, &m.sess.run, m.phase(), m.sess.paceLabel(), m.sess.paceEps(), m.sess.forever, w)
}

// phase is what the run is doing now, as the status line says it.
func (m Model) phase() runPhase {
	var phase runPhase
	_, held := m.screens[m.screen].(holder)
	switch {
	case m.sess.run.done && m.sess.run.err != nil:
		phase = phaseStopped
	case m.sess.run.done:
		phase = phaseDone
	case m.sess.pending != 0:
		phase = phaseRestarting
	case m.sess.asking:
		phase = phaseAsking
	case held || m.showHelp: // the help holds the run while it is read
		phase = phaseHeld
	case m.sess.paused:
		phase = phasePaused
	case m.sess.run.started:
		phase = phaseTraining
	default:
		phase = phaseStarting
	}
	return phase
}
