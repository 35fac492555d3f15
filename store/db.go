// Package store holds Showcase's domain types and every SQL statement that
// reads or writes them, over PostgreSQL through sqlx and lib/pq.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// DB is the storefront's database handle.
type DB struct {
	*sqlx.DB
	cards *cardCache
	// profiles, when set (UseProfileCache), keeps users, shops, session
	// and app checks per process.
	profiles *ProfileCache
	// catalog, when set (UseCatalogCache), is the process's CatalogCache:
	// writes to products, variants and campaign enrolments forget there
	// and announce to the other processes.
	catalog *CatalogCache
	// feedRows, when set (UseFeedRows), keeps the content rows For You
	// pages read.
	feedRows *FeedRows
	// PaymentSettings bound the checkout's provider calls and when the
	// reconciler settles what they left; set it before serving.
	PaymentSettings PaymentSettings
	// WebhookKeys seal apps' webhook secrets at rest (WEBHOOK_SECRET_KEYS);
	// nil stores them as they are. Set it before serving.
	WebhookKeys *WebhookKeys

	installMu sync.Mutex
	install   string

	feedIndex feedIndexState

	// stockPending is the products whose stock this process changed since
	// the last announcement (stockChanged, RunStockAnnouncements); stockMu
	// guards it.
	stockMu      sync.Mutex
	stockPending map[int64]struct{}
}

// installationID returns this database's random id (the installation
// table), read once: it makes provider idempotency keys unique to this
// database, so two databases sharing one provider account (staging and
// production, or a database re-created) never ask for each other's payments.
func (db *DB) installationID(ctx context.Context) (string, error) {
	db.installMu.Lock()
	defer db.installMu.Unlock()
	if db.install != "" {
		return db.install, nil
	}
	if err := db.retry(ctx, func() error { return db.GetContext(ctx, &db.install, `SELECT id FROM installation`) }); err != nil {
		return "", fmt.Errorf("installation id: %w", err)
	}
	return db.install, nil
}

// PoolOptions bounds the connection pool.
type PoolOptions struct {
	MaxOpenConns int
	MaxIdleConns int
	// StatementTimeout bounds every statement (DefaultStatementTimeout when 0).
	StatementTimeout time.Duration
}

// Open connects to PostgreSQL at dsn and checks the connection. Statements run
// with a context carrying WithStatementCounter are counted.
func Open(ctx context.Context, dsn string, opts PoolOptions) (*DB, error) {
	if opts.StatementTimeout <= 0 {
		opts.StatementTimeout = DefaultStatementTimeout
	}
	sqlDB := sql.OpenDB(stmtCachingConnector{countingConnector{dsn: withSessionDefaults(dsn, opts.StatementTimeout)}})
	if opts.MaxOpenConns <= 0 {
		opts.MaxOpenConns = 20
	}
	if opts.MaxIdleConns <= 0 {
		opts.MaxIdleConns = opts.MaxOpenConns
	}
	sqlDB.SetMaxOpenConns(opts.MaxOpenConns)
	sqlDB.SetMaxIdleConns(opts.MaxIdleConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return &DB{DB: sqlx.NewDb(sqlDB, "postgres"), cards: &cardCache{}}, nil
}

// Ready reports whether the database answers.
func (db *DB) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var one int
	return db.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// IsEmpty reports whether the database holds no users yet (a fresh install).
func (db *DB) IsEmpty(ctx context.Context) (bool, error) {
	var exists bool
	err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users)`).Scan(&exists)
	return !exists, err
}

// inTx runs fn in a transaction, committing when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// errRollback aborts a transaction whose outcome is reported some other way
// (user errors), so none of its writes land.
var errRollback = errors.New("rollback")

// inTxUnlessProblems runs fn in a transaction that commits only when fn
// reports no problems: a batch with any bad line writes nothing.
func (db *DB) inTxUnlessProblems(ctx context.Context, fn func(tx *sqlx.Tx) (Problems, error)) (Problems, error) {
	var problems Problems
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if problems, err = fn(tx); err != nil {
			return err
		}
		if len(problems) > 0 {
			return errRollback
		}
		return nil
	})
	if errors.Is(err, errRollback) {
		err = nil
	}
	return problems, err
}

// IsRetryable reports whether err is a transient failure that the same
// request may overcome when sent again: the database unreachable, a
// serialization failure or a deadlock.
func IsRetryable(err error) bool { return retryable(err) }

// retryable reports whether a transaction failed for reasons a fresh attempt
// can overcome: a serialization failure, a deadlock, or a connection that
// broke (the pool then hands out a new one).
func retryable(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && (pqErr.Code == "40001" || pqErr.Code == "40P01") {
		return true
	}
	return IsUnavailable(err)
}

// inTxRetry runs fn in a transaction, retrying the whole transaction a few
// times when it fails retryably. Money paths use it: their transactions are
// idempotent as a whole.
func (db *DB) inTxRetry(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return db.retry(ctx, func() error { return db.inTx(ctx, fn) })
}

// retry runs fn, an idempotent unit of work, again a few times with a short
// backoff when it fails retryably.
func (db *DB) retry(ctx context.Context, fn func() error) error {
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		if err = fn(); err == nil || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(25<<attempt) * time.Millisecond):
		}
	}
	return err
}

// every calls fn each interval, first after one interval, until ctx ends:
// the loop of the background sweeps (payments, media, guest carts).
func every(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fn()
	}
}
