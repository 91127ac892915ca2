//go:build !linux

package main

import "os/exec"

// tieToTest is a no-op where the system cannot tie a child's life to its
// parent's; the tmux sessions' own watcher (startExplorer) still ends them.
func tieToTest(cmd *exec.Cmd) *exec.Cmd { return cmd }
