// Command feedsim measures the feed's policies on a simulated population.
//
// It builds a catalogue of videos in topics and a population whose hidden
// interests (two topics each) only the simulator knows, serves the real
// GraphQL handler on loopback for each policy (FEED_POLICY foryou, popular,
// tags) over a fresh database, and drives each person through the public
// API: reading feed pages, watching for a time that depends on the hidden
// interest, liking, tapping product cards, saying "not interested", buying
// (checkout with the test provider) and following (when the schema has a
// follow mutation). After 0, 5, 20 and 50 interactions it measures the next
// page served: precision against the hidden interests, share of followed
// creators, catalogue coverage and GMV per 1,000 impressions under the
// simulated purchase model; then how fast a fresh interest leads the next
// page, and whether new videos reach the people they match. The policy
// foryou_signed_out runs For You with the population signed out: each
// person a device (deviceId on recordEvents and on feed) that watches, taps
// and dismisses, but neither likes, buys nor follows.
//
//	go run ./server/feedsim                       # the report in docs/FEED.md
//	go run ./server/feedsim -users 12 -policies foryou,popular
//
// It needs PostgreSQL's server binaries (as make test does) or
// DATABASE_URL, a superuser URL under which it creates its databases.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"showcase/store"
	"showcase/store/pgcluster"
)

// options shape a simulation.
type options struct {
	Users, Topics, CreatorsPerTopic, VideosPerCreator int
	Page, Probes                                      int
	Seed                                              uint64
	Checkpoints                                       []int
	Policies                                          []string
}

func defaultOptions() options {
	return options{Users: 40, Topics: 8, CreatorsPerTopic: 3, VideosPerCreator: 12, Page: 10, Probes: 5, Seed: 1,
		Checkpoints: []int{0, 5, 20, 50}, Policies: []string{store.PolicyPopular, store.PolicyTags, store.PolicyForYou, PolicySignedOut}}
}

func main() {
	o := defaultOptions()
	flag.IntVar(&o.Users, "users", o.Users, "simulated people")
	flag.IntVar(&o.Topics, "topics", o.Topics, "topics (at most 12)")
	flag.IntVar(&o.CreatorsPerTopic, "creators", o.CreatorsPerTopic, "creators (each with a shop) per topic")
	flag.IntVar(&o.VideosPerCreator, "videos", o.VideosPerCreator, "videos per creator")
	flag.IntVar(&o.Page, "page", o.Page, "feed page size")
	flag.IntVar(&o.Probes, "probes", o.Probes, "people whose fresh-interest latency is measured")
	flag.Uint64Var(&o.Seed, "seed", o.Seed, "random seed (the same seed, the same population and choices)")
	policies := flag.String("policies", strings.Join(o.Policies, ","), "policies to compare")
	flag.Parse()
	o.Policies = strings.Split(*policies, ",")
	o.Topics = min(max(o.Topics, 3), 12)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "feedsim:", err)
		os.Exit(1)
	}
}

// run simulates every policy, each on a database of its own (from
// DATABASE_URL's server, or a throwaway cluster), and writes the report.
func run(ctx context.Context, o options, out io.Writer) error {
	newDSN, done, err := databases(ctx)
	if err != nil {
		return err
	}
	defer done()
	results, err := simulateAll(ctx, o, newDSN)
	if err != nil {
		return err
	}
	report(out, o, results)
	return nil
}

// simulateAll runs each policy on a new database.
func simulateAll(ctx context.Context, o options, newDSN func(string) (string, error)) ([]*policyResult, error) {
	var results []*policyResult
	for _, p := range o.Policies {
		dsn, err := newDSN("feedsim_" + p)
		if err != nil {
			return nil, err
		}
		r, err := simulate(ctx, o, dsn, p)
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", p, err)
		}
		results = append(results, r)
	}
	return results, nil
}

// databases starts a throwaway PostgreSQL (or uses DATABASE_URL's server)
// and returns how to create a database on it.
func databases(ctx context.Context) (func(string) (string, error), func(), error) {
	if admin := os.Getenv("DATABASE_URL"); admin != "" {
		db, err := store.Open(ctx, admin, store.PoolOptions{MaxOpenConns: 1})
		if err != nil {
			return nil, nil, err
		}
		return func(name string) (string, error) {
			if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name); err != nil {
				return "", err
			}
			if _, err := db.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
				return "", err
			}
			return replaceDatabase(admin, name), nil
		}, func() { db.Close() }, nil
	}
	dir, err := os.MkdirTemp("", "showcase-feedsim-")
	if err != nil {
		return nil, nil, err
	}
	_ = os.Chmod(dir, 0o755)
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(dir, "pg")})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return func(name string) (string, error) {
			return cluster.DSN(name), cluster.CreateDatabase(ctx, name)
		}, func() {
			_ = cluster.Stop()
			os.RemoveAll(dir)
		}, nil
}

// replaceDatabase swaps the database name of a postgres:// URL.
func replaceDatabase(dsn, name string) string {
	head, query, _ := strings.Cut(dsn, "?")
	if i := strings.LastIndex(head, "/"); i > len("postgres://") {
		head = head[:i]
	}
	if query != "" {
		return head + "/" + name + "?" + query
	}
	return head + "/" + name
}

// report writes the results as Markdown.
func report(out io.Writer, o options, results []*policyResult) {
	fmt.Fprintf(out, "%d people (two hidden favourite topics each), %d topics × %d creators × %d videos, pages of %d, seed %d.\n\n",
		o.Users, o.Topics, o.CreatorsPerTopic, o.VideosPerCreator, o.Page, o.Seed)
	fmt.Fprintln(out, "| policy | interactions | precision | followed creators | coverage | GMV per 1,000 impressions |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|")
	for _, r := range results {
		for _, c := range r.Checkpoints {
			followed := "n/a (no follow mutation)"
			if r.Policy == PolicySignedOut {
				followed = "n/a (signed out: no follows)"
			}
			if r.Follows {
				followed = fmt.Sprintf("%.1f%%", c.Followed*100)
			}
			fmt.Fprintf(out, "| %s | %d | %.1f%% | %s | %.1f%% | $%.2f |\n", r.Policy, c.Interactions, c.Precision*100, followed, c.Coverage*100, c.GMVPerMille)
		}
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out, "| policy | a fresh interest shows more in the next page after (s, per probed person; - = not within 30 s) | new videos of a topic on the next first page: people interested / the others |")
	fmt.Fprintln(out, "|---|---|---|")
	for _, r := range results {
		var secs []string
		for _, s := range r.FreshSeconds {
			if s < 0 {
				secs = append(secs, "-")
			} else {
				secs = append(secs, fmt.Sprintf("%.1f", s))
			}
		}
		fmt.Fprintf(out, "| %s | %s | %.0f%% / %.0f%% |\n", r.Policy, strings.Join(secs, ", "), r.ReachMatching*100, r.ReachOthers*100)
	}
}
