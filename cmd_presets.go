package main

import (
	"context"
	"fmt"
	"io"

	"github.com/reluscope/reluscope/presets"
)

// cmdPresets lists the built-in presets with their descriptions.
func cmdPresets(_ context.Context, _ []string, w, _ io.Writer) error {
	all, err := presets.All()
	if err != nil {
		return err
	}
	for _, p := range all {
		fmt.Fprintf(w, "%-12s %s\n", p.Name, p.Description)
	}
	return nil
}
