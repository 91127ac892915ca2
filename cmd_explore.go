package main

import (
	"context"
	"io"
)

func cmdExplore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return cmdRun(ctx, args, stdout, stderr)
}
