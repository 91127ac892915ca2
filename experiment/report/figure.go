package report

import (
	"sync"

	"fmt"
	"math"
	"strconv"
	"strings"

	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The figure's geometry: one panel per problem (a dimension, a depth),
// stacked, each with its plot on the left and its legend in a column on
// the right, outside the data; PNGs are drawn at figureDPI, so a panel is
// 1200×720 pixels — legible on a slide.
const (
	panelW    = 8 * vg.Inch
	panelH    = 4.8 * vg.Inch
	legendW   = 2.6 * vg.Inch
	figureDPI = 150
)

// WriteFigure writes the sample-complexity figure: per problem, L1, L2 and
// L∞ (min over algorithms of the max over teachers, solid with markers),
// L2 and L∞ min-avg (the mean over teachers, dotted), the true sup's upper
// bound where the records carry it, and the reference rates m^(−(1/p+1/d))
// dashed, each through its curve's first point with its constant in the
// legend; log axes with labelled powers of ten and minor ticks. The format
// follows the file's extension (png, svg, pdf).
func WriteFigure(path string, reps []Report) error { return WriteFigureStyle(path, reps, Paper) }

// Style is how the figure is drawn: the paper's (serif, a full legend) or
// a slide's.
type Style struct {
	Name string
	// Sans draws every text in Liberation Sans instead of the serif.
	Sans bool
	// Title, Label, Tick and Legend are the text sizes in points.
	Title, Label, Tick, Legend float64
	// LegendW is the legend column's width.
	LegendW vg.Length
	// Merge draws a min-avg curve only where it differs from its
	// min-max one (by more than 1 % somewhere) and drops the
	// references' constants from the legend.
	Merge bool
	// Line is the width of the curves in points.
	Line float64
}

// The styles: the paper's working figure (every curve and constant) and a
// slide's (larger text, a narrow legend, curves that coincide drawn once);
// both sans-serif with typeset powers of ten (10⁻², 2×10⁻¹) on the axes.
var (
	Paper = Style{Name: "paper", Sans: true, Title: 13, Label: 13, Tick: 12, Legend: 10, LegendW: legendW, Line: 1.8}
	Slide = Style{Name: "slide", Sans: true, Title: 17, Label: 17, Tick: 15, Legend: 13, LegendW: 1.75 * vg.Inch, Merge: true, Line: 2.5}
)

// StyleOf is the style named name.
func StyleOf(name string) (Style, error) {
	for _, s := range []Style{Paper, Slide} {
		if s.Name == name {
			return s, nil
		}
	}
	return Style{}, fmt.Errorf("--style %q: want paper or slide", name)
}

// font is the style's font at size points: Liberation Serif for the
// paper, the Go sans-serif for a slide (it has the superscript digits and
// minus its 10⁻³ tick labels need, which Liberation lacks).
func (s Style) font(size float64) font.Font {
	f := font.Font{Typeface: "Liberation", Variant: "Serif", Size: vg.Points(size)}
	if s.Sans {
		goFontOnce.Do(addGoFont)
		f = font.Font{Typeface: "Go", Size: vg.Points(size)}
	}
	return f
}

var goFontOnce sync.Once

// addGoFont adds the Go sans-serif (golang.org/x/image/font/gofont) to
// gonum's font cache.
func addGoFont() {
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		panic(err) // the font is compiled in: it parses
	}
	font.DefaultCache.Add(font.Collection{{Font: font.Font{Typeface: "Go"}, Face: f}})
}

// WriteFigureStyle is WriteFigure in a style.
func WriteFigureStyle(path string, reps []Report, style Style) (err error) {
	if len(reps) == 0 {
		return fmt.Errorf("no results to plot")
	}
	// Only positive, finite errors can be drawn on log axes.
	drawable := false
	for _, rep := range reps {
		for _, pt := range rep.Points {
			for _, k := range Metrics {
				drawable = drawable || (pt.Err[k] > 0 && !math.IsInf(pt.Err[k], 0) && pt.M > 0)
			}
		}
	}
	if !drawable {
		return fmt.Errorf("nothing to plot on log axes: every error is 0 or not finite")
	}
	defer func() {
		// The plotting library panics on data it cannot scale; say so
		// instead of crashing.
		if r := recover(); r != nil {
			err = fmt.Errorf("the figure could not be drawn: %v", r)
		}
	}()
	img, err := newCanvas(path, panelW, vg.Length(len(reps))*panelH)
	if err != nil {
		return err
	}
	for i, rep := range reps {
		p, leg, err := panel(rep, style)
		if err != nil {
			return err
		}
		top := vg.Length(len(reps)-1-i) * panelH
		base := draw.New(img)
		plotArea := draw.Canvas{Canvas: base.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: 0, Y: top}, Max: vg.Point{X: panelW - style.LegendW, Y: top + panelH}}}
		p.Draw(plotArea)
		legArea := draw.Canvas{Canvas: base.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: panelW - style.LegendW + 0.15*vg.Inch, Y: top + 0.6*vg.Inch},
			Max: vg.Point{X: panelW - 0.1*vg.Inch, Y: top + panelH - 0.5*vg.Inch}}}
		leg.Draw(legArea)
	}
	return saveCanvas(path, img)
}

