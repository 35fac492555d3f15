package payment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Test tokens understood by TestProvider.
const (
	TokenOK       = "tok_ok"
	TokenDeclined = "tok_declined"
	TokenError    = "tok_error"
)

// TestProvider accepts tok_ok, declines tok_declined and fails transiently on
// tok_error, like a real provider's test mode. It keeps its charges and
// refunds in PostgreSQL (the test_provider_* tables), so every replica of
// the server sees the same provider, as it would an external one: a key is
// charged at most once across processes and restarts, and references are
// unique (pay_test_N from a sequence).
type TestProvider struct {
	db *sql.DB
}

var _ Provider = (*TestProvider)(nil)

// NewTestProvider returns the test provider whose state lives in db, a
// migrated Showcase database.
func NewTestProvider(db *sql.DB) *TestProvider {
	return &TestProvider{db: db}
}

// Name implements Provider.
func (p *TestProvider) Name() string { return "test" }

// Charge implements Provider. A key charged before answers with the same
// reference (ErrKeyMismatch if the amount or currency differ).
func (p *TestProvider) Charge(ctx context.Context, c Charge) (string, error) {
	ctx, cancel := callContext(ctx)
	defer cancel()
	switch c.Token {
	case TokenDeclined:
		return "", ErrDeclined
	case TokenError:
		return "", ErrUnavailable
	case TokenOK:
	default:
		return "", ErrDeclined
	}
	var ref string
	var amount int64
	var currency string
	// DO UPDATE (a no-op) rather than DO NOTHING: it returns the row a
	// concurrent or earlier charge with the same key wrote.
	err := p.db.QueryRowContext(ctx, `INSERT INTO test_provider_charges (idempotency_key, amount, currency_code) VALUES ($1, $2, $3)
		ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
		RETURNING ref, amount, currency_code`, c.IdempotencyKey, c.Amount, strings.ToUpper(c.CurrencyCode)).Scan(&ref, &amount, &currency)
	if err != nil {
		return "", fmt.Errorf("test provider charge: %w", err)
	}
	if amount != c.Amount || currency != strings.ToUpper(c.CurrencyCode) {
		return "", ErrKeyMismatch
	}
	return ref, nil
}

// Refund implements Provider. It refuses a reference it never issued and a
// total refunded above the amount charged.
func (p *TestProvider) Refund(ctx context.Context, ref string, amount int64, idempotencyKey string) error {
	ctx, cancel := callContext(ctx)
	defer cancel()
	var refunded bool
	err := p.db.QueryRowContext(ctx, `WITH charge AS (
			SELECT c.ref FROM test_provider_charges c
			WHERE c.ref = $1 AND c.amount >= $2 + coalesce((SELECT sum(amount) FROM test_provider_refunds r WHERE r.ref = c.ref), 0)
		), new AS (
			INSERT INTO test_provider_refunds (idempotency_key, ref, amount) SELECT $3, ref, $2 FROM charge
			ON CONFLICT (idempotency_key) DO NOTHING RETURNING 1
		)
		SELECT EXISTS (SELECT 1 FROM new) OR EXISTS (SELECT 1 FROM test_provider_refunds WHERE idempotency_key = $3 AND ref = $1)`,
		ref, amount, idempotencyKey).Scan(&refunded)
	if err != nil {
		return fmt.Errorf("test provider refund: %w", err)
	}
	if !refunded {
		return fmt.Errorf("test provider refund: unknown payment %q or more than was charged", ref)
	}
	return nil
}

// Lookup implements Provider.
func (p *TestProvider) Lookup(ctx context.Context, key string) (Payment, error) {
	ctx, cancel := callContext(ctx)
	defer cancel()
	var out Payment
	err := p.db.QueryRowContext(ctx, `SELECT ref, amount, currency_code FROM test_provider_charges WHERE idempotency_key = $1`, key).
		Scan(&out.Ref, &out.Amount, &out.CurrencyCode)
	if errors.Is(err, sql.ErrNoRows) {
		return Payment{Status: StatusNone}, nil
	}
	if err != nil {
		return Payment{}, fmt.Errorf("test provider lookup: %w", err)
	}
	out.Status = StatusCaptured
	return out, nil
}

// Charges returns how many distinct payments were captured.
func (p *TestProvider) Charges(ctx context.Context) (int, error) {
	var n int
	err := p.db.QueryRowContext(ctx, `SELECT count(*) FROM test_provider_charges`).Scan(&n)
	return n, err
}

// Refunds returns how many distinct refunds were made.
func (p *TestProvider) Refunds(ctx context.Context) (int, error) {
	var n int
	err := p.db.QueryRowContext(ctx, `SELECT count(*) FROM test_provider_refunds`).Scan(&n)
	return n, err
}
