package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// DefaultReadMaxLag is how far behind the primary a read replica may be and
// still serve reads (DATABASE_READ_MAX_LAG): beyond it, reads go to the
// primary until the replica catches up.
const DefaultReadMaxLag = time.Second

// DefaultReplicaPollInterval is how often a ReadReplica measures the
// replica's position: one small statement on the primary and one on the
// replica per interval and process.
const DefaultReplicaPollInterval = 100 * time.Millisecond

// ReplicaOptions configures a ReadReplica.
type ReplicaOptions struct {
	// MaxLag is the largest lag at which the replica serves reads
	// (DefaultReadMaxLag when 0). It must exceed PollInterval.
	MaxLag time.Duration
	// PollInterval is how often the lag is measured
	// (DefaultReplicaPollInterval when 0).
	PollInterval time.Duration
	// Pool bounds the read pool (its own connections, beside the primary's).
	Pool PoolOptions
}

// ReadReplica sends reads that tolerate a little lag to a streaming replica
// of the primary, and the reads of a caller who has just written to the
// primary, until the replica has replayed that write.
//
// It measures the replica's lag every PollInterval: it takes the primary's
// WAL insert position (P, at time t), then the replica's replay position
// (R); the replica then holds every commit made before the latest t whose P
// is at most R, and its lag is the time since that t. The replica is used
// while that lag is at most MaxLag and it answers; otherwise reads go to the
// primary, and come back when it catches up. A read pool connection that
// fails on the replica marks it unusable at once and the statement is sent
// again on the primary, so callers see no error.
//
// A nil *ReadReplica routes everything to the primary.
type ReadReplica struct {
	primary *DB
	reads   *DB     // the read pool: replica connections while usable, else primary ones
	probe   *sql.DB // one connection straight to the replica, for measuring it
	// primaryProbe is one connection to the primary for the measure, apart
	// from its pool (and from showcase_sql_statements_total, which counts
	// what requests and the jobs they cause cost).
	primaryProbe *sql.DB
	maxLag       time.Duration
	every        time.Duration
	// walPage and walSegment are the primary's WAL block and segment sizes
	// (read at open; the defaults when that fails), for walEnd.
	walPage, walSegment uint64

	usable atomic.Bool
	// epoch counts the times the replica was taken into use: a connection
	// opened on it in an earlier epoch may have outlived a restart, and is
	// dropped instead of reused.
	epoch  atomic.Int64
	replay atomic.Uint64 // the replica's replay position at the last measure
	lag    atomic.Int64  // nanoseconds, at the last measure; -1 when unknown

	mu      sync.Mutex
	samples []lsnSample // the primary's positions, oldest first
	state   string      // the last logged state, to log changes only
	kick    chan struct{}
}

type lsnSample struct {
	at  time.Time
	lsn uint64
}

