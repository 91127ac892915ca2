package tui

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/reluscope/reluscope/backend"
	"github.com/reluscope/reluscope/experiment"
)

// settingsPanel is the list of settings on the left: one selected, changed
// a step at a time or typed in, with derived facts below.
type settingsPanel struct {
	st       *Styles
	selected int
	// top is the first setting shown when they outnumber the panel's rows
	// (window keeps the selected one in view; Model.Update keeps it).
	top     int
	editing bool
	input   textinput.Model
	// checkMemory refuses settings too big for the machine (nil: no
	// check; set by New from Options.IgnoreMemory).
	checkMemory func(experiment.Config) error
}

func newSettingsPanel(st *Styles) settingsPanel {
	in := textinput.New()
	in.Prompt = ""
	in.CharLimit = 24
	return settingsPanel{st: st, input: in}
}

// settingsChange is what a key in the panel asks of the explorer: new
// settings (next, for the field named), a refusal (err) or a note.
type settingsChange struct {
	next  *experiment.Config
	field string
	err   error
	note  string
}

// update handles a key for settings cfg.
func (p settingsPanel) update(msg tea.KeyMsg, k keyMap, cfg experiment.Config) (settingsPanel, settingsChange, tea.Cmd) {
	if p.editing {
		switch msg.Type {
		case tea.KeyEnter:
			p.editing = false
			f := fields[p.selected]
			if strings.TrimSpace(p.input.Value()) == "" {
				return p, settingsChange{note: f.name + " kept at " + f.get(cfg)}, nil
			}
			return p, p.validated(cfg, f, func(c *experiment.Config) error { return f.set(c, p.input.Value()) }), nil
		case tea.KeyEsc:
			p.editing = false
			return p, settingsChange{note: "edit cancelled"}, nil
		}
		var cmd tea.Cmd
		p.input, cmd = p.input.Update(msg)
		return p, settingsChange{}, cmd
	}
	switch {
	case key.Matches(msg, k.Up):
		p.selected = (p.selected + len(fields) - 1) % len(fields)
	case key.Matches(msg, k.Down):
		p.selected = (p.selected + 1) % len(fields)
	case key.Matches(msg, k.Inc), key.Matches(msg, k.Dec):
		dir := 1
		if key.Matches(msg, k.Dec) {
			dir = -1
		}
		f := fields[p.selected]
		return p, p.validated(cfg, f, func(c *experiment.Config) error { return f.step(c, dir) }), nil
	case key.Matches(msg, k.Edit):
		// What is typed replaces the value, which stays as the placeholder.
		p.editing = true
		p.input.SetValue("")
		p.input.Placeholder = fields[p.selected].get(cfg)
		return p, settingsChange{note: "typing " + fields[p.selected].name + ": enter sets it, esc cancels"}, p.input.Focus()
	}
	return p, settingsChange{}, nil
}

// validated applies change to a copy of cfg and checks the result.
func (p settingsPanel) validated(cfg experiment.Config, f field, change func(*experiment.Config) error) settingsChange {
	next := cfg
	if err := change(&next); err != nil {
		return settingsChange{err: err}
	}
	nx := experiment.ExplorerConfig(next) // what the run will run: checked once here
	if err := nx.Validate(); err != nil {
		return settingsChange{err: fmt.Errorf("%s refused: %v", f.name, err)}
	}
	if err := next.CheckLearnerSize(); err != nil {
		return settingsChange{err: fmt.Errorf("%s refused: %v", f.name, err)}
	}
	if p.checkMemory != nil {
		if err := p.checkMemory(nx); err != nil {
			return settingsChange{err: fmt.Errorf("%s refused: %v", f.name, err)}
		}
	}
	return settingsChange{next: &next, field: f.name}
}

