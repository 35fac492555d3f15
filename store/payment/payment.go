// Package payment charges buyers through a payment provider. Checkout talks
// to the small Provider interface; TestProvider is the built-in provider for
// development and tests.
package payment

import (
	"context"
	"errors"
)

var (
	// ErrDeclined means the provider refused the payment for good.
	ErrDeclined = errors.New("payment declined")
	// ErrUnavailable means the provider failed transiently; retrying may work.
	ErrUnavailable = errors.New("payment provider unavailable")
)

// Charge asks for money. IdempotencyKey makes retries of one charge safe:
// the provider charges at most once per key.
type Charge struct {
	IdempotencyKey string
	Token          string
	Amount         int64
	CurrencyCode   string
}

// Provider charges and refunds.
type Provider interface {
	// Charge returns the provider's reference of the captured payment.
	Charge(ctx context.Context, c Charge) (ref string, err error)
	// Refund returns amount of a captured payment, at most once per key.
	Refund(ctx context.Context, ref string, amount int64, idempotencyKey string) error
}
