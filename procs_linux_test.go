package main

import (
	"os/exec"
	"syscall"
)

// tieToTest makes cmd's process die with the test binary, even when the
// binary is killed or panics at its -timeout (Go's timeout panic skips
// t.Cleanup): Linux sends it SIGKILL when its parent goes away.
func tieToTest(cmd *exec.Cmd) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}
