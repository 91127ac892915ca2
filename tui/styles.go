package tui

import (
	"os"

	"github.com/charmbracelet/lipgloss"

	tp "github.com/reluscope/reluscope/experiment/textplot"
)

// Theme maps semantic roles to colours.
type Theme struct {
	Accent, Muted, Linf, L2, Loss, Teacher, Student, Worst, Error, OK lipgloss.TerminalColor
	// Sup is the true sup's colour, apart from L∞'s line it sits on.
	Sup lipgloss.TerminalColor
	// Plot is the charts' series colours (asciigraph draws them, not
	// lipgloss): the same roles, chosen for the terminal's background.
	Plot tp.Palette
}

// plotPalette picks the charts' colours for the terminal's background, as
// lipgloss's adaptive colours do for the text.
func plotPalette() tp.Palette {
	if lipgloss.HasDarkBackground() {
		return tp.DarkPalette()
	}
	return tp.LightPalette()
}

// DefaultTheme is used on colour terminals.
func DefaultTheme() Theme {
	return Theme{
		Accent: lipgloss.AdaptiveColor{Light: "#5A3FC0", Dark: "#9F8CFF"},
		Muted:  lipgloss.AdaptiveColor{Light: "#6B6B6B", Dark: "#8A8A8A"},
		// Bright on a dark background, the deeper shade on a light one
		// (a projector's white): the bright yellow student would fade.
		Linf:    lipgloss.AdaptiveColor{Light: "1", Dark: "9"},        // red
		Sup:     lipgloss.AdaptiveColor{Light: "5", Dark: "13"},       // magenta
		L2:      lipgloss.AdaptiveColor{Light: "4", Dark: "12"},       // blue
		Loss:    lipgloss.AdaptiveColor{Light: "8", Dark: "8"},        // grey
		Teacher: lipgloss.AdaptiveColor{Light: "2", Dark: "10"},       // green
		Student: lipgloss.AdaptiveColor{Light: "#9A6700", Dark: "11"}, // amber / bright yellow
		Worst:   lipgloss.AdaptiveColor{Light: "1", Dark: "9"},
		Error:   lipgloss.AdaptiveColor{Light: "1", Dark: "9"},
		OK:      lipgloss.AdaptiveColor{Light: "2", Dark: "10"},
		Plot:    plotPalette(),
	}
}

// PresentTheme is for a class (--present): the same roles in the
// strongest colours of each background, the muted text darker or lighter
// so that a projector still shows it.
func PresentTheme() Theme {
	t := DefaultTheme()
	t.Muted = lipgloss.AdaptiveColor{Light: "#303030", Dark: "#C8C8C8"}
	t.Accent = lipgloss.AdaptiveColor{Light: "#3A1FA0", Dark: "#C0B0FF"}
	t.Student = lipgloss.AdaptiveColor{Light: "#7A4F00", Dark: "#FFD700"}
	return t
}

// NoColorTheme has no colours at all (NO_COLOR, tests).
func NoColorTheme() Theme {
	n := lipgloss.NoColor{}
	return Theme{n, n, n, n, n, n, n, n, n, n, n, tp.DarkPalette()}
}

// ThemeFromEnv honours NO_COLOR (https://no-color.org).
func ThemeFromEnv() Theme {
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return NoColorTheme()
	}
	return DefaultTheme()
}

// Styles are built once from a Theme.
type Styles struct {
	colour                                  bool
	plot                                    tp.Palette
	Title, Muted, Label, Value, Selected    lipgloss.Style
	Border, PanelTitle                      lipgloss.Style
	Linf, L2, Loss, Teacher, Student, Worst lipgloss.Style
	Sup                                     lipgloss.Style
	Error, OK, Bar, BarEmpty                lipgloss.Style
}

func NewStyles(t Theme) Styles {
	_, none := t.Accent.(lipgloss.NoColor)
	s := Styles{colour: !none, plot: t.Plot}
	s.Title = lipgloss.NewStyle().Bold(true).Foreground(t.Accent)
	s.Muted = lipgloss.NewStyle().Foreground(t.Muted)
	s.Label = lipgloss.NewStyle().Foreground(t.Muted)
	s.Value = lipgloss.NewStyle().Bold(true)
	s.Selected = lipgloss.NewStyle().Reverse(true).Bold(true)
	s.Border = lipgloss.NewStyle().Foreground(t.Muted)
	s.PanelTitle = lipgloss.NewStyle().Bold(true).Foreground(t.Accent)
	s.Linf = lipgloss.NewStyle().Foreground(t.Linf)
	s.L2 = lipgloss.NewStyle().Foreground(t.L2)
	s.Sup = lipgloss.NewStyle().Foreground(t.Sup)
	s.Loss = lipgloss.NewStyle().Foreground(t.Loss)
	s.Teacher = lipgloss.NewStyle().Foreground(t.Teacher)
	s.Student = lipgloss.NewStyle().Foreground(t.Student)
	s.Worst = lipgloss.NewStyle().Foreground(t.Worst).Bold(true)
	s.Error = lipgloss.NewStyle().Foreground(t.Error).Bold(true)
	s.OK = lipgloss.NewStyle().Foreground(t.OK)
	s.Bar = lipgloss.NewStyle().Foreground(t.Accent)
	s.BarEmpty = lipgloss.NewStyle().Foreground(t.Muted)
	return s
}
