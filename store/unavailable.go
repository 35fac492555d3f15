package store

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/lib/pq"
)

// Session defaults every connection gets unless the DSN sets them.
const (
	DefaultStatementTimeout = 15 * time.Second
	defaultConnectTimeout   = 5 // seconds
)

// withSessionDefaults adds a statement timeout and a connect timeout to a
// DSN that does not set them (lib/pq passes unknown settings to the server).
func withSessionDefaults(dsn string, statementTimeout time.Duration) string {
	settings := map[string]string{
		"statement_timeout": fmt.Sprint(statementTimeout.Milliseconds()),
		"connect_timeout":   fmt.Sprint(defaultConnectTimeout),
	}
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		for k, v := range settings {
			if q.Get(k) == "" {
				q.Set(k, v)
			}
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for k, v := range settings {
		if !strings.Contains(dsn, k+"=") {
			dsn += " " + k + "=" + v
		}
	}
	return dsn
}

// IsUnavailable reports whether err means the database cannot be reached
// (down, restarting, refusing connections) rather than a bug or bad input.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code {
		case "57P01", "57P02", "57P03", "53300": // shutdown, crash, cannot connect now, too many connections
			return true
		}
		return strings.HasPrefix(string(pqErr.Code), "08") // connection exceptions
	}
	var netErr net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.As(err, &netErr) || strings.Contains(err.Error(), "connection refused")
}

// IsDataException reports whether PostgreSQL refused a value itself (SQL
// state class 22: a NUL character in text, invalid text for a number or
// time, a value out of range). Such values come from a request's input.
func IsDataException(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && strings.HasPrefix(string(pqErr.Code), "22")
}
