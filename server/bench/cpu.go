package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuUse is the CPU a run took, in cores (CPU seconds per second of the
// run), by who took it: the load generator (this process, which also
// serves the net/http baseline), the server, and PostgreSQL. The three
// share the machine, so a run's ceiling is where they add up to its cores.
type cpuUse struct {
	Generator float64 `json:"generator"`
	Server    float64 `json:"server"`
	Postgres  float64 `json:"postgres"`
}

// serverPID is the server process's, once started.
var serverPID int

// clockTicks is Linux's USER_HZ, the unit of /proc's CPU times (100 on
// every architecture Go supports there).
const clockTicks = 100

type cpuMeter struct {
	start                    time.Time
	generator, server, pgCPU time.Duration
}

func startCPU() cpuMeter {
	return cpuMeter{start: time.Now(), generator: selfCPU(), server: processCPU(serverPID), pgCPU: postgresCPU()}
}

func (m cpuMeter) stop() *cpuUse {
	wall := time.Since(m.start).Seconds()
	cores := func(d time.Duration) float64 { return d.Seconds() / wall }
	return &cpuUse{Generator: cores(selfCPU() - m.generator), Server: cores(processCPU(serverPID) - m.server), Postgres: cores(postgresCPU() - m.pgCPU)}
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// processCPU is a process's user and system time from /proc/<pid>/stat.
func processCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	_, cpu := procStat(strconv.Itoa(pid), false)
	return cpu
}

// postgresCPU adds up the CPU time of every process named postgres: the
// benchmark's cluster is the only one running while it runs. Backends that
// have exited count through the postmaster, which waited for them.
func postgresCPU() time.Duration {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var total time.Duration
	for _, dir := range dirs {
		if name, cpu := procStat(filepath.Base(dir), true); name == "postgres" {
			total += cpu
		}
	}
	return total
}

// procStat reads a process's name and user plus system time, with that of
// its children it has waited for when asked.
func procStat(pid string, children bool) (string, time.Duration) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return "", 0
	}
	s := string(b)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return "", 0
	}
	// After the name: state, ppid, ...; utime, stime, cutime and cstime are
	// fields 14 to 17 of the line, the 12th to 15th after the name.
	fields := strings.Fields(s[closing+1:])
	if len(fields) < 15 {
		return s[open+1 : closing], 0
	}
	last := 12
	if children {
		last = 14
	}
	var ticks int64
	for _, f := range fields[11 : last+1] {
		n, _ := strconv.ParseInt(f, 10, 64)
		ticks += n
	}
	return s[open+1 : closing], time.Duration(ticks) * time.Second / clockTicks
}
