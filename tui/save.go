package tui

import (
	"fmt"
	"os"
	"path/filepath"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/results"
)

// saveCmd writes the current run (finished or not) in the background into
// a new folder under the save directory.
func (m Model) saveCmd() tea.Cmd {
	r := m.sess.run
	if !r.started {
		return func() tea.Msg { return savedMsg{err: fmt.Errorf("no run to save yet")} }
	}
	res := r.result
	if res == nil {
		res = &experiment.Result{Config: r.cfg, History: r.hist, EpochLoss: r.epochLoss, Teacher: r.teacher,
			Student: r.student, Steps: r.step, Elapsed: r.elapsed, Error: "saved while running"}
	}
	stamp := m.opt.Now().Format("20060102-150405")
	saveDir := m.opt.SaveDir
	dir := filepath.Join(saveDir, fmt.Sprintf("run-%s-d%d-L%d-w%d-m%d", stamp, r.cfg.Dim, r.cfg.Depth, r.cfg.Width, r.cfg.Samples))
	return func() tea.Msg {
		// Two saves in one second get distinct folders: each claims its
		// own with an exclusive Mkdir.
		if err := os.MkdirAll(saveDir, 0o755); err != nil {
			return savedMsg{err: err}
		}
		base := dir
		for k := 2; ; k++ {
			err := os.Mkdir(dir, 0o755)
			if err == nil {
				break
			}
			if !os.IsExist(err) || k > 1000 {
				return savedMsg{err: err}
			}
			dir = fmt.Sprintf("%s-%d", base, k)
		}
		if err := results.SaveRun(dir, res); err != nil {
			return savedMsg{err: err}
		}
		return savedMsg{path: dir}
	}
}
