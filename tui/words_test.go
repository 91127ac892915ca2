package tui

import (
	"math/rand/v2"
	"sync"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	tp "github.com/reluscope/reluscope/experiment/textplot"
)

// No line of any view is cut inside a word at any size from the smallest
// the panels take (64×20) to 200×50: every line fits, wraps at spaces or
// shortens to a whole word. Fit reports each cut inside a word.
func TestNoViewCutsAWord(t *testing.T) {
	var mu sync.Mutex
	var cuts []string
	tp.OnCutWord = func(line string, w int) {
		mu.Lock()
		defer mu.Unlock()
		cuts = append(cuts, line)
	}
	defer func() { tp.OnCutWord = nil }()
	r := rand.New(rand.NewPCG(5, 6))
	sizes := [][2]int{{64, 20}, {80, 24}, {100, 30}, {120, 40}}
	for k := 0; k < 12; k++ {
		sizes = append(sizes, [2]int{64 + r.IntN(137), 20 + r.IntN(31)})
	}
	seen := map[string]bool{}
	for _, dim := range []int{1, 3} {
		base := goldenModel(t, 80, 24, 24, dim)
		for _, sz := range sizes {
			for _, keys := range [][]string{nil, {"z"}, {"?"}, {"e"}, {"f"}, {"e", "z"}, {"f", "z"}, {"y"}} {
				m := base
				mm, _ := m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
				m = mm.(Model)
				m, _ = press(m, keys...)
				cuts = nil
				m.View()
				for _, c := range cuts {
					if !seen[c] {
						seen[c] = true
						t.Errorf("d=%d %dx%d after %v: a word cut in %q (%d cells)", dim, sz[0], sz[1], keys, c, len([]rune(c)))
					}
				}
			}
		}
	}
}
