package main

import (
	"errors"
	"runtime/debug"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// TestTuneGC: the garbage collector's defaults (README: GOGC, GOMEMLIMIT)
// are GOGC 400 and a soft memory limit of half the process's memory, at
// least 1 GiB (but below that memory); GOGC or GOMEMLIMIT set leaves Go's
// own reading of them.
func TestTuneGC(t *testing.T) {
	prevPercent, prevLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(prevPercent)
		debug.SetMemoryLimit(prevLimit)
	})
	unset := func(string) string { return "" }
	failed := func() (uint64, error) { return 0, errors.New("no memory reading") }
	for _, c := range []struct {
		name        string
		getenv      func(string) string
		memory      memlimit.Provider
		percent     int
		limit       int64
		limitBefore int64
	}{
		{"8 GiB of memory", unset, memlimit.Limit(8 << 30), 400, 4 << 30, 123 << 20},
		{"a 1.5 GiB container: at least 1 GiB", unset, memlimit.Limit(3 << 29), 400, 1 << 30, 123 << 20},
		{"no reading: 1 GiB", unset, failed, 400, 1 << 30, 123 << 20},
		// below the container's limit, or the kernel kills the process
		// before the collector is pressed
		{"a 512 MiB container: nine tenths of it", unset, memlimit.Limit(512 << 20), 400, (512 << 20) - (512<<20)/10, 123 << 20},
		{"GOGC and GOMEMLIMIT set", func(k string) string { return map[string]string{"GOGC": "50", "GOMEMLIMIT": "2GiB"}[k] },
			memlimit.Limit(8 << 30), 100, 123 << 20, 123 << 20},
	} {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(c.limitBefore)
		tuneGC(c.getenv, c.memory)
		if got := debug.SetGCPercent(100); got != c.percent {
			t.Errorf("%s: GOGC %d, want %d", c.name, got, c.percent)
		}
		if got := debug.SetMemoryLimit(-1); got != c.limit {
			t.Errorf("%s: memory limit %d, want %d", c.name, got, c.limit)
		}
	}
	// This machine's reading: its memory (or its container's limit).
	if n, err := processMemory(); err != nil || n == 0 {
		t.Fatalf("processMemory: %d, %v", n, err)
	}
}
