package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"
)

type invariant struct {
	Name                 string
	Sold, Left, Starting int64
	Holds                bool
}

type ingestion struct {
	Batch           int
	EventsPerSecond float64
	Accepted        int64
	Flushed         int64
}

type target struct {
	Name     string
	Measured string
	Goal     string
	Met      bool
}

// report is one run's findings.
type report struct {
	Started    time.Time          `json:"started"`
	Commit     string             `json:"commit"`
	Cores      int                `json:"cores"`
	GOMAXPROCS int                `json:"gomaxprocs"`
	Note       string             `json:"note"`
	Postgres   string             `json:"postgres"`
	Dataset    string             `json:"dataset"`
	Results    []result           `json:"results"`
	Baselines  map[string]float64 `json:"baselines"`
	Invariants []invariant        `json:"invariants"`
	Ingestion  []ingestion        `json:"ingestion"`
	Statements []statements       `json:"statements"`
	Fanout     *fanout            `json:"liveFanout,omitempty"`
	Refreshes  []scoreRefresh     `json:"scoreRefreshes"`
	RefreshSum *refreshCost       `json:"scoreRefreshCost,omitempty"`
	Targets    []target           `json:"targets"`
}

// targets compares the scenarios with the goals, as ratios to this run's baselines.
func (r *report) targets(hello, typename, feed result) {
	add := func(name, measured, goal string, met bool) {
		r.Targets = append(r.Targets, target{name, measured, goal, met})
	}
	ratio := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	if hello.Throughput > 0 {
		add("{ __typename } vs net/http hello", fmt.Sprintf("%.2f×", ratio(typename.Throughput, hello.Throughput)), "≥ 0.5×",
			ratio(typename.Throughput, hello.Throughput) >= 0.5)
	}
	if sel := r.Baselines["pgbench -S tps"]; sel > 0 {
		if feed.Throughput > 0 {
			add("feed(first: 20) vs pgbench -S", fmt.Sprintf("1/%.1f", ratio(sel, feed.Throughput)), "≥ 1/25", ratio(feed.Throughput, sel) >= 1.0/25)
			add("feed(first: 20) p99, closed loop at 16 clients", fmt.Sprintf("%.1f ms", feed.P99), "< 50 ms", feed.P99 < 50)
		}
		// The same targets for pages executed every time (the anonymous
		// answer above is shared for a second): what signed-in viewers get.
		for _, res := range r.Results {
			if res.Name == "feed(first: 20), uncached" || strings.HasPrefix(res.Name, "feed(first: 20), signed in") {
				add(res.Name+" vs pgbench -S", fmt.Sprintf("1/%.1f", ratio(sel, res.Throughput)), "≥ 1/25", ratio(res.Throughput, sel) >= 1.0/25)
				add(res.Name+" p99, closed loop at 16 clients", fmt.Sprintf("%.1f ms", res.P99), "< 50 ms", res.P99 < 50)
			}
			if res.Name == "products(first: 20) with variants, uncached" {
				add(res.Name+" vs pgbench -S", fmt.Sprintf("1/%.1f", ratio(sel, res.Throughput)), "≥ 1/15", ratio(res.Throughput, sel) >= 1.0/15)
			}
		}
	}
	for _, st := range r.Statements {
		if strings.HasPrefix(st.Scenario, "feed") {
			add("SQL statements per request, "+st.Scenario, fmt.Sprintf("%.2f", st.PerRequest), "≤ 8", st.PerRequest <= 8)
		}
	}
	if f := r.Fanout; f != nil {
		add(fmt.Sprintf("live fan-out to %d subscribers, p99", f.Subscribers), fmt.Sprintf("%.1f ms, %d missed", f.P99, f.Missed),
			"< 1 s, none missed", f.P99 < 1000 && f.Missed == 0)
	}
	for _, res := range r.Results {
		for _, b := range []int{2, 16, 64} {
			if res.Name == fmt.Sprintf("checkout, hot variant, %d buyers", b) {
				base := r.Baselines[fmt.Sprintf("pgbench hot-row update tps, %d clients", b)]
				add(res.Name+" vs hot-row UPDATE", fmt.Sprintf("%.2f×", ratio(res.Throughput, base)), "≥ 0.25×", ratio(res.Throughput, base) >= 0.25)
			}
		}
	}
	for _, in := range r.Ingestion {
		base := r.Baselines["pgbench single-row insert tps"]
		add(fmt.Sprintf("recordEvents in batches of %d: events/s vs pgbench single-row insert TPS", in.Batch), fmt.Sprintf("%.2f×", ratio(in.EventsPerSecond, base)),
			"≥ 2×, nothing lost", ratio(in.EventsPerSecond, base) >= 2 && in.Flushed >= in.Accepted)
	}
	for _, inv := range r.Invariants {
		add(inv.Name+": sold + left = starting", fmt.Sprintf("%d + %d = %d", inv.Sold, inv.Left, inv.Sold+inv.Left),
			fmt.Sprintf("%d", inv.Starting), inv.Holds)
	}
}

