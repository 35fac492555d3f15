// Package payment charges buyers through a payment provider. Checkout talks
// to the small Provider interface; the PostgreSQL-backed test provider serves
// development and tests, and the Stripe provider takes real payments.
package payment

import (
	"context"
	"errors"
	"time"
)

var (
	// ErrDeclined means the provider refused the payment for good: nothing
	// was charged, and retrying the same payment will not work.
	ErrDeclined = errors.New("payment declined")
	// ErrUnavailable means the provider failed transiently before charging:
	// nothing was charged, and retrying with the same idempotency key may
	// work. Any other error from Charge (a timeout, a broken connection, a
	// 5xx answer) leaves the outcome unknown: ask Lookup, or retry with the
	// same key.
	ErrUnavailable = errors.New("payment provider unavailable")
	// ErrKeyMismatch means the idempotency key was used before for a
	// different amount or currency; nothing was charged.
	ErrKeyMismatch = errors.New("idempotency key used for a different payment")
)

// DefaultTimeout bounds one provider call when the caller sets no deadline
// of its own.
const DefaultTimeout = 10 * time.Second

// Charge asks for money. IdempotencyKey makes retries of one charge safe:
// the provider charges at most once per key, and a retry with the same key
// answers with the same payment.
type Charge struct {
	IdempotencyKey string
	// Token is the payment method the buyer's client obtained from the
	// provider (for the test provider: tok_ok, tok_declined, tok_error).
	Token string
	// Amount is in minor units of CurrencyCode (ISO 4217, upper case).
	Amount       int64
	CurrencyCode string
}

// Status is what became of a charge, as the provider knows it.
type Status string

// The statuses Lookup reports.
const (
	// StatusNone: the provider has no payment with that key (never reached
	// it, or was refused before anything was created).
	StatusNone Status = "NONE"
	// StatusCaptured: the money was taken; Ref names the payment.
	StatusCaptured Status = "CAPTURED"
	// StatusFailed: a payment was attempted and declined or cancelled;
	// nothing was charged.
	StatusFailed Status = "FAILED"
	// StatusPending: the provider is still processing it; ask again later.
	StatusPending Status = "PENDING"
)

// Payment is the provider's record of a charge.
type Payment struct {
	Status Status
	// Ref is the provider's reference of the payment (empty for StatusNone).
	Ref string
	// Amount is in minor units of CurrencyCode.
	Amount       int64
	CurrencyCode string
}

// Provider charges, refunds, and answers what became of a charge.
// Implementations bound every call by the context's deadline.
type Provider interface {
	// Name identifies the provider in payment records ("test", "stripe").
	Name() string
	// Charge captures c.Amount and returns the provider's reference of the
	// payment. It returns ErrDeclined, ErrUnavailable or ErrKeyMismatch as
	// documented on them; any other error leaves the outcome unknown.
	Charge(ctx context.Context, c Charge) (ref string, err error)
	// Refund returns amount (minor units) of the captured payment ref, at
	// most once per idempotencyKey.
	Refund(ctx context.Context, ref string, amount int64, idempotencyKey string) error
	// Lookup reports what became of the charge made with idempotencyKey.
	Lookup(ctx context.Context, idempotencyKey string) (Payment, error)
}

// callContext bounds a provider call by ctx's deadline, or DefaultTimeout
// when ctx has none.
func callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, DefaultTimeout)
}
