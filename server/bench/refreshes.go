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
	// DBMs is the time spent in its statements; Scored the contents it
	// recomputed, Written the content_scores rows it wrote; Full whether it
	// recomputed every content.
	DBMs    int64    `json:"dbMs"`
	Scored  int64    `json:"scored"`
	Written int64    `json:"written"`
	Full    bool     `json:"full"`
	During  []string `json:"during"`
}

// refreshCost sums the score refreshes the server made during the runs
// against the full recompute made after seeding (which is what each
// refresh cost when every refresh was full).
type refreshCost struct {
	FullDBMs    int64 `json:"fullDbMs"`
	FullScored  int64 `json:"fullScored"`
	FullWritten int64 `json:"fullWritten"`
	// Incremental refreshes: how many, and their mean per refresh (one a
	// minute).
	Refreshes     int     `json:"refreshes"`
	DBMsPerMinute float64 `json:"dbMsPerMinute"`
	ScoredPerMin  float64 `json:"scoredPerMinute"`
	WrittenPerMin float64 `json:"writtenPerMinute"`
	MaxDBMs       int64   `json:"maxDbMs"`
}

func (e *environment) refreshCost(refreshes []scoreRefresh) *refreshCost {
	c := &refreshCost{FullDBMs: e.fullRefresh.DBTime.Milliseconds(), FullScored: e.fullRefresh.Scored, FullWritten: e.fullRefresh.Written}
	for _, r := range refreshes {
		if r.Full {
			continue
		}
		c.Refreshes++
		c.DBMsPerMinute += float64(r.DBMs)
		c.ScoredPerMin += float64(r.Scored)
		c.WrittenPerMin += float64(r.Written)
		c.MaxDBMs = max(c.MaxDBMs, r.DBMs)
	}
	if c.Refreshes > 0 {
		n := float64(c.Refreshes)
		c.DBMsPerMinute, c.ScoredPerMin, c.WrittenPerMin = c.DBMsPerMinute/n, c.ScoredPerMin/n, c.WrittenPerMin/n
	}
	return c
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
			DBMs       int64     `json:"db_ms"`
			Scored     int64     `json:"scored"`
			Written    int64     `json:"written"`
			Full       bool      `json:"full"`
		}
		if json.Unmarshal(lines.Bytes(), &entry) != nil {
			continue
		}
		r := scoreRefresh{Ended: entry.Time, DurationMs: entry.DurationMs, DBMs: entry.DBMs, Scored: entry.Scored, Written: entry.Written, Full: entry.Full}
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