// OpenReadReplica prepares reads on the replica at replicaDSN for the
// primary db (primaryDSN is db's own URL: the read pool connects there
// while the replica is not usable). It does not need the replica to be up:
// until it answers within the bound, reads go to the primary. It measures
// the replica once before returning; call Run to keep measuring. Errors are
// only for a URL that cannot be used at all.
func OpenReadReplica(ctx context.Context, db *DB, primaryDSN, replicaDSN string, opts ReplicaOptions) (*ReadReplica, error) {
	if opts.MaxLag <= 0 {
		opts.MaxLag = DefaultReadMaxLag
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultReplicaPollInterval
	}
	if opts.PollInterval >= opts.MaxLag {
		return nil, fmt.Errorf("the read replica's lag bound (%s) must exceed its poll interval (%s)", opts.MaxLag, opts.PollInterval)
	}
	if opts.Pool.StatementTimeout <= 0 {
		opts.Pool.StatementTimeout = DefaultStatementTimeout
	}
	if opts.Pool.MaxOpenConns <= 0 {
		opts.Pool.MaxOpenConns = 20
	}
	if opts.Pool.MaxIdleConns <= 0 {
		opts.Pool.MaxIdleConns = opts.Pool.MaxOpenConns
	}
	if _, err := pq.NewConnector(replicaDSN); err != nil {
		return nil, fmt.Errorf("DATABASE_READ_URL: %w", err)
	}
	r := &ReadReplica{primary: db, maxLag: opts.MaxLag, every: opts.PollInterval, kick: make(chan struct{}, 1),
		walPage: walPageSize, walSegment: walSegmentSize}
	r.lag.Store(-1)
	conn := readConnector{rr: r,
		replica: withSessionDefaults(withReadPoolName(replicaDSN), opts.Pool.StatementTimeout),
		primary: withSessionDefaults(withReadPoolName(primaryDSN), opts.Pool.StatementTimeout)}
	pool := sql.OpenDB(stmtCachingConnector{conn})
	pool.SetMaxOpenConns(opts.Pool.MaxOpenConns)
	pool.SetMaxIdleConns(opts.Pool.MaxIdleConns)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	r.reads = &DB{DB: sqlx.NewDb(pool, "postgres"), cards: db.cards, PaymentSettings: db.PaymentSettings}
	probeConnector, err := pq.NewConnector(withSessionDefaults(replicaDSN, time.Second))
	if err != nil {
		return nil, fmt.Errorf("DATABASE_READ_URL: %w", err)
	}
	r.probe = sql.OpenDB(probeConnector)
	r.probe.SetMaxOpenConns(1)
	primaryConnector, err := pq.NewConnector(withSessionDefaults(primaryDSN, time.Second))
	if err != nil {
		r.probe.Close()
		r.reads.Close()
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	r.primaryProbe = sql.OpenDB(primaryConnector)
	r.primaryProbe.SetMaxOpenConns(1)
	var page, segment uint64
	if err := r.primaryProbe.QueryRowContext(ctx, `SELECT current_setting('wal_block_size')::bigint,
		pg_size_bytes(current_setting('wal_segment_size'))`).Scan(&page, &segment); err == nil && page > 0 && segment > 0 {
		r.walPage, r.walSegment = page, segment
	}
	_ = r.Poll(ctx)
	return r, nil
}

// Close closes the read pool and the measuring connection.
func (r *ReadReplica) Close() {
	if r == nil {
		return
	}
	r.reads.Close()
	r.probe.Close()
	r.primaryProbe.Close()
}

// Run measures the replica every PollInterval (and at once after a read
// failed on it) until ctx ends.
func (r *ReadReplica) Run(ctx context.Context) {
	if r == nil {
		return
	}
	tick := time.NewTicker(r.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-r.kick:
		}
		_ = r.Poll(ctx)
	}
}

// Poll measures the replica once and decides whether it serves reads; it
// returns why not, or nil when it does.
func (r *ReadReplica) Poll(ctx context.Context) error {
	err := r.poll(ctx)
	r.setUsable(err == nil, err)
	return err
}

