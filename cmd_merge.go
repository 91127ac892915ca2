package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/reluscope/reluscope/experiment"
	"github.com/reluscope/reluscope/experiment/results"
)

// cmdSweepMerge merges result files and folders into one set of records:
// duplicates dropped, copies that disagree counted, variants of one grid
// kept apart (--variant), gaps and failed runs named (exit 3 unless
// --allow-partial).
func cmdSweepMerge(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sweep merge", flag.ContinueOnError)
	out := fs.String("out", "", "write the merged results to this file (atomically); default stdout")
	partial := fs.Bool("allow-partial", false, "exit 0 when the records have gaps (indices below the largest without a record) or failed runs; else exit 3, what was merged written")
	variant := fs.String("variant", "", "the grid variant to keep when the records hold several of one preset (--set overrides of the same grid): its hash (a prefix), or all to keep every variant")
	paths, err := parseArgs(fs, args, stdout, true)
	if err != nil {
		return helpOK(err)
	}
	if len(paths) == 0 {
		return fmt.Errorf("sweep merge: name result files or folders to merge")
	}
	merged, read, conflicts, err := results.MergeResults(paths...)
	if err != nil {
		return err
	}
	if len(merged) == 0 {
		return fmt.Errorf("sweep merge: no records in %s: nothing written", strings.Join(paths, ", "))
	}
	// Variants of one grid (--set width=512 on the same preset) share its
	// indices, never its results: one is kept, or all on request.
	switch vs := variants(merged); {
	case *variant == "all":
	case *variant != "":
		var keep []results.Record
		for _, r := range merged {
			if strings.HasPrefix(r.Variant, *variant) {
				keep = append(keep, r)
			}
		}
		if len(keep) == 0 {
			return fmt.Errorf("sweep merge: no record of variant %s (the records' variants: %s)", experiment.Quote(*variant), strings.Join(variantNames(vs), ", "))
		}
		merged = keep
	default:
		for _, v := range vs {
			if len(v.names) > 1 || v.clash >= 0 {
				return fmt.Errorf("sweep merge: the records of %s are of %s; a report of them together would mix them: merge one with --variant HASH, or --variant all", v.preset, v.describe())
			}
		}
	}
	if conflicts > 0 {
		fmt.Fprintf(stderr, "sweep merge: %d runs had copies that disagree (a failed and a finished copy, or different results); kept the finished copy, else the first\n", conflicts)
	}
	holes := gaps(merged)
	for _, g := range holes {
		fmt.Fprintf(stderr, "sweep merge: %s\n", g)
	}
	incomplete := func() error {
		if len(holes) == 0 || *partial {
			return nil
		}
		return &exitError{exitIncomplete, fmt.Errorf("sweep merge: the records are incomplete (above): merged as far as they go, exit 3 (--allow-partial exits 0)")}
	}
	if *out == "" {
		for _, r := range merged {
			if err := writeJSONLine(stdout, r); err != nil {
				return err
			}
		}
		return incomplete()
	}
	if err := results.WriteRecordsAtomic(*out, merged); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "merged %d records (%d duplicates dropped) into %s\n", len(merged), read-len(merged), *out)
	return incomplete()
}

// presetVariants is what the records of one preset hold: each variant's
// records (by Record.Variant; "" for records written before variants
// were), an index with two different configs (clash, else −1) and, for
// the first variant that differs from another at one index, how.
type presetVariants struct {
	preset string
	names  []string
	count  map[string]int
	clash  int
	diff   string
}

func (v presetVariants) describe() string {
	var parts []string
	for _, n := range v.names {
		label := n
		if label == "" {
			label = "(unrecorded)"
		}
		parts = append(parts, fmt.Sprintf("%s (%d record%s)", label, v.count[n], map[bool]string{true: "", false: "s"}[v.count[n] == 1]))
	}
	s := fmt.Sprintf("%d variants: %s", len(v.names), strings.Join(parts, ", "))
	if len(v.names) == 1 {
		s = "one variant whose index " + strconv.Itoa(v.clash) + " has two configs"
	}
	if v.diff != "" {
		s += " — at one index they differ in " + v.diff
	}
	return s
}

// variants groups records by preset and variant, in order of appearance.
func variants(recs []results.Record) []presetVariants {
	var out []presetVariants
	at := map[string]int{}
	first := map[string]map[int]results.Record{}
	for _, r := range recs {
		k, ok := at[r.Preset]
		if !ok {
			k = len(out)
			at[r.Preset] = k
			out = append(out, presetVariants{preset: r.Preset, count: map[string]int{}, clash: -1})
			first[r.Preset] = map[int]results.Record{}
		}
		v := &out[k]
		if v.count[r.Variant] == 0 {
			v.names = append(v.names, r.Variant)
		}
		v.count[r.Variant]++
		if f, ok := first[r.Preset][r.Index]; !ok {
			first[r.Preset][r.Index] = r
		} else if f.Hash != r.Hash && v.diff == "" {
			v.diff = configDiff(f.Config, r.Config)
			if f.Variant == r.Variant && v.clash < 0 {
				v.clash = r.Index
			}
		}
	}
	return out
}

// variantNames lists every preset's variants.
func variantNames(vs []presetVariants) []string {
	var out []string
	for _, v := range vs {
		for _, n := range v.names {
			out = append(out, fmt.Sprintf("%s of %s", n, v.preset))
		}
	}
	return out
}

// gaps says, per preset, which indices below its largest have no record
// (runs not yet done, or lost) and how many failed: a merge of an
// unfinished grid says so instead of looking complete.
func gaps(recs []results.Record) []string {
	type seen struct {
		max    int
		have   map[int]bool
		failed int
	}
	by := map[string]*seen{}
	var names []string
	label := map[string]string{}
	for _, r := range recs {
		// Per variant: one variant's record never fills another's gap.
		key := r.Preset + "\x00" + r.Variant
		s := by[key]
		if s == nil {
			s = &seen{max: -1, have: map[int]bool{}}
			by[key] = s
			names = append(names, key)
			label[key] = r.Preset
			if r.Variant != "" {
				label[key] = fmt.Sprintf("%s (variant %s)", r.Preset, r.Variant)
			}
		}
		s.max = max(s.max, r.Index)
		s.have[r.Index] = true
		if r.Error != "" {
			s.failed++
		}
	}
	var out []string
	for _, name := range names {
		s := by[name]
		var missing results.Indices
		for i := 0; i <= s.max; i++ {
			if !s.have[i] {
				missing.Add(i)
			}
		}
		preset := strings.SplitN(name, "\x00", 2)[0]
		lab := label[name]
		if preset == "" {
			lab = "(no preset)"
		}
		if missing.Len() > 0 {
			out = append(out, fmt.Sprintf("%s: %d indices below the largest (%d) have no record: %s (sweep status %s DIR says what is still to run)",
				lab, missing.Len(), s.max, experiment.Excerpt(missing.Spec(), 200), preset))
		}
		if s.failed > 0 {
			out = append(out, fmt.Sprintf("%s: %d records are failed runs", lab, s.failed))
		}
	}
	return out
}
