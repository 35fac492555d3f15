package store

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/lib/pq"
)

// StockAnnounceInterval is how often an API process announces to the
// others, in one statement, the products whose stock its checkouts,
// cancellations and released reservations changed (RunStockAnnouncements):
// the bound, plus the notification's delivery, on how late such a change
// reaches another process's CatalogCache. Announcing each change in the
// checkout's own transaction would serialize the hot variant's commits on
// PostgreSQL's notification queue lock; one statement per interval per
// process costs the checkouts nothing.
const StockAnnounceInterval = 100 * time.Millisecond

// stockChanged forgets, in this process's CatalogCache (if it keeps one),
// the variants of products whose stock a committed write changed, and
// queues them for the next announcement to the other processes
// (RunStockAnnouncements), which may keep one whether or not this one does.
func (db *DB) stockChanged(productIDs ...int64) {
	if len(productIDs) == 0 {
		return
	}
	db.catalog.ForgetVariants(productIDs...)
	db.stockMu.Lock()
	defer db.stockMu.Unlock()
	if db.stockPending == nil {
		db.stockPending = map[int64]struct{}{}
	}
	for _, id := range productIDs {
		db.stockPending[id] = struct{}{}
	}
}

// RunStockAnnouncements announces, every interval until ctx ends, the
// products whose stock this process changed since the last announcement
// (stockChanged), as "v" notifications on CatalogChannel: every process
// that keeps a CatalogCache forgets their variants and its
// availability-filtered list pages (ForgetVariants). It announces what is
// left once more when ctx ends; what changes after that (a process
// stopping) shows elsewhere within CATALOG_CACHE_TTL, as does what a failed
// announcement carried (logged).
func (db *DB) RunStockAnnouncements(ctx context.Context, interval time.Duration) {
	announce := func(ctx context.Context) {
		db.stockMu.Lock()
		ids := make([]int64, 0, len(db.stockPending))
		for id := range db.stockPending {
			ids = append(ids, id)
		}
		clear(db.stockPending)
		db.stockMu.Unlock()
		if len(ids) == 0 {
			return
		}
		slices.Sort(ids)
		if _, err := db.ExecContext(ctx, announceCatalogSQL, CatalogChannel, pq.Array(ids), "v"); err != nil {
			slog.ErrorContext(ctx, "stock changes not announced; other API processes show them within CATALOG_CACHE_TTL", "products", len(ids), "err", err)
		}
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			last, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			announce(last)
			cancel()
			return
		case <-t.C:
			announce(ctx)
		}
	}
}
