package payment

// Internals under test in package payment_test.
var (
	ClassifyStripeError = classifyStripeError
	StripeCallContext   = callContext
)
