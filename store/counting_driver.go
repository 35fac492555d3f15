package store

import (
	"context"
	"database/sql/driver"
	"sync/atomic"

	"github.com/lib/pq"
)

// statementCounterKey carries a per-request statement counter. Counting at the
// driver shows the real number of round trips a GraphQL request costs, which
// is how tests and benchmarks hold the N+1-free shape in place.
type statementCounterKey struct{}

// WithStatementCounter returns a context whose SQL statements are counted in
// the returned counter.
func WithStatementCounter(ctx context.Context) (context.Context, *atomic.Int64) {
	c := new(atomic.Int64)
	return context.WithValue(ctx, statementCounterKey{}, c), c
}

// statementsExecuted counts every statement this process has sent.
var statementsExecuted atomic.Int64

// StatementsExecuted returns how many SQL statements this process has sent,
// for metrics: divided by requests, it shows what a request costs.
func StatementsExecuted() int64 { return statementsExecuted.Load() }

func countStatement(ctx context.Context) {
	statementsExecuted.Add(1)
	if c, ok := ctx.Value(statementCounterKey{}).(*atomic.Int64); ok {
		c.Add(1)
	}
}

type countingConnector struct {
	dsn string
}

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	pc, err := pq.NewConnector(c.dsn)
	if err != nil {
		return nil, err
	}
	conn, err := pc.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn}, nil
}

func (c countingConnector) Driver() driver.Driver { return &pq.Driver{} }

// countingConn forwards to lib/pq's connection and counts statements that
// carry a context (every store call does).
type countingConn struct {
	driver.Conn
	// route is set on the connections of a ReadReplica's read pool, and
	// onReplica on those opened on the replica.
	route     *ReadReplica
	onReplica bool
	epoch     int64
}

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	countStatement(ctx)
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	countStatement(ctx)
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *countingConn) Ping(ctx context.Context) error {
	return c.Conn.(driver.Pinger).Ping(ctx)
}

func (c *countingConn) ResetSession(ctx context.Context) error {
	if c.misrouted() {
		return driver.ErrBadConn
	}
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *countingConn) IsValid() bool {
	if c.misrouted() {
		return false
	}
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}
