package store

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/lib/pq"
)

func TestRetryableErrors(t *testing.T) {
	for err, want := range map[error]bool{
		&pq.Error{Code: "40001"}:                     true, // serialization failure
		&pq.Error{Code: "40P01"}:                     true, // deadlock
		&pq.Error{Code: "57P01"}:                     true, // admin shutdown (pg_terminate_backend)
		fmt.Errorf("wrapped: %w", driver.ErrBadConn): true,
		fmt.Errorf("dial: %w", syscall.ECONNREFUSED): true,
		&pq.Error{Code: "23505"}:                     false, // unique violation
		&pq.Error{Code: "23514"}:                     false, // check violation (stock below zero)
		errors.New("bug"):                            false,
		Errorf(EInvalid, "bad input"):                false,
	} {
		if got := retryable(err); got != want {
			t.Errorf("retryable(%v) = %v, want %v", err, got, want)
		}
	}
}
