package graph

import (
	"context"
	"fmt"
	"testing"

	"github.com/lib/pq"
)

// TestTransientFailuresSayRetry: a serialization failure or deadlock that
// outlived the money path's retries, a database that is gone, and a
// deadline are answered with SERVICE_UNAVAILABLE and retryable: true, never
// INTERNAL, and without the database's message.
func TestTransientFailuresSayRetry(t *testing.T) {
	for name, err := range map[string]error{
		"serialization": fmt.Errorf("cancel order: %w", &pq.Error{Code: "40001", Message: "could not serialize access"}),
		"deadlock":      fmt.Errorf("checkout: %w", &pq.Error{Code: "40P01", Message: "deadlock detected"}),
		"shutdown":      &pq.Error{Code: "57P01", Message: "terminating connection due to administrator command"},
		"deadline":      fmt.Errorf("read: %w", context.DeadlineExceeded),
	} {
		got := presentError(context.Background(), err)
		if got.Extensions["code"] != codeUnavailable || got.Extensions["retryable"] != true || got.Message != "the service could not complete this now; retry shortly" {
			t.Errorf("%s: %+v", name, got)
		}
	}
	if got := presentError(context.Background(), fmt.Errorf("a bug")); got.Extensions["code"] != codeInternal || got.Extensions["retryable"] != nil {
		t.Errorf("a bug: %+v", got)
	}
}
