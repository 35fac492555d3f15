package payment

import (
	"context"
	"fmt"
	"sync"
)

// Test tokens understood by TestProvider.
const (
	TokenOK       = "tok_ok"
	TokenDeclined = "tok_declined"
	TokenError    = "tok_error"
)

// TestProvider accepts tok_ok, declines tok_declined and fails transiently on
// tok_error, like a real provider's test mode. It remembers keys, so a
// repeated charge or refund is not applied twice.
type TestProvider struct {
	mu      sync.Mutex
	charges map[string]string // idempotency key -> reference
	refunds map[string]int64  // idempotency key -> amount
	amounts map[string]int64  // reference -> amount captured
}

var _ Provider = (*TestProvider)(nil)

// NewTestProvider returns an empty test provider.
func NewTestProvider() *TestProvider {
	return &TestProvider{charges: map[string]string{}, refunds: map[string]int64{}, amounts: map[string]int64{}}
}

// Charge implements Provider.
func (p *TestProvider) Charge(ctx context.Context, c Charge) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	switch c.Token {
	case TokenDeclined:
		return "", ErrDeclined
	case TokenError:
		return "", ErrUnavailable
	case TokenOK:
	default:
		return "", ErrDeclined
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if ref, ok := p.charges[c.IdempotencyKey]; ok {
		return ref, nil
	}
	ref := fmt.Sprintf("pay_test_%d", len(p.charges)+1)
	p.charges[c.IdempotencyKey] = ref
	p.amounts[ref] = c.Amount
	return ref, nil
}

// Name implements Provider.
func (p *TestProvider) Name() string { return "test" }

// Lookup implements Provider.
func (p *TestProvider) Lookup(ctx context.Context, key string) (Payment, error) {
	if err := ctx.Err(); err != nil {
		return Payment{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	ref, ok := p.charges[key]
	if !ok {
		return Payment{Status: StatusNone}, nil
	}
	return Payment{Status: StatusCaptured, Ref: ref, Amount: p.amounts[ref]}, nil
}

// Refund implements Provider.
func (p *TestProvider) Refund(ctx context.Context, ref string, amount int64, idempotencyKey string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.refunds[idempotencyKey]; ok {
		return nil
	}
	if _, ok := p.amounts[ref]; !ok {
		return fmt.Errorf("unknown payment %q", ref)
	}
	p.refunds[idempotencyKey] = amount
	return nil
}

// Charges returns how many distinct payments were captured.
func (p *TestProvider) Charges() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.charges)
}

// Refunds returns how many distinct refunds were made.
func (p *TestProvider) Refunds() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.refunds)
}