// series are the curves of a panel: a metric, min-max or min-avg.
type series struct {
	k   Metric
	avg bool
}

// panel builds one problem's plot and its legend.
func panel(rep Report, style Style) (*plot.Plot, plot.Legend, error) {
	p := plot.New()
	p.Title.Text = "error vs m, min over algorithms\n" + rep.Problem.String()
	if style.Merge {
		p.Title.Text = rep.Problem.String()
	}
	p.Title.TextStyle.Font = style.font(style.Title)
	p.X.Label.TextStyle.Font, p.Y.Label.TextStyle.Font = style.font(style.Label), style.font(style.Label)
	p.X.Tick.Label.Font, p.Y.Tick.Label.Font = style.font(style.Tick), style.font(style.Tick)
	p.Title.Padding = 0.1 * vg.Inch
	p.X.Label.Text = "training samples m"
	p.Y.Label.Text = "error" // a long rotated label makes gonum pad the top of the plot
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = powTicks{sup: style.Sans}, powTicks{sup: style.Sans}
	leg := plot.NewLegend()
	if style.Merge { // the entries are slopes in m: said once, on top
		leg.Add("slopes in m")
	}
	leg.Top, leg.Left = true, true
	leg.TextStyle.Font = style.font(style.Legend)
	hasSup := false
	for _, pt := range rep.Points {
		hasSup = hasSup || (pt.Err[SupUpper] > 0 && !math.IsInf(pt.Err[SupUpper], 0))
	}
	// The true sup before L∞: L∞'s line is drawn over it where they
	// coincide (its larger hollow marker shows around L∞'s).
	list := []series{{L1, false}, {L2, false}, {Linf, false}, {L2, true}, {Linf, true}}
	if hasSup {
		list = []series{{L1, false}, {L2, false}, {SupUpper, false}, {Linf, false}, {L2, true}, {Linf, true}}
	}
	for _, s := range list {
		var pts plotter.XYs
		for _, pt := range rep.Points {
			v := pt.Err[s.k]
			if s.avg {
				v = pt.Avg[s.k]
			}
			if v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) {
				pts = append(pts, plotter.XY{X: float64(pt.M), Y: v})
			}
		}
		if len(pts) == 0 {
			continue
		}
		col := metricTable[s.k].color
		fit := rep.Fits[s.k]
		name := fmt.Sprintf("%s min-max (slope %s)", s.k, minus(fit.B))
		if style.Merge {
			name = fmt.Sprintf("%s %s", s.k, minus(fit.B))
		}
		if s.k == SupUpper {
			name = fmt.Sprintf("true sup ≤ (slope %s)", minus(fit.B))
			if style.Merge {
				name = "sup " + minus(fit.B)
			}
		}
		if s.avg {
			if style.Merge && coincide(rep, s.k) {
				continue // drawn once: min-avg is min-max here
			}
			fit = rep.AvgFits[s.k]
			name = fmt.Sprintf("%s min-avg (slope %s)", s.k, minus(fit.B))
			if style.Merge {
				name = fmt.Sprintf("%s mean %s", s.k, minus(fit.B))
			}
			line, err := plotter.NewLine(pts)
			if err != nil {
				return nil, leg, err
			}
			line.Color = col
			line.Width = vg.Points(style.Line)
			line.Dashes = []vg.Length{vg.Points(1.5), vg.Points(2.5)}
			p.Add(line)
			leg.Add(name, line)
			continue
		}
		line, marks, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, leg, err
		}
		line.Color, marks.Color = col, col
		line.Width = vg.Points(style.Line)
		marks.Shape, marks.Radius = markerOf(s.k), vg.Points(style.Line*1.8)
		if s.k == SupUpper {
			marks.Radius = vg.Points(style.Line * 3.2)
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		p.Add(line, marks)
		leg.Add(name, line, marks)
		if s.k == SupUpper {
			continue // its reference is L∞'s
		}
		// The reference rate through the curve's first point: C·m^r.
		r := rep.RefSlope[s.k]
		c := pts[0].Y / math.Pow(pts[0].X, r)
		var ref plotter.XYs
		for _, q := range pts {
			// Relative to the first point, so that neither factor
			// overflows; what leaves float64's range is not drawn.
			if y := pts[0].Y * math.Pow(q.X/pts[0].X, r); y > 0 && y <= math.MaxFloat64 {
				ref = append(ref, plotter.XY{X: q.X, Y: y})
			}
		}
		if len(ref) == 0 {
			continue
		}
		rl, err := plotter.NewLine(ref)
		if err != nil {
			return nil, leg, err
		}
		rl.Color = col
		rl.Width = vg.Points(style.Line * 0.7)
		rl.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		p.Add(rl)
		if style.Merge {
			leg.Add("bound "+minus(r), rl)
		} else if c > 0 && c <= math.MaxFloat64 {
			leg.Add(fmt.Sprintf("reference %s·m^%s", typeset(c), minus(r)), rl)
		} else {
			leg.Add(fmt.Sprintf("reference slope %s", minus(r)), rl) // its C leaves float64's range
		}
	}
	p.X.Min, p.X.Max = logRange(p.X.Min, p.X.Max)
	p.Y.Min, p.Y.Max = logRange(p.Y.Min, p.Y.Max)
	return p, leg, nil
}

