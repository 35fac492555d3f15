package store

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/lib/pq"
)

// maxCachedStatements bounds the prepared statements kept per connection.
// The store's statement texts are a fixed, small set; past the bound,
// further texts simply run unprepared.
const maxCachedStatements = 512

// stmtCachingConnector keeps every parameterised statement prepared, per
// connection. lib/pq otherwise runs each one as an unnamed statement: a
// parse round trip, then a bind round trip that plans it again, every time.
// A kept statement costs one round trip and, after a few executions,
// PostgreSQL reuses its generic plan: for the feed and metrics statements,
// planning took longer than executing.
type stmtCachingConnector struct {
	driver.Connector
}

func (c stmtCachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &stmtCachingConn{countingConn: conn.(*countingConn), stmts: map[string]driver.Stmt{}}, nil
}

// stmtCachingConn is used by one goroutine at a time (database/sql's
// guarantee for a driver connection), so its map needs no lock.
type stmtCachingConn struct {
	*countingConn
	stmts map[string]driver.Stmt // nil value: the text cannot be prepared
}

type stmtQueryerExecer interface {
	driver.StmtQueryContext
	driver.StmtExecContext
}

// stmt returns the connection's prepared statement for query, preparing it
// on first use, or nil when it runs unprepared (no parameters, a statement
// lib/pq cannot keep, or the cache is full). A text that fails to prepare
// fails as it would have unprepared, with its own error.
func (c *stmtCachingConn) stmt(ctx context.Context, query string, args []driver.NamedValue) (stmtQueryerExecer, error) {
	if len(args) == 0 {
		return nil, nil // lib/pq's simple protocol is one round trip already
	}
	if s, ok := c.stmts[query]; ok {
		st, _ := s.(stmtQueryerExecer)
		return st, nil
	}
	if len(c.stmts) >= maxCachedStatements {
		return nil, nil
	}
	s, err := c.countingConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := s.(stmtQueryerExecer)
	if !ok { // COPY, which lib/pq prepares its own way
		_ = s.Close()
		c.stmts[query] = nil
		return nil, nil
	}
	c.stmts[query] = s
	return st, nil
}

// forget drops a kept statement that PostgreSQL no longer accepts, after a
// schema change, so the next use prepares it afresh.
func (c *stmtCachingConn) forget(query string, err error) {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && (pqErr.Code == "0A000" || pqErr.Code == "26000") {
		delete(c.stmts, query)
	}
}

func (c *stmtCachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	countStatement(ctx)
	rows, err := c.query(ctx, query, args)
	return rows, c.rerouted(err)
}

func (c *stmtCachingConn) query(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st, err := c.stmt(ctx, query, args)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.countingConn.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	}
	rows, err := st.QueryContext(ctx, args)
	if err != nil {
		c.forget(query, err)
	}
	return rows, err
}

func (c *stmtCachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	countStatement(ctx)
	res, err := c.exec(ctx, query, args)
	return res, c.rerouted(err)
}

func (c *stmtCachingConn) exec(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st, err := c.stmt(ctx, query, args)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.countingConn.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	}
	res, err := st.ExecContext(ctx, args)
	if err != nil {
		c.forget(query, err)
	}
	return res, err
}
