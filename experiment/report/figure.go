package report

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

var metricColors = [NumMetrics]color.RGBA{{0x2c, 0xa0, 0x2c, 0xff}, {0x1f, 0x77, 0xb4, 0xff}, {0xd6, 0x27, 0x28, 0xff}}

// WriteFigure writes the sample-complexity figure, one panel per problem
// stacked vertically: each metric against m on log–log axes with its fitted
// line, and the reference m^(−(1/p+1/d)) (constant 1) dashed. The format
// follows the file's extension (png, svg, pdf).
func WriteFigure(path string, reps []Report) (err error) {
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
	const w, h = 6 * vg.Inch, 4 * vg.Inch
	img, err := newCanvas(path, w, vg.Length(len(reps))*h)
	if err != nil {
		return err
	}
	for i, rep := range reps {
		p := plot.New()
		p.Title.Text = "error vs m — " + rep.Problem.String()
		p.X.Label.Text = "training samples m"
		p.Y.Label.Text = "min over algorithms of max over teachers"
		p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
		p.X.Tick.Marker, p.Y.Tick.Marker = powTicks{}, powTicks{}
		p.Legend.Top, p.Legend.Left = false, true
		for _, k := range Metrics {
			var pts, ref plotter.XYs
			for _, pt := range rep.Points {
				if pt.Err[k] > 0 && !math.IsInf(pt.Err[k], 0) {
					pts = append(pts, plotter.XY{X: float64(pt.M), Y: pt.Err[k]})
					ref = append(ref, plotter.XY{X: float64(pt.M), Y: math.Pow(float64(pt.M), rep.RefSlope[k])})
				}
			}
			if len(pts) == 0 {
				continue
			}
			line, marks, err := plotter.NewLinePoints(pts)
			if err != nil {
				return err
			}
			line.Color, marks.Color = metricColors[k], metricColors[k]
			rl, err := plotter.NewLine(ref)
			if err != nil {
				return err
			}
			rl.Color = metricColors[k]
			rl.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(line, marks, rl)
			p.Legend.Add(fmt.Sprintf("%s (fit slope %.2f)", k, rep.Fits[k].B), line, marks)
			p.Legend.Add(fmt.Sprintf("m^%.2f reference", rep.RefSlope[k]), rl)
		}
		c := draw.Crop(draw.New(img), 0, 0, 0, 0)
		top := vg.Length(len(reps)-1-i) * h
		c = draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: 0, Y: top}, Max: vg.Point{X: w, Y: top + h}}}
		p.Draw(c)
	}
	return saveCanvas(path, img)
}

// powTicks marks the powers of ten of a log axis as 1e-3, 1e-2, ….
type powTicks struct{}

func (powTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		if v := math.Pow(10, e); v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
			ts = append(ts, plot.Tick{Value: v, Label: fmt.Sprintf("1e%d", int(e))})
		}
	}
	return ts
}
