// Command showcase serves the Showcase storefront GraphQL API.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	_ "net/http/pprof" // served only on DEBUG_ADDR (newServer's debug routes)
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"showcase/auth"
	"showcase/media"
	"showcase/server/demo"
	"showcase/store"
	"showcase/store/live"
	"showcase/webhook"
)

func main() {
	tuneGC(os.Getenv, processMemory)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "showcase:", err)
		os.Exit(1)
	}
}

// tuneGC collects garbage less often than Go's default unless GOGC or
// GOMEMLIMIT say otherwise: GOGC 400 (collect when the heap is five times
// what the last collection kept) and a soft memory limit of half the
// memory this process may use, as memory says (the container's limit, else
// the machine's; at least 1 GiB or nine tenths of that memory, whichever
// is less, and 1 GiB when memory fails). Every
// request allocates a lot; collecting at five times the live heap served
// about a third more uncached feed pages per second than the default. The
// live heap grows with the catalogue (the feed index: about 380 MB at
// 2,000,000 contents, 500 MB before it held no pointers): the fixed 1 GiB
// limit this replaced made the server collect about once a second there,
// over half its CPU (docs/BENCHMARKS.md, 2026-12-03 afternoon).
func tuneGC(getenv func(string) string, memory memlimit.Provider) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if getenv("GOMEMLIMIT") == "" {
		limit := int64(minMemoryLimit)
		if n, err := memory(); err == nil && n > 0 && n <= math.MaxInt64 {
			// Half, at least 1 GiB but never past nine tenths of the
			// memory: in a 512 MiB container a 1 GiB soft limit is never
			// reached, and a heap grown to five times the live one is
			// killed for memory instead of collected.
			total := int64(n)
			limit = max(total/2, min(limit, total-total/10))
		}
		debug.SetMemoryLimit(limit)
	}
}

// minMemoryLimit is the least soft memory limit tuneGC sets, in bytes.
const minMemoryLimit = 1 << 30

// processMemory is the memory this process may use, in bytes: its cgroup's
// limit, else the machine's memory.
var processMemory = memlimit.ApplyFallback(memlimit.FromCgroup, memlimit.FromSystem)

