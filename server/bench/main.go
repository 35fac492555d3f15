// Command bench measures Showcase under load against baselines taken in the
// same run on the same PostgreSQL: a plain net/http handler and pgbench. It
// generates a dataset, starts the real server binary against it, runs each
// scenario closed-loop (maximum throughput) and open-loop (fixed rates, so
// latency is honest), and writes bench-results/report.{md,json}.
//
//	go run ./server/bench            # full scale
//	go run ./server/bench -quick     # a small dataset and short runs
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

type options struct {
	Users, Products, Videos, HistoryDays int
	Duration                             time.Duration
	Concurrency                          int
	Out                                  string
	Keep                                 bool
	// Scenarios selects groups of scenarios; empty runs them all.
	Scenarios map[string]bool
	// Replica starts a streaming replica beside the primary and gives it to
	// the server as DATABASE_READ_URL.
	Replica bool
	// Data keeps the PostgreSQL cluster in this folder: the first run seeds
	// it, later runs with the same folder reuse the dataset (only migrating
	// it), so a large dataset is generated once.
	Data string
	// SeedOnly stops after the set-up (seeding, the full score recompute).
	SeedOnly bool
}

// scenarioGroups are what -scenarios selects from.
var scenarioGroups = []string{"typename", "feed", "catalog", "checkout", "ingest", "live"}

func (o options) want(group string) bool { return len(o.Scenarios) == 0 || o.Scenarios[group] }

func main() {
	var o options
	quick := flag.Bool("quick", false, "a small dataset and 2-second runs, to try the benchmark out")
	flag.IntVar(&o.Users, "users", 5000, "users to generate")
	flag.IntVar(&o.Products, "products", 50000, "products to generate")
	flag.IntVar(&o.Videos, "videos", 200000, "videos to generate")
	flag.IntVar(&o.HistoryDays, "history-days", 10, "days of engagement per content (10 × 200,000 videos ≈ 2,000,000 event rows)")
	flag.DurationVar(&o.Duration, "duration", 10*time.Second, "how long each load run lasts")
	flag.IntVar(&o.Concurrency, "concurrency", 16, "closed-loop clients")
	flag.StringVar(&o.Out, "out", "bench-results", "report folder")
	flag.BoolVar(&o.Replica, "replica", false, "start a streaming replica beside the primary (pg_basebackup -R) and serve reads from it (DATABASE_READ_URL)")
	flag.StringVar(&o.Data, "data", "", "keep the dataset in this folder and reuse it on later runs with the same folder (a run's writes stay in it)")
	flag.BoolVar(&o.SeedOnly, "seed-only", false, "stop after the set-up: with -data, generates a dataset for later runs")
	only := flag.String("scenarios", "", "comma-separated groups to run ("+strings.Join(scenarioGroups, ",")+"); empty runs all")
	flag.Parse()
	if *only != "" {
		o.Scenarios = map[string]bool{}
		for _, g := range strings.Split(*only, ",") {
			if !slices.Contains(scenarioGroups, g) {
				fmt.Fprintf(os.Stderr, "bench: unknown scenario group %q (have %s)\n", g, strings.Join(scenarioGroups, ","))
				os.Exit(2)
			}
			o.Scenarios[g] = true
		}
	}
	if *quick {
		o.Users, o.Products, o.Videos, o.HistoryDays, o.Duration = 500, 2000, 5000, 3, 2*time.Second
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	env, err := setUp(ctx, o)
	if err != nil {
		return err
	}
	defer env.tearDown()
	if o.SeedOnly {
		return nil
	}
	r := &report{
		Started: time.Now().UTC(), Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), Commit: commit(),
		Note:    "load generator, server and PostgreSQL share this machine",
		Dataset: fmt.Sprintf("%d users, %d products, %d videos, %d days of engagement", o.Users, o.Products, o.Videos, o.HistoryDays),
	}
	if o.Replica {
		r.Note += "; with a streaming replica on the same machine serving reads (DATABASE_READ_URL)"
	}
	_ = env.db.GetContext(ctx, &r.Postgres, `SELECT 'PostgreSQL ' || current_setting('server_version')`)
	if err := runAll(ctx, env, o, r); err != nil {
		return err
	}
	r.Refreshes = env.scoreRefreshes(r.Results)
	r.RefreshSum = env.refreshCost(r.Refreshes)
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return err
	}
	if err := r.write(filepath.Join(o.Out, "report")); err != nil {
		return err
	}
	fmt.Printf("\nreport: %s.md and .json\n", filepath.Join(o.Out, "report"))
	return nil
}