// view draws the panel for settings c, w×h.
func (p settingsPanel) view(c experiment.Config, w, h int) string {
	st := p.st
	iw := w - 2
	var lines []string
	for i, f := range fields {
		val := f.get(c)
		// A long value (a 12-digit seed) takes room from the name, never
		// the other way round.
		nw := max(1, min(14, iw-2-len([]rune(val))))
		name := fmt.Sprintf("%-*s", nw, ansi.Truncate(f.name, nw-1, ""))
		var line string
		if i == p.selected {
			line = st.Selected.Render(fmt.Sprintf("%-*s", iw, "▸ "+name+val))
			if p.editing {
				// A visible edit box in every colour profile: brackets and a bar cursor.
				typed := p.input.Value()
				if typed == "" {
					typed = st.Muted.Render(f.get(c))
				}
				line = "✎ " + name + "[" + typed + "▏]"
			}
		} else {
			line = "  " + st.Label.Render(name) + st.Value.Render(val)
		}
		lines = append(lines, line)
	}
	extra := []string{
		"",
		st.Muted.Render(fmt.Sprintf("batch %d · %d steps/ep", c.BatchSize(), c.StepsPerEpoch())),
		st.Muted.Render(fmt.Sprintf("params: t %d · s %d", backend.NumParams(c.TeacherSizes()), backend.NumParams(c.StudentSizes()))),
		st.Muted.Render("ε=0.01 needs m ≳ ") + st.Value.Render(boundSamples(c, 0.01)),
		st.Muted.Render("(c^L·ΠN/ε)^d: shape only"),
	}
	if c.Target == experiment.TargetSine {
		// An analytic target: no teacher class, no bound to show.
		extra[2] = st.Muted.Render(fmt.Sprintf("student %d params", backend.NumParams(c.StudentSizes())))
		extra[3] = st.Muted.Render("target: Figure 1,")
		extra[4] = st.Muted.Render("log(sin 50x + 2) + sin 5x")
	}
	if p.editing {
		extra = append([]string{"", st.Value.Render("typing: enter sets, esc cancels")}, extra[1:]...)
	}
	// More settings than rows: the window that keeps the selected one in view.
	off, rows := p.window(h)
	lines = lines[off : off+rows]
	room := h - 2 - len(lines)
	lines = append(lines, extra[:max(0, min(len(extra), room))]...)
	return panel(st, "settings", strings.Join(lines, "\n"), w, h)
}

// window is the first setting shown and how many show in a panel h high:
// all when they fit; else from top, moved only as far as it takes to show
// the selected one (so that a click or the wheel over a row finds the same
// setting there the next time).
func (p settingsPanel) window(h int) (off, rows int) {
	rows = len(fields)
	if r := h - 2; r < rows && r > 0 {
		rows = r
	}
	off = min(max(0, p.top), len(fields)-rows)
	switch {
	case p.selected < off:
		off = p.selected
	case p.selected >= off+rows:
		off = p.selected - rows + 1
	}
	return off, rows
}

// settingAt is the setting shown on screen row y of a panel h high whose
// first row is y0 (its top border), ok false off the list.
func (p settingsPanel) settingAt(y, y0, h int) (int, bool) {
	off, rows := p.window(h)
	i := y - y0 - 1
	if i < 0 || i >= rows {
		return 0, false
	}
	return off + i, true
}

// boundSamples is the lower bound's shape (c^L·ΠN_ℓ/ε)^d for the teacher class.
func boundSamples(c experiment.Config, eps float64) string {
	lg := float64(c.Depth)*math.Log10(c.Coef) + float64(c.Depth-1)*math.Log10(float64(c.TeacherWidth)) - math.Log10(eps)
	lg *= float64(c.Dim)
	if lg < 6 {
		return fmt.Sprintf("%.0f", math.Pow(10, lg))
	}
	e := math.Floor(lg)
	return fmt.Sprintf("%.1fe%.0f", math.Pow(10, lg-e), e)
}

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
	widthSteps     = []int{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096}
	samplesSteps   = steps125(10, experiment.MaxSamples)
	epochsSteps    = steps125(1, 100_000)
	lrSteps        = []float64{1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1}
	coefSteps      = []float64{0.1, 0.2, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10}
	evalPointSteps = []int{1024, 4096, 16384, 65536, 262144, 1 << 20, 1 << 22, 1 << 24}
	batchChoices   = []string{"1%", "2%", "5%", "10%", "20%", "50%", "100%", "10", "20", "50", "100", "200", "500", "1000"}
)

