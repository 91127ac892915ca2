package experiment

import (
	"strings"
)

// Command is the `reluscope run` command line that reproduces cfg from
// the preset named preset, whose config is base: the preset, then a flag
// (or --set key=value where a key has no plain flag) for every setting
// whose value differs, values quoted for a POSIX shell where they need it.
// The same seeds and backend give the same numbers.
func Command(cfg, base Config, preset string) string {
	args := []string{"reluscope", "run"}
	if preset != "default" && preset != "" {
		args = append(args, "--preset", ShellQuote(preset))
	}
	for _, s := range Settings {
		if s.Key == "seed" {
			continue // data_seed and init_seed are written apart
		}
		v := cfg.Value(s.Key)
		if v == base.Value(s.Key) {
			continue
		}
		if s.Flag == "" || s.Kind == KindBool {
			args = append(args, "--set", ShellQuote(s.Key+"="+v))
		} else {
			args = append(args, "--"+s.Flag, ShellQuote(v))
		}
	}
	return strings.Join(args, " ")
}

// ShellQuote leaves a word of safe characters as it is and puts anything
// else in single quotes.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+=%/,:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
