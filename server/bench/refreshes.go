package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// scoreRefresh is one of the server's background recomputations of the
// feed's ranking scores, which take PostgreSQL CPU from the runs they
// overlap.
type scoreRefresh struct {
	Ended      time.Time `json:"ended"`
	DurationMs int64     `json:"durationMs"`
	During     []string  `json:"during"`
}

var refreshLine = []byte(`"msg":"feed scores refreshed"`)

// scoreRefreshes reads the server's log for the score refreshes and names
// the runs each overlapped.
func (e *environment) scoreRefreshes(results []result) []scoreRefresh {
	f, err := os.Open(filepath.Join(e.dir, "server.log"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []scoreRefresh
	lines := bufio.NewScanner(f)
	lines.Buffer(make([]byte, 64<<10), 1<<20)
	for lines.Scan() {
		if !bytes.Contains(lines.Bytes(), refreshLine) {
			continue
		}
		var entry struct {
			Time       time.Time `json:"time"`
			DurationMs int64     `json:"duration_ms"`
		}
		if json.Unmarshal(lines.Bytes(), &entry) != nil {
			continue
		}
		r := scoreRefresh{Ended: entry.Time, DurationMs: entry.DurationMs}
		began := entry.Time.Add(-time.Duration(entry.DurationMs) * time.Millisecond)
		for _, res := range results {
			if began.Before(res.Ended) && entry.Time.After(res.Started) {
				r.During = append(r.During, res.Name+" ("+res.Mode+" "+loadOf(res)+")")
			}
		}
		out = append(out, r)
	}
	return out
}
