package tui

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment"
)

// field is one adjustable setting of the explorer.
type field struct {
	name string // as shown, and as named in messages
	get  func(c experiment.Config) string
	// step moves the value one notch up (dir > 0) or down.
	step func(c *experiment.Config, dir int) error
	// set parses a typed value.
	set func(c *experiment.Config, s string) error
}

var (
	widthLadder   = []int{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096}
	samplesLadder = ladder125(10, experiment.MaxSamples)
	epochsLadder  = ladder125(1, 100_000)
	lrLadder      = []float64{1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1}
	batchChoices  = []string{"1%", "2%", "5%", "10%", "20%", "50%", "100%", "10", "20", "50", "100", "200", "500", "1000"}
)

// ladder125 is 1, 2, 5, 10, 20, 50, … from lo to hi.
func ladder125(lo, hi int) []int {
	var out []int
	for p := 1; p <= hi; p *= 10 {
		for _, k := range []int{1, 2, 5} {
			if v := k * p; v >= lo && v <= hi {
				out = append(out, v)
			}
		}
	}
	return out
}

// nextInt is the next ladder value above (dir > 0) or below cur.
func nextInt(name string, cur, dir int, lad []int) (int, error) {
	if dir > 0 {
		for _, v := range lad {
			if v > cur {
				return v, nil
			}
		}
		return cur, fmt.Errorf("%s: %d is the largest step (type a value with enter)", name, cur)
	}
	for i := len(lad) - 1; i >= 0; i-- {
		if lad[i] < cur {
			return lad[i], nil
		}
	}
	return cur, fmt.Errorf("%s: %d is the smallest allowed", name, cur)
}

func intField(name string, ptr func(*experiment.Config) *int, lo, hi int, lad []int) field {
	return field{
		name: name,
		get:  func(c experiment.Config) string { return strconv.Itoa(*ptr(&c)) },
		step: func(c *experiment.Config, dir int) error {
			p := ptr(c)
			if lad != nil {
				v, err := nextInt(name, *p, dir, lad)
				*p = v
				return err
			}
			v := *p + dir
			if v < lo || v > hi {
				return fmt.Errorf("%s: must stay in [%d, %d]", name, lo, hi)
			}
			*p = v
			return nil
		},
		set: func(c *experiment.Config, s string) error {
			v, err := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(s), "_", ""))
			if err != nil {
				if f, ferr := strconv.ParseFloat(strings.TrimSpace(s), 64); ferr == nil && f == math.Trunc(f) && math.Abs(f) < 1e12 {
					v, err = int(f), nil // accept 1e4
				}
			}
			if err != nil {
				return fmt.Errorf("%s: %q is not a whole number", name, s)
			}
			if v < lo || v > hi {
				return fmt.Errorf("%s: %d is out of range [%d, %d]", name, v, lo, hi)
			}
			*ptr(c) = v
			return nil
		},
	}
}

func seedField(name string, get func(experiment.Config) uint64, put func(*experiment.Config, uint64)) field {
	return field{
		name: name,
		get:  func(c experiment.Config) string { return strconv.FormatUint(get(c), 10) },
		step: func(c *experiment.Config, dir int) error {
			v := get(*c)
			if dir < 0 && v == 0 {
				return fmt.Errorf("%s: 0 is the smallest seed", name)
			}
			put(c, uint64(int64(v)+int64(dir)))
			return nil
		},
		set: func(c *experiment.Config, s string) error {
			v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return fmt.Errorf("%s: %q is not a seed (a whole number ≥ 0)", name, s)
			}
			put(c, v)
			return nil
		},
	}
}

func choiceField(name string, get func(experiment.Config) string, put func(*experiment.Config, string) error, choices func() []string) field {
	return field{
		name: name,
		get:  get,
		step: func(c *experiment.Config, dir int) error {
			ch := choices()
			cur := get(*c)
			i := -1
			for k, v := range ch {
				if v == cur {
					i = k
				}
			}
			j := i + dir
			if i < 0 {
				j = 0
			}
			if j < 0 || j >= len(ch) {
				return fmt.Errorf("%s: no more choices that way (%s)", name, strings.Join(ch, ", "))
			}
			return put(c, ch[j])
		},
		set: func(c *experiment.Config, s string) error { return put(c, strings.TrimSpace(s)) },
	}
}

func formatLR(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }

// fields are the explorer's settings, in display order.
var fields = []field{
	intField("depth", func(c *experiment.Config) *int { return &c.Depth }, 2, experiment.MaxDepth, nil),
	intField("dim", func(c *experiment.Config) *int { return &c.Dim }, 1, experiment.MaxDim, nil),
	intField("width", func(c *experiment.Config) *int { return &c.Width }, 1, experiment.MaxWidth, widthLadder),
	intField("samples", func(c *experiment.Config) *int { return &c.Samples }, 1, experiment.MaxSamples, samplesLadder),
	choiceField("batch", func(c experiment.Config) string { return c.Batch.String() },
		func(c *experiment.Config, s string) error {
			b, err := experiment.ParseBatch(s)
			if err != nil {
				return err
			}
			c.Batch = b
			return nil
		}, func() []string { return batchChoices }),
	intField("epochs", func(c *experiment.Config) *int { return &c.Epochs }, 1, experiment.MaxEpochs, epochsLadder),
	{
		name: "lr",
		get:  func(c experiment.Config) string { return formatLR(c.LR) },
		step: func(c *experiment.Config, dir int) error {
			for i := range lrLadder {
				k := i
				if dir < 0 {
					k = len(lrLadder) - 1 - i
				}
				if v := lrLadder[k]; (dir > 0 && v > c.LR*1.0001) || (dir < 0 && v < c.LR*0.9999) {
					setLR(c, v)
					return nil
				}
			}
			return fmt.Errorf("lr: %s is the end of the ladder (type a value with enter)", formatLR(c.LR))
		},
		set: func(c *experiment.Config, s string) error {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || !(v > 0 && v <= 1) {
				return fmt.Errorf("lr: %q is out of range (0, 1]", s)
			}
			setLR(c, v)
			return nil
		},
	},
	choiceField("dtype", func(c experiment.Config) string { return c.DType },
		func(c *experiment.Config, s string) error {
			if _, err := backend.ParseDType(s); err != nil {
				return fmt.Errorf("dtype: %q is not float64 or float32", s)
			}
			c.DType = s
			return nil
		}, func() []string { return []string{"float64", "float32"} }),
	seedField("teacher seed", func(c experiment.Config) uint64 { return c.TeacherSeed },
		func(c *experiment.Config, v uint64) { c.TeacherSeed = v }),
	seedField("student seed", func(c experiment.Config) uint64 { return c.InitSeed },
		func(c *experiment.Config, v uint64) { c.InitSeed, c.DataSeed = v, v }),
	choiceField("backend", func(c experiment.Config) string { return c.Backend },
		func(c *experiment.Config, s string) error {
			if _, err := backend.Get(s); err != nil {
				return fmt.Errorf("backend: %q is not one of %s", s, strings.Join(backend.Names(), ", "))
			}
			c.Backend = s
			return nil
		}, backend.Names),
}

// setLR moves the learning rate and keeps the decay ratio lr_end/lr.
func setLR(c *experiment.Config, v float64) {
	ratio := c.LREnd / c.LR
	c.LR = v
	c.LREnd = v * ratio
}

// fieldIndex finds a field by name (-1 if none).
func fieldIndex(name string) int {
	for i, f := range fields {
		if f.name == name {
			return i
		}
	}
	return -1
}