// shutdownGrace bounds how long in-flight requests may take to finish.
const shutdownGrace = 15 * time.Second

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	logs := newBufferedLog(stderr)
	defer logs.Close()
	slog.SetDefault(slog.New(slog.NewJSONHandler(logs, nil)))

	// The address first: a port in use should not cost a database start
	// and a seeding before saying so.
	ln, err := listen(cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()

	db, dsn, embedded, closeDB, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB()

	if cfg.MediaS3.Endpoint != "" {
		if cfg.Media, err = media.NewS3(ctx, cfg.MediaS3); err != nil {
			return err
		}
	} else if cfg.Media, err = media.NewDir(cfg.MediaDir, ""); err != nil {
		return err
	}
	seeded, err := seedIfEmpty(ctx, db, embedded || cfg.Seed, cfg.Media)
	if err != nil {
		return err
	}
	hasDemo, err := db.HasUser(ctx, demo.BuyerEmail)
	if err != nil {
		return err
	}
	secret, err := jwtSecret(cfg)
	if err != nil {
		return err
	}
	tokens, err := auth.NewTokens(secret, cfg.TokenTTL)
	if err != nil {
		return err
	}
	if cfg.Ed25519Keys != "" {
		keys, signer, err := ed25519Keys(cfg.Ed25519Keys)
		if err != nil {
			return err
		}
		if err := tokens.UseEd25519(keys, signer); err != nil {
			return err
		}
	}

	events := store.NewEventBuffer(db)
	flushCtx, cancelBackground := context.WithCancel(context.WithoutCancel(ctx))
	// Every background loop runs in background, and stopFlushing ends them
	// all and waits for them, before the database handle closes: a
	// shutdown during the feed index's first load (minutes at 2,000,000
	// contents) gives it up rather than leave it running.
	var background sync.WaitGroup
	stopFlushing := func() {
		cancelBackground()
		background.Wait()
	}
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		events.Run(flushCtx, cfg.FlushInterval)
	}()
	background.Go(func() { db.RunScoreRefresh(flushCtx, cfg.ScoreRefresh) })
	// The For You ranking's index: loaded now (/readyz waits for it),
	// caught up every half of FEED_INDEX_MAX_LAG. The other policies do
	// not rank from it.
	if cfg.FeedPolicy == store.PolicyForYou {
		background.Go(func() { db.RunFeedIndex(flushCtx, cfg.FeedIndexMaxLag) })
	}
	// Its change log is pruned by every process, whatever the policy: the
	// triggers fill it whether or not any process holds an index.
	background.Go(func() { db.RunFeedChangesPrune(flushCtx) })
	if cfg.DatabaseReadURL != "" {
		cfg.Reads, err = store.OpenReadReplica(ctx, db, dsn, cfg.DatabaseReadURL,
			store.ReplicaOptions{MaxLag: cfg.ReadMaxLag, Pool: store.PoolOptions{MaxOpenConns: cfg.DBMaxConns}})
		if err != nil {
			stopFlushing()
			return err
		}
		defer cfg.Reads.Close()
		background.Go(func() { cfg.Reads.Run(flushCtx) })
	}
	db.PaymentSettings = cfg.Payments.Settings
	db.WebhookKeys = cfg.WebhookKeys
	payments, err := newPaymentProvider(cfg.Payments, db)
	if err != nil {
		stopFlushing()
		return err
	}
	background.Go(func() { db.RunPaymentReconciler(flushCtx, payments, cfg.Payments.ReconcileInterval) })
	// Webhook deliveries, on every replica (each delivery leased to one).
	webhooksDone := make(chan struct{})
	go func() {
		defer close(webhooksDone)
		(&webhook.Worker{DB: db, Policy: webhook.Policy{Production: cfg.Production}, Settings: cfg.Webhooks}).Run(flushCtx)
	}()
	if cfg.Media != nil {
		sweeper := &store.MediaSweeper{DB: db, Files: cfg.Media, Grace: cfg.MediaSweepGrace}
		background.Go(func() { sweeper.Run(flushCtx, cfg.MediaSweepInterval) })
	}
	background.Go(func() {
		(&store.GuestCartSweeper{DB: db, Retention: cfg.GuestCartRetention}).Run(flushCtx, cfg.GuestCartSweepInterval)
	})
	hub := live.NewHub(db, dsn)
	if err := hub.Start(flushCtx); err != nil {
		stopFlushing()
		return err
	}
	background.Go(func() { <-hub.Done() })
	// Profiles written through other API processes: their For You
	// arrangements are forgotten here too.
	cfg.FeedRankings = store.NewFeedCaches(cfg.FeedRankingTTL, cfg.FeedViewerTTL)
	if err := cfg.FeedRankings.Listen(flushCtx, dsn); err != nil {
		stopFlushing()
		return err
	}
	// The content rows For You pages served, kept for
	// store.DefaultFeedRowsTTL; every change to a content's row, through
	// any process or by hand, is announced by a trigger and forgotten here.
	// Nothing is kept while the listener is disconnected.
	feedRows := store.NewFeedRows(store.DefaultFeedRowsTTL)
	if err := feedRows.Listen(flushCtx, dsn); err != nil {
		stopFlushing()
		return err
	}
	db.UseFeedRows(feedRows)
	// Feed pages' figures, shared for FIGURES_CACHE_TTL; likes and comments
	// made through other API processes are forgotten here too. Not with a
	// read replica, which serves these reads instead.
	if cfg.Reads == nil {
		cfg.Figures = store.NewFiguresCache(cfg.FiguresTTL)
		if err := cfg.Figures.Listen(flushCtx, dsn); err != nil {
			stopFlushing()
			return err
		}
		// Contents' product cards and products' variants, kept for
		// CATALOG_CACHE_TTL; product, stock and enrolment writes made
		// through any API process are forgotten here too.
		catalog := store.NewCatalogCache(cfg.CatalogTTL)
		if err := catalog.Listen(flushCtx, dsn); err != nil {
			stopFlushing()
			return err
		}
		db.UseCatalogCache(catalog)
	}
	// Authors, shops, session and app checks kept per process; every change
	// (through any process, or by hand) is announced by a trigger and
	// forgotten here. Nothing is kept while the listener is disconnected.
	if profiles := store.NewProfileCache(cfg.ProfileTTL, cfg.SessionTTL); profiles != nil {
		if err := profiles.Listen(flushCtx, dsn); err != nil {
			stopFlushing()
			return err
		}
		db.UseProfileCache(profiles)
	}
	// Stock this process's checkouts, cancellations and released
	// reservations change, announced to the other processes (which may
	// keep a CatalogCache whether or not this one does) in one statement
	// every store.StockAnnounceInterval; stopped after the background
	// loops (the reconciler releases reservations), so its last
	// announcement carries theirs.
	announceCtx, stopAnnouncing := context.WithCancel(context.WithoutCancel(ctx))
	announced := make(chan struct{})
	go func() {
		defer close(announced)
		db.RunStockAnnouncements(announceCtx, store.StockAnnounceInterval)
	}()
	// Runs before closeDB (deferred earlier): the last accepted events are
	// written, and no background loop is left using the database.
	defer func() {
		stopFlushing()
		stopAnnouncing()
		<-announced
		<-flushed
		<-webhooksDone
	}()

	// The built-in test provider is the only one so far: tok_ok pays,
	// tok_declined declines, tok_error fails transiently.
	api, debugRoutes := newServer(cfg, db, tokens, payments, events, hub)
	if cfg.DebugAddr != "" {
		// Listening before the API port opens: once the API answers, so do
		// /metrics and pprof.
		debugLn, err := net.Listen("tcp", cfg.DebugAddr)
		if err != nil {
			return fmt.Errorf("DEBUG_ADDR: %w", err)
		}
		defer debugLn.Close()
		go func() {
			if err := http.Serve(debugLn, debugRoutes); err != nil && !errors.Is(err, net.ErrClosed) {
				slog.Error("debug server", "err", err)
			}
		}()
	}
	// Cancelled first at shutdown: websocket and SSE streams close with a
	// proper close code instead of holding the shutdown up.
	connCtx, closeStreams := context.WithCancel(context.WithoutCancel(ctx))
	defer closeStreams()
	srv := &http.Server{
		BaseContext:       func(net.Listener) context.Context { return connCtx },
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "Showcase is up.\n  Storefront: %s/\n  Studio:     %s/studio\n  GraphQL:    %s/graphql\n  Playground: %s/playground\n",
		base, base, base, base)
	if seeded != nil {
		fmt.Fprintf(stdout, "  Demo data loaded: %d shops, %d products, %d videos, %d live sessions, %d users.\n",
			seeded.Shops, seeded.Products, seeded.Videos, seeded.LiveSessions, seeded.Users)
	}
	if hasDemo {
		fmt.Fprintf(stdout, "  Demo accounts (logIn mutation), password %q:\n    buyer  %s\n    seller %s\n    admin  %s\n",
			demo.Password, demo.BuyerEmail, demo.SellerEmail, demo.AdminEmail)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down")
	closeStreams()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// listen opens the API's address; when it is taken, the error says how to
// pick another.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w; another program may be using it: "+
			"choose another address with -addr or ADDR, e.g. `ADDR=127.0.0.1:8081 make run`", addr, err)
	}
	return ln, nil
}

// seedIfEmpty loads demo data into an empty database when allowed.
func seedIfEmpty(ctx context.Context, db *store.DB, allowed bool, images media.Store) (*demo.SeedReport, error) {
	if !allowed {
		return nil, nil
	}
	empty, err := db.IsEmpty(ctx)
	if err != nil || !empty {
		return nil, err
	}
	slog.Info("loading demo data")
	opts := demo.DefaultOptions()
	opts.Media = images
	report, err := demo.Seed(ctx, db, opts)
	if err != nil {
		return nil, fmt.Errorf("seed demo data: %w", err)
	}
	return &report, nil
}