func (r *ReadReplica) poll(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, max(r.every*5, time.Second))
	defer cancel()
	at := time.Now()
	var p string
	if err := r.primaryProbe.QueryRowContext(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&p); err != nil {
		return fmt.Errorf("primary position: %w", err)
	}
	primaryLSN, err := r.walEnd(p)
	if err != nil {
		return err
	}
	var replay sql.NullString
	if err := r.probe.QueryRowContext(ctx, `SELECT pg_last_wal_replay_lsn()::text`).Scan(&replay); err != nil {
		return fmt.Errorf("replica position: %w", err)
	}
	if !replay.Valid {
		return errors.New("DATABASE_READ_URL is not a server in recovery (a streaming replica)")
	}
	replayLSN, err := parseLSN(replay.String)
	if err != nil {
		return err
	}
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples = append(r.samples, lsnSample{at: at, lsn: primaryLSN})
	caughtUp := -1
	for i := len(r.samples) - 1; i >= 0; i-- {
		if r.samples[i].lsn <= replayLSN {
			caughtUp = i
			break
		}
	}
	if caughtUp < 0 {
		// Behind every position measured: at least as old as the oldest.
		if len(r.samples) > 10_000 {
			r.samples = append(r.samples[:0], r.samples[len(r.samples)-1000:]...)
		}
		r.lag.Store(int64(now.Sub(r.samples[0].at)))
		return fmt.Errorf("the replica has not yet replayed what the primary held %s ago", now.Sub(r.samples[0].at).Round(time.Millisecond))
	}
	r.samples = append(r.samples[:0], r.samples[caughtUp:]...)
	lag := now.Sub(r.samples[0].at)
	r.lag.Store(int64(lag))
	r.replay.Store(replayLSN)
	if lag > r.maxLag {
		return fmt.Errorf("the replica lags %s, beyond DATABASE_READ_MAX_LAG (%s)", lag.Round(time.Millisecond), r.maxLag)
	}
	return nil
}

// setUsable records the decision and logs when it changes.
func (r *ReadReplica) setUsable(ok bool, why error) {
	if ok && !r.usable.Load() {
		r.epoch.Add(1)
	}
	r.usable.Store(ok)
	state := "in use"
	if !ok {
		state = "not used"
	}
	r.mu.Lock()
	changed := r.state != state
	r.state = state
	r.mu.Unlock()
	if !changed {
		return
	}
	if ok {
		slog.Info("read replica in use", "lag", time.Duration(r.lag.Load()).Round(time.Millisecond))
	} else {
		slog.Warn("read replica not used: reads go to the primary", "reason", why)
	}
}

// replicaFailed takes the replica out of use after a read failed on it, and
// asks Run to measure it again at once.
func (r *ReadReplica) replicaFailed(err error) {
	r.setUsable(false, fmt.Errorf("a read failed on it: %w", err))
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Status reports whether the replica serves reads and its lag at the last
// measure (negative when unknown), for metrics.
func (r *ReadReplica) Status() (usable bool, lag time.Duration) {
	if r == nil {
		return false, -1
	}
	return r.usable.Load(), time.Duration(r.lag.Load())
}

// Reader returns the handle for a request's reads: the read pool (the
// replica) when it is usable and userID (0 for anonymous callers) has no
// write the replica has not replayed yet; otherwise the primary. For a
// signed-in caller it costs one statement on the primary (the caller's
// read fence, by primary key); for an anonymous one none. Only reads that
// may lag by up to the bound should use it; a nil r returns nil.
func (r *ReadReplica) Reader(ctx context.Context, userID int64) *DB {
	if r == nil {
		return nil
	}
	if !r.usable.Load() {
		return r.primary
	}
	if userID == 0 {
		return r.reads
	}
	var fence string
	err := r.primary.QueryRowContext(ctx, `SELECT lsn::text FROM read_fences WHERE user_id = $1`, userID).Scan(&fence)
	if errors.Is(err, sql.ErrNoRows) {
		return r.reads
	}
	if err != nil {
		return r.primary
	}
	lsn, err := r.walEnd(fence)
	if err != nil || lsn > r.replay.Load() {
		return r.primary
	}
	return r.reads
}

// Fence records, after userID's writes have committed, the primary's WAL
// position: every process sends that user's reads to the primary until the
// replica has replayed it. One statement on the primary; nothing with a nil r
// or userID 0.
func (r *ReadReplica) Fence(ctx context.Context, userID int64) error {
	if r == nil || userID == 0 {
		return nil
	}
	err := r.primary.retry(ctx, func() error {
		_, err := r.primary.ExecContext(ctx, `INSERT INTO read_fences (user_id, lsn) VALUES ($1, pg_current_wal_insert_lsn())
			ON CONFLICT (user_id) DO UPDATE SET lsn = greatest(read_fences.lsn, excluded.lsn)`, userID)
		return err
	})
	if err != nil {
		return fmt.Errorf("read fence: %w", err)
	}
	return nil
}

// parseLSN reads PostgreSQL's text form of a WAL position ("16/B374D848").
func parseLSN(s string) (uint64, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("not a WAL position: %q", s)
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("not a WAL position: %q", s)
	}
	return h<<32 | l, nil
}