// steps125 is the values 1, 2, 5, 10, 20, 50, … from lo to hi.
func steps125(lo, hi int) []int {
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

// nextInt is the next step value above (dir > 0) or below cur.
func nextInt(name string, cur, dir int, steps []int) (int, error) {
	if dir > 0 {
		for _, v := range steps {
			if v > cur {
				return v, nil
			}
		}
		return cur, fmt.Errorf("%s: %d is the largest step (type a value with enter)", name, cur)
	}
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i] < cur {
			return steps[i], nil
		}
	}
	return cur, fmt.Errorf("%s: %d is the smallest allowed", name, cur)
}

// intField is setting key's whole number, its label and range the
// setting's (experiment.Settings); 0 of a setting that allows it is
// autoIntField's.
func intField(key string, steps []int) field {
	st := experiment.MustSetting(key)
	ptr := func(c *experiment.Config) *int { return st.Ptr(c).(*int) }
	name, lo, hi := st.Label, max(1, int(st.Lo)), int(st.Hi)
	if st.ExplorerHi > 0 {
		hi = min(hi, int(st.ExplorerHi))
	}
	return field{
		name: name,
		get:  func(c experiment.Config) string { return strconv.Itoa(*ptr(&c)) },
		step: func(c *experiment.Config, dir int) error {
			p := ptr(c)
			if steps != nil {
				v, err := nextInt(name, *p, dir, steps)
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
				return fmt.Errorf("%s: %s is not a whole number", name, experiment.Quote(s))
			}
			if v < lo || v > hi {
				return fmt.Errorf("%s: %d is out of range [%d, %d]", name, v, lo, hi)
			}
			*ptr(c) = v
			return nil
		},
	}
}

func seedField(key string, get func(experiment.Config) uint64, put func(*experiment.Config, uint64)) field {
	name := experiment.MustSetting(key).Label
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
				return fmt.Errorf("%s: %s is not a seed (a whole number ≥ 0)", name, experiment.Quote(s))
			}
			put(c, v)
			return nil
		},
	}
}

func choiceField(key string, get func(experiment.Config) string, put func(*experiment.Config, string) error, choices func() []string) field {
	name := experiment.MustSetting(key).Label
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
	intField("depth", nil),
	intField("dim", nil),
	intField("width", widthSteps),
	intField("samples", samplesSteps),
	choiceField("batch", func(c experiment.Config) string { return c.Batch.String() },
		func(c *experiment.Config, s string) error {
			b, err := experiment.ParseBatch(s)
			if err != nil {
				return err
			}
			c.Batch = b
			return nil
		}, func() []string { return batchChoices }),
	intField("epochs", epochsSteps),
	{
		name: experiment.MustSetting("lr").Label,
		get:  func(c experiment.Config) string { return formatLR(c.LR) },
		step: func(c *experiment.Config, dir int) error {
			for i := range lrSteps {
				k := i
				if dir < 0 {
					k = len(lrSteps) - 1 - i
				}
				if v := lrSteps[k]; (dir > 0 && v > c.LR*1.0001) || (dir < 0 && v < c.LR*0.9999) {
					setLR(c, v)
					return nil
				}
			}
			return fmt.Errorf("lr: %s is the end of the steps (type a value with enter)", formatLR(c.LR))
		},
		set: func(c *experiment.Config, s string) error {
			v, err := floatIn("lr", s)
			if err == nil {
				setLR(c, v)
			}
			return err
		},
	},
	{
		name: experiment.MustSetting("coef").Label,
		get:  func(c experiment.Config) string { return strconv.FormatFloat(c.Coef, 'g', 4, 64) },
		step: func(c *experiment.Config, dir int) error {
			v, err := nextFloat("c", c.Coef, dir, coefSteps)
			c.Coef = v
			return err
		},
		set: func(c *experiment.Config, s string) error {
			v, err := floatIn("coef", s)
			if err == nil {
				c.Coef = v
			}
			return err
		},
	},
	intField("teacher_width", widthSteps),
	autoIntField("student_depth", "= depth", nil,
		func(c experiment.Config) int { return len(c.StudentSizes()) - 1 }),
	autoIntField("eval_points", "auto", evalPointSteps,
		func(c experiment.Config) int { return experiment.ExplorerConfig(c).EvalPoints }),
	autoIntField("eval_every", "auto", epochsSteps,
		func(c experiment.Config) int { return experiment.ExplorerConfig(c).EvalEvery }),
	choiceField("learner", func(c experiment.Config) string {
		if c.Learner == "" {
			return experiment.LearnerAdam
		}
		return c.Learner
	}, func(c *experiment.Config, s string) error {
		for _, n := range experiment.LearnerNames() {
			if s == n {
				c.Learner = s
				if s == experiment.LearnerAdam {
					c.Learner = ""
				}
				return nil
			}
		}
		return fmt.Errorf("learner: %s is not one of %s", experiment.Quote(s), strings.Join(experiment.LearnerNames(), ", "))
	}, experiment.LearnerNames),
	choiceField("dtype", func(c experiment.Config) string { return c.DType },
		func(c *experiment.Config, s string) error {
			if _, err := backend.ParseDType(s); err != nil {
				return fmt.Errorf("dtype: %s is not float64 or float32", experiment.Quote(s))
			}
			c.DType = s
			return nil
		}, func() []string { return []string{"float64", "float32"} }),
	seedField("teacher_seed", func(c experiment.Config) uint64 { return c.TeacherSeed },
		func(c *experiment.Config, v uint64) { c.TeacherSeed = v }),
	// The student seed draws the student and, while they are equal, the
	// training data too (as s does); the data seed alone moves the data.
	seedField("init_seed", func(c experiment.Config) uint64 { return c.InitSeed },
		func(c *experiment.Config, v uint64) {
			if c.DataSeed == c.InitSeed {
				c.DataSeed = v
			}
			c.InitSeed = v
		}),
	seedField("data_seed", func(c experiment.Config) uint64 { return c.DataSeed },
		func(c *experiment.Config, v uint64) { c.DataSeed = v }),
	choiceField("backend", func(c experiment.Config) string { return c.Backend },
		func(c *experiment.Config, s string) error {
			if _, err := backend.Get(s); err != nil {
				if hint := backend.NotBuilt(s); hint != "" {
					return errors.New(hint)
				}
				return fmt.Errorf("backend: %s is not one of %s", experiment.Quote(s), strings.Join(backend.Names(), ", "))
			}
			c.Backend = s
			return nil
		}, backend.Names),
}

