package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/uniform"
	"github.com/reluscope/reluscope/internal/osutil"
)

// cmdFool builds the fooling pair of a config's class and samples: a
// network of the teacher's class that is zero on every training sample a
// run with these seeds draws, yet large between them.
func cmdFool(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("fool", flag.ContinueOnError)
	cf := newConfigFlags(fs, "default")
	out := fs.String("out", "", "write bump.json (the network), samples.csv and fool.json to this folder")
	cfg, err := cf.parse(args, stdout)
	if err != nil {
		return helpOK(err)
	}
	if cfg.Target == experiment.TargetSine {
		return fmt.Errorf("fool: the sine target has no network class; use a teacher target")
	}
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return err
		}
	}
	t0 := time.Now()
	x := experiment.TrainingInputs(cfg)
	if cfg.DataFile != "" {
		// The bump is zero on the file's samples, which must lie in the
		// cube the class is measured on.
		if x, _, err = experiment.LoadData(cfg.DataFile, cfg.Dim); err != nil {
			return err
		}
		if r := experiment.InCube(x); r > 0 {
			return fmt.Errorf("fool --data: the inputs reach |x| = %g, outside the cube [−0.5, 0.5]^%d the fooling pair is built in", r, cfg.Dim)
		}
	}
	class := uniform.Class{Sizes: cfg.TeacherSizes(), C: cfg.Coef}
	f, err := uniform.BuildFool(class, x, cfg.DataSeed)
	if err != nil {
		return err
	}
	d := cfg.Dim
	fmt.Fprintf(stdout, "class: sizes %v, every weight and bias in [−%g, %g]; m = %d samples (%s)\n", class.Sizes, class.C, class.C, cfg.Samples, samplesFrom(cfg))
	fmt.Fprintf(stdout, "largest sample-free cube: centre x=%s, half side %.4g\n", experiment.FormatPoint(f.Center, 4, false), f.HalfSide)
	fmt.Fprintf(stdout, "bump: zero on all %d samples, sup norm %.4g at the centre, L2 norm %.4g (sup/L2 = %.3g)\n", cfg.Samples, f.Height, f.L2, f.Height/f.L2)
	fmt.Fprintf(stdout, "so every algorithm errs by ≥ %.4g in sup norm on the zero network or on the bump (they agree on every sample)\n", f.Height/2)
	fmt.Fprintf(stdout, "theorem's shape c^L·ΠN·m^(−1/d) = %.4g (shape; constants illustrative)\n", f.Shape)
	if *out == "" {
		return nil
	}
	if err := experiment.SaveNetwork(filepath.Join(*out, "bump.json"), "fool", f.Net); err != nil {
		return err
	}
	var b bytes.Buffer
	for i := 0; i < cfg.Samples; i++ {
		for k := 0; k < d; k++ {
			if k > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(x[i*d+k], 'g', -1, 64))
		}
		b.WriteByte('\n')
	}
	if err := osutil.WriteFileAtomic(filepath.Join(*out, "samples.csv"), b.Bytes()); err != nil {
		return err
	}
	j, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := osutil.WriteFileAtomic(filepath.Join(*out, "fool.json"), append(j, '\n')); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote bump.json, samples.csv and fool.json to %s in %s\n", *out, time.Since(t0).Round(time.Millisecond))
	return nil
}

// samplesFrom says where a config's samples come from.
func samplesFrom(cfg experiment.Config) string {
	if cfg.DataFile != "" {
		return "the samples of " + experiment.Excerpt(cfg.DataFile, 60)
	}
	return fmt.Sprintf("data seed %d", cfg.DataSeed)
}