func (r *report) write(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path+".json", b, 0o644); err != nil {
		return err
	}
	var md strings.Builder
	fmt.Fprintf(&md, "# Showcase benchmark\n\n%s, commit %s, %d cores, GOMAXPROCS %d, %s; %s.\nDataset: %s.\n\n",
		r.Started.Format(time.RFC3339), r.Commit, r.Cores, r.GOMAXPROCS, r.Postgres, r.Note, r.Dataset)
	md.WriteString("## Targets\n\n| target | measured | goal | met |\n|---|---|---|---|\n")
	for _, t := range r.Targets {
		fmt.Fprintf(&md, "| %s | %s | %s | %v |\n", t.Name, t.Measured, t.Goal, t.Met)
	}
	md.WriteString("\n## Runs\n\n| scenario | mode | clients / rate | ok/s | p50 | p90 | p99 | p99.9 | max (ms) | errors | CPU cores: generator / server / PostgreSQL |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, x := range r.Results {
		cpu := ""
		if x.CPU != nil {
			cpu = fmt.Sprintf("%.2f / %.2f / %.2f", x.CPU.Generator, x.CPU.Server, x.CPU.Postgres)
		}
		fmt.Fprintf(&md, "| %s | %s | %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f%% | %s |\n",
			x.Name, x.Mode, loadOf(x), x.Throughput, x.P50, x.P90, x.P99, x.P999, x.Max, x.ErrorRate*100, cpu)
	}
	for _, x := range r.Results {
		if len(x.ErrorKinds) == 0 {
			continue
		}
		var kinds []string
		for _, k := range slices.Sorted(maps.Keys(x.ErrorKinds)) {
			kinds = append(kinds, fmt.Sprintf("%s × %d", k, x.ErrorKinds[k]))
		}
		fmt.Fprintf(&md, "\nErrors of %s, %s %s: %s.\n", x.Name, x.Mode, loadOf(x), strings.Join(kinds, ", "))
	}
	if len(r.Refreshes) > 0 {
		md.WriteString("\n## Feed score refreshes\n\nOnce a minute the server re-scores the contents whose inputs changed or left the 7-day window (from its log):\n\n")
		for _, f := range r.Refreshes {
			kind := "incremental"
			if f.Full {
				kind = "full"
			}
			fmt.Fprintf(&md, "- ended %s after %d ms (%d ms of statements), %s: %d contents re-scored, %d rows written; during: %s\n",
				f.Ended.Format("15:04:05"), f.DurationMs, f.DBMs, kind, f.Scored, f.Written, strings.Join(f.During, "; "))
		}
	}
	if c := r.RefreshSum; c != nil {
		fmt.Fprintf(&md, "\nFull recompute after seeding (what every minute's refresh cost before): %d contents, %d rows written, %.1f s of statements.\n",
			c.FullScored, c.FullWritten, float64(c.FullDBMs)/1000)
		if c.Refreshes > 0 {
			fmt.Fprintf(&md, "Incremental refreshes during the runs: %d; per minute on average %.2f s of statements (max %.2f s), %.0f contents re-scored, %.0f rows written.\n",
				c.Refreshes, c.DBMsPerMinute/1000, float64(c.MaxDBMs)/1000, c.ScoredPerMin, c.WrittenPerMin)
		}
	}
	md.WriteString("\n## Baselines\n\n")
	for _, k := range slices.Sorted(maps.Keys(r.Baselines)) {
		fmt.Fprintf(&md, "- %s: %.0f\n", k, r.Baselines[k])
	}
	md.WriteString("\n## SQL statements per request\n\n")
	for _, st := range r.Statements {
		fmt.Fprintf(&md, "- %s: %.2f\n", st.Scenario, st.PerRequest)
	}
	if f := r.Fanout; f != nil {
		fmt.Fprintf(&md, "\n## Live fan-out\n\n%d websocket subscribers of one session, %d comments posted one at a time: %d deliveries, %d missed; "+
			"from sending the mutation to each arrival p50 %.1f ms, p99 %.1f ms, max %.1f ms.\n", f.Subscribers, f.Comments, f.Deliveries, f.Missed, f.P50, f.P99, f.Max)
	}
	md.WriteString("\n## Ingestion\n\n")
	for _, in := range r.Ingestion {
		fmt.Fprintf(&md, "- batches of %d: %.0f events/s accepted; %d accepted, %d flushed\n", in.Batch, in.EventsPerSecond, in.Accepted, in.Flushed)
	}
	return os.WriteFile(path+".md", []byte(md.String()), 0o644)
}

// loadOf is a run's load: its clients, or its rate when open-loop.
func loadOf(x result) string {
	if x.Mode == "open" {
		return fmt.Sprintf("%.0f/s", x.Rate)
	}
	return fmt.Sprint(x.Clients)
}