// autoIntField is a whole number whose 0 means a value derived from the
// rest (shown as "auto" with it): typing "auto" (or 0) restores it, a step
// starts from the derived value.
func autoIntField(key, auto string, steps []int, derived func(experiment.Config) int) field {
	f := intField(key, steps)
	st := experiment.MustSetting(key) // looked up once, not at every redraw
	ptr := func(c *experiment.Config) *int { return st.Ptr(c).(*int) }
	name := f.name
	get, step, set := f.get, f.step, f.set
	f.get = func(c experiment.Config) string {
		if *ptr(&c) == 0 {
			if auto == "auto" {
				return fmt.Sprintf("auto %d", derived(c))
			}
			if c.UsesLearner() && name == "student depth" {
				return "2 (learner)"
			}
			return auto
		}
		return get(c)
	}
	f.step = func(c *experiment.Config, dir int) error {
		if *ptr(c) == 0 {
			*ptr(c) = derived(*c)
		}
		return step(c, dir)
	}
	f.set = func(c *experiment.Config, s string) error {
		if t := strings.TrimSpace(strings.ToLower(s)); t == "auto" || t == "0" || t == "" || t == strings.TrimSpace(auto) {
			*ptr(c) = 0
			return nil
		}
		return set(c, s)
	}
	return f
}

// floatIn reads a typed value of setting key, refused outside its range.
func floatIn(key, s string) (float64, error) {
	st := experiment.MustSetting(key)
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || !st.In(v) {
		return 0, fmt.Errorf("%s: %s is out of range %s", st.Label, experiment.Quote(s), st.Range())
	}
	return v, nil
}

// nextFloat is the next step value above (dir > 0) or below cur.
func nextFloat(name string, cur float64, dir int, steps []float64) (float64, error) {
	if dir > 0 {
		for _, v := range steps {
			if v > cur*1.0001 {
				return v, nil
			}
		}
		return cur, fmt.Errorf("%s: %g is the largest step (type a value with enter)", name, cur)
	}
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i] < cur*0.9999 {
			return steps[i], nil
		}
	}
	return cur, fmt.Errorf("%s: %g is the smallest step (type a value with enter)", name, cur)
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
