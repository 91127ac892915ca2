package main

import (
	"io"
	"strings"
	"testing"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/presets"
)

// shellSplit splits what experiment.Command writes: words, and single-
// quoted words with '\” for a quote.
func shellSplit(s string) []string {
	var out []string
	var cur strings.Builder
	in, any := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			in, any = !in, true
		case c == ' ' && !in:
			if any || cur.Len() > 0 {
				out = append(out, cur.String())
			}
			cur.Reset()
			any = false
		default:
			cur.WriteByte(c)
		}
	}
	if any || cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// TestShareCommandReproducesConfig: the command the explorer's share key
// gives, parsed as `reluscope run` parses it, is the same config.
func TestShareCommandReproducesConfig(t *testing.T) {
	p, err := presets.Load("default")
	if err != nil {
		t.Fatal(err)
	}
	for _, mut := range []func(*experiment.Config){
		func(*experiment.Config) {},
		func(c *experiment.Config) { c.Dim, c.Width, c.Samples = 3, 64, 2000 },
		func(c *experiment.Config) { c.TeacherSeed, c.DataSeed, c.InitSeed, c.Standardize = 7, 8, 9, false },
		func(c *experiment.Config) {
			c.Batch = experiment.Batch{Frac: 0.2}
			c.EvalPoints, c.EvalEvery = 4096, 2
			c.LR = 0.01
		},
		func(c *experiment.Config) { c.Learner, c.DiscreteSet = "discrete", "-1, 0, 1" },
	} {
		cfg := p.Config
		mut(&cfg)
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		line := experiment.Command(cfg, p.Config, "default")
		args := shellSplit(line)
		if len(args) < 2 || args[0] != "reluscope" || args[1] != "run" {
			t.Fatalf("%q", line)
		}
		o, err := parseRun(args[2:], io.Discard)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if o.cfg != cfg {
			t.Fatalf("%s\ngives  %+v\nwant   %+v", line, o.cfg, cfg)
		}
	}
}
