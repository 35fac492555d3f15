package main

import (
	"fmt"

	"showcase/store"
	"showcase/store/payment"
)

// newPaymentProvider returns the configured payment provider: the built-in
// test provider, whose state lives in the database, or Stripe.
func newPaymentProvider(cfg paymentConfig, db *store.DB) (payment.Provider, error) {
	switch cfg.Provider {
	case "test":
		return payment.NewTestProvider(db.DB.DB), nil
	case "stripe":
		return payment.NewStripe(payment.StripeConfig{SecretKey: cfg.StripeSecretKey, APIBase: cfg.StripeAPIBase})
	default:
		return nil, fmt.Errorf("unknown payment provider %q", cfg.Provider)
	}
}