// markerOf is a metric's marker: a shape of its own, so that the curves
// are told apart without colour (a hollow ring for the true sup, drawn
// larger, around L∞'s triangles where they coincide).
func markerOf(k Metric) draw.GlyphDrawer {
	switch k {
	case L1:
		return draw.CircleGlyph{}
	case L2:
		return draw.BoxGlyph{}
	case Linf:
		return draw.TriangleGlyph{}
	}
	return draw.RingGlyph{}
}

// powerLabel writes 10^e as a slide reads it, the exponent typeset:
// 10⁻³, 10², 1 and 10 as themselves.
func powerLabel(e int) string {
	switch e {
	case 0:
		return "1"
	case 1:
		return "10"
	}
	sup := strings.NewReplacer("-", "⁻", "0", "⁰", "1", "¹", "2", "²", "3", "³", "4", "⁴", "5", "⁵", "6", "⁶", "7", "⁷", "8", "⁸", "9", "⁹")
	return "10" + sup.Replace(strconv.Itoa(e))
}

// typeset writes a constant as the axes do: 14, 0.5, 5.1×10², 3×10⁻³.
func typeset(v float64) string {
	if a := math.Abs(v); a >= 0.01 && a < 100 { // two digits, no exponent
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
	e := int(math.Floor(math.Log10(math.Abs(v))))
	return strconv.FormatFloat(v/math.Pow(10, float64(e)), 'g', 2, 64) + "×" + powerLabel(e)
}

// minus writes a slope with a true minus sign: −1.50.
func minus(v float64) string {
	if v < -0.005 {
		return fmt.Sprintf("−%.2f", -v)
	}
	return fmt.Sprintf("%.2f", math.Abs(v))
}

// coincide says whether metric k's min-avg curve is its min-max curve to
// within 1 % at every m (one teacher, or teachers that agree).
func coincide(rep Report, k Metric) bool {
	for _, pt := range rep.Points {
		a, b := pt.Avg[k], pt.Err[k]
		if math.Abs(a-b) > 0.01*math.Max(math.Abs(a), math.Abs(b)) {
			return false
		}
	}
	return true
}

// logRange widens a log axis of one value (all errors equal, one m) to a
// decade each side, within float64's positive range: gonum would pad it
// by ±1, below 0.
func logRange(lo, hi float64) (float64, float64) {
	if lo < hi && lo > 0 {
		return lo, hi
	}
	return max(lo/10, math.SmallestNonzeroFloat64), min(hi*10, math.MaxFloat64)
}

// powTicks labels the powers of ten of a log axis (1e-3, 1e-2, …) and marks
// 2…9 times them as minor ticks.
type powTicks struct {
	// sup writes the labels with typeset exponents (a slide: 10⁻¹, 10²)
	// instead of 1e-1, 1e2.
	sup bool
}

func (pt powTicks) Ticks(lo, hi float64) []plot.Tick {
	// A log axis has positive, finite ends: the smallest float64 (5e-324)
	// and the largest (1.8e308) are the widest it can span.
	lo = min(max(lo, math.SmallestNonzeroFloat64), math.MaxFloat64)
	hi = min(max(hi, lo), math.MaxFloat64)
	first, last := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	// Past a dozen decades, every step-th power is labelled, without
	// minor ticks: at most about 10 labels over the 632 decades there are.
	step, minor := 1.0, 9
	if last-first > 12 {
		step, minor = 2, 1
		for _, n := range []float64{5, 10, 20, 50, 100} {
			if (last-first)/step > 10 {
				step = n
			}
		}
	}
	var ts []plot.Tick
	for e := math.Ceil(first/step) * step; e <= last; e += step {
		for k := 1; k <= minor; k++ {
			v := float64(k) * math.Pow(10, e)
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) || v == 0 || math.IsInf(v, 0) {
				continue
			}
			t := plot.Tick{Value: v}
			if k == 1 {
				t.Label = fmt.Sprintf("1e%d", int(e))
				if pt.sup {
					t.Label = powerLabel(int(e))
				}
			}
			ts = append(ts, t)
		}
	}
	labelled := 0
	for _, t := range ts {
		if t.Label != "" {
			labelled++
		}
	}
	if labelled < 2 && len(ts) > 1 {
		// Fewer than two powers of ten in the range: label its ends too.
		for _, i := range []int{0, len(ts) - 1} {
			if ts[i].Label == "" {
				ts[i].Label = fmt.Sprintf("%.2g", ts[i].Value)
				if pt.sup {
					e := math.Floor(math.Log10(ts[i].Value))
					ts[i].Label = strconv.FormatFloat(ts[i].Value/math.Pow(10, e), 'g', 2, 64) + "×" + powerLabel(int(e))
				}
			}
		}
	}
	return ts
}
