package stripemock

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel kill stripe-mock when the thread that
// started it ends, so a test process that dies (a panic, a -timeout) leaves
// no stripe-mock behind.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