// WAL page and segment sizes of a default build, and the page headers' sizes
// on 64-bit platforms: pg_current_wal_insert_lsn()
// names the next record's start, which past a page boundary skips the
// page's header, while a replica's replay position is the last record's
// end, before that header. walEnd maps the first to the second, so an idle
// replica that has replayed everything compares equal.
const (
	walPageSize      = 8192
	walSegmentSize   = 16 << 20
	walShortPageHead = 24
	walLongPageHead  = 40
)

// walEnd parses an insert position and returns the end of the record
// before it.
func (r *ReadReplica) walEnd(s string) (uint64, error) {
	lsn, err := parseLSN(s)
	if err != nil {
		return 0, err
	}
	switch {
	case lsn%r.walSegment == walLongPageHead:
		lsn -= walLongPageHead
	case lsn%r.walPage == walShortPageHead:
		lsn -= walShortPageHead
	}
	return lsn, nil
}

// ReadPoolName is the application_name of the read pool's connections
// (unless the URL sets one), on the replica and on the primary alike: in
// pg_stat_activity it tells which server is serving the reads.
const ReadPoolName = "showcase-reads"

// withReadPoolName names the read pool's connections in dsn.
func withReadPoolName(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		if q.Get("application_name") == "" {
			q.Set("application_name", ReadPoolName)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	if strings.Contains(dsn, "application_name=") {
		return dsn
	}
	return dsn + " application_name=" + ReadPoolName
}

// readConnector opens the read pool's connections: on the replica while it
// is usable, on the primary otherwise.
type readConnector struct {
	rr               *ReadReplica
	replica, primary string
}

func (c readConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if c.rr.usable.Load() {
		conn, err := countingConnector{dsn: c.replica}.Connect(ctx)
		if err == nil {
			cc := conn.(*countingConn)
			cc.route, cc.onReplica, cc.epoch = c.rr, true, c.rr.epoch.Load()
			return cc, nil
		}
		c.rr.replicaFailed(err)
	}
	conn, err := countingConnector{dsn: c.primary}.Connect(ctx)
	if err != nil {
		return nil, err
	}
	cc := conn.(*countingConn)
	cc.route = c.rr
	return cc, nil
}

func (c readConnector) Driver() driver.Driver { return &pq.Driver{} }

// misrouted reports whether a read pool connection is on the wrong server
// (the replica while it is not usable, the primary while it is), or on the
// replica since before it was last out of use: the pool then drops it and
// opens one on the right server.
func (c *countingConn) misrouted() bool {
	if c.route == nil {
		return false
	}
	if c.route.usable.Load() != c.onReplica {
		return true
	}
	return c.onReplica && c.epoch != c.route.epoch.Load()
}

// rerouted turns a failure of a read on the replica into driver.ErrBadConn,
// after taking the replica out of use: database/sql then sends the
// statement again on another connection, which the pool opens on the
// primary. A read cancelled by a conflict with the replica's replay is sent
// again the same way.
func (c *countingConn) rerouted(err error) error {
	if err == nil || !c.onReplica {
		return err
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "40001" {
		return driver.ErrBadConn
	}
	if IsUnavailable(err) {
		c.route.replicaFailed(err)
		return driver.ErrBadConn
	}
	return err
}

// WritesWalk reports whether listing f writes and reads a walk (a search
// ranked by relevance), which only the primary can: list_walks is unlogged,
// so a replica has no copy of it.
func (f ProductList) WritesWalk() bool {
	return f.SortKey == SortRelevance || (f.SortKey == "" && strings.TrimSpace(f.Search) != "")
}
