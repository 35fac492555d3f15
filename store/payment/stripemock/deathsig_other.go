//go:build !linux

package stripemock

import "os/exec"

// setDeathSignal does nothing outside Linux: a test process that dies
// without running its cleanups leaves stripe-mock running there.
func setDeathSignal(*exec.Cmd) {}
