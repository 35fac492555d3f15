package payment

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/stripe/stripe-go/v82"
)

// StripeMetadataKey is the PaymentIntent metadata key that carries the
// idempotency key of the charge, so that Lookup can find it again.
const StripeMetadataKey = "showcase_key"

// StripeConfig configures a Stripe provider.
type StripeConfig struct {
	// SecretKey is the Stripe secret API key (sk_test_… or sk_live_…, or a
	// restricted rk_… key allowed to write PaymentIntents and Refunds and
	// to read PaymentIntents). Required.
	SecretKey string
	// APIBase is the API's base URL, scheme and host only (for example
	// http://127.0.0.1:12111 for stripe-mock). Empty means Stripe's real
	// API, https://api.stripe.com. A live key is only sent over https.
	APIBase string
	// HTTPClient makes the requests; nil means stripe-go's default client
	// (80 s timeout, though every call is bounded by its context).
	HTTPClient *http.Client
	// MaxNetworkRetries is how many times stripe-go itself retries a
	// request that failed on the network or with a 409/5xx answer, with the
	// same idempotency key. Zero (the default) leaves retries to the caller,
	// who retries with the same key or asks Lookup: stripe-go sleeps between
	// its retries without watching the context, so a call with retries can
	// outlive its deadline by up to a few seconds.
	MaxNetworkRetries int64
}

// Stripe takes payments through Stripe PaymentIntents
// (github.com/stripe/stripe-go/v82). A charge is one PaymentIntent created
// and confirmed in one request, captured automatically, sent with the
// charge's idempotency key as Stripe's Idempotency-Key header and recorded
// in its metadata under StripeMetadataKey. Tokens are PaymentMethod ids
// (pm_…; in test mode for example pm_card_visa, or pm_card_chargeDeclined
// for a decline). Stripe keeps idempotency keys for at least 24 hours: a
// retry after that would make a new PaymentIntent, so settle unknown
// outcomes with Lookup within a day.
//
// Stripe holds no global state (it does not use stripe.Key), so several
// can coexist. Every call is bounded by its context's deadline, or by
// DefaultTimeout when the context has none.
type Stripe struct {
	client *stripe.Client
}

var _ Provider = (*Stripe)(nil)

// NewStripe returns a Stripe provider for cfg. It fails when SecretKey is
// empty, when APIBase is not an absolute http(s) URL without path, query or
// fragment, or when a live key (sk_live_…, rk_live_…) would be sent over
// plain http. It makes no request.
func NewStripe(cfg StripeConfig) (*Stripe, error) {
	key := strings.TrimSpace(cfg.SecretKey)
	if key == "" {
		return nil, errors.New("stripe: a secret key is required")
	}
	if cfg.MaxNetworkRetries < 0 {
		return nil, errors.New("stripe: MaxNetworkRetries must not be negative")
	}
	backend := &stripe.BackendConfig{
		HTTPClient:        cfg.HTTPClient,
		MaxNetworkRetries: stripe.Int64(cfg.MaxNetworkRetries),
		// Errors are returned to the caller, who logs them; stripe-go's
		// default logger would print each one to stderr a second time.
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	if cfg.APIBase != "" {
		u, err := url.Parse(cfg.APIBase)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("stripe: API base %q must be an http(s) URL with scheme and host only", cfg.APIBase)
		}
		if u.Scheme == "http" && (strings.HasPrefix(key, "sk_live_") || strings.HasPrefix(key, "rk_live_")) {
			return nil, errors.New("stripe: a live key is only sent over https")
		}
		backend.URL = stripe.String(strings.TrimSuffix(cfg.APIBase, "/"))
	}
	client := stripe.NewClient(key, stripe.WithBackends(stripe.NewBackendsWithConfig(backend)))
	return &Stripe{client: client}, nil
}

// Name implements Provider: "stripe".
func (s *Stripe) Name() string { return "stripe" }

// Charge implements Provider. It creates and confirms a PaymentIntent for
// c.Amount minor units of c.CurrencyCode, paid with the PaymentMethod
// c.Token, and returns the PaymentIntent's id (pi_…) once it succeeded.
//
// Errors: ErrDeclined when Stripe refused the payment (a card error, any
// other 4xx answer, or a PaymentIntent left requires_payment_method or
// canceled; also for an invalid Charge that is never sent); ErrKeyMismatch
// when the key was used for different parameters; ErrUnavailable when
// Stripe rate-limited or rejected the request before running it (429, 401,
// 403) or no connection was ever made. Anything else (timeouts, broken
// connections, 5xx answers, a 409 for the key being in use by a concurrent
// request, a PaymentIntent left processing) leaves the outcome unknown:
// retry with the same key or ask Lookup.
func (s *Stripe) Charge(ctx context.Context, c Charge) (string, error) {
	if err := validateStripeCharge(c); err != nil {
		return "", fmt.Errorf("stripe: invalid charge: %v: %w", err, ErrDeclined)
	}
	ctx, cancel := callContext(ctx)
	defer cancel()
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("stripe: charge not sent: %w: %w", ErrUnavailable, err)
	}
	params := &stripe.PaymentIntentCreateParams{
		Amount:        stripe.Int64(c.Amount),
		Currency:      stripe.String(strings.ToLower(c.CurrencyCode)),
		PaymentMethod: stripe.String(c.Token),
		Confirm:       stripe.Bool(true),
		CaptureMethod: stripe.String(string(stripe.PaymentIntentCaptureMethodAutomatic)),
		// A server-side charge has no buyer at hand to complete 3-D Secure:
		// a card that needs it is declined instead of left requires_action.
		ErrorOnRequiresAction: stripe.Bool(true),
		PaymentMethodTypes:    []*string{stripe.String("card")},
		Metadata:              map[string]string{StripeMetadataKey: c.IdempotencyKey},
	}
	params.IdempotencyKey = stripe.String(c.IdempotencyKey)
	ctx, reached := traceConnection(ctx)
	pi, err := s.client.V1PaymentIntents.Create(ctx, params)
	if err != nil {
		return "", classifyStripeError("charge", err, reached.Load())
	}
	switch pi.Status {
	case stripe.PaymentIntentStatusSucceeded:
		if pi.ID == "" {
			return "", errors.New("stripe: charge: succeeded PaymentIntent without id: outcome unknown")
		}
		if pi.Amount != c.Amount || !strings.EqualFold(string(pi.Currency), c.CurrencyCode) {
			// Stripe answers a reused key with the first request's result.
			return "", fmt.Errorf("stripe: charge: PaymentIntent %s is for %d %s: %w",
				pi.ID, pi.Amount, strings.ToUpper(string(pi.Currency)), ErrKeyMismatch)
		}
		return pi.ID, nil
	case stripe.PaymentIntentStatusRequiresPaymentMethod, stripe.PaymentIntentStatusCanceled:
		return "", fmt.Errorf("stripe: charge: PaymentIntent %s is %s: %w", pi.ID, pi.Status, ErrDeclined)
	default:
		// processing, requires_action, requires_capture, requires_confirmation:
		// not captured yet, and it may still be.
		return "", fmt.Errorf("stripe: charge: PaymentIntent %s is %s: outcome unknown", pi.ID, pi.Status)
	}
}

// Refund implements Provider. It refunds amount minor units of the
// PaymentIntent ref (pi_…), sending idempotencyKey as Stripe's
// Idempotency-Key, so a repeated refund with the same key is applied once.
// Stripe's idempotency keys are account-wide, across endpoints: a refund's
// key must differ from every charge's key (reusing one is ErrKeyMismatch).
// Errors: ErrDeclined when Stripe refused the refund (4xx: for example more
// than the remaining captured amount, or an unknown PaymentIntent);
// ErrKeyMismatch and ErrUnavailable as for Charge; a refund Stripe reports
// failed or canceled is an error; anything else leaves the outcome unknown:
// retry with the same key.
func (s *Stripe) Refund(ctx context.Context, ref string, amount int64, idempotencyKey string) error {
	switch {
	case ref == "":
		return fmt.Errorf("stripe: invalid refund: no payment reference: %w", ErrDeclined)
	case amount <= 0:
		return fmt.Errorf("stripe: invalid refund: amount %d: %w", amount, ErrDeclined)
	case !validIdempotencyKey(idempotencyKey):
		return fmt.Errorf("stripe: invalid refund: idempotency key must have 1 to 255 characters without surrounding spaces: %w", ErrDeclined)
	}
	ctx, cancel := callContext(ctx)
	defer cancel()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stripe: refund not sent: %w: %w", ErrUnavailable, err)
	}
	params := &stripe.RefundCreateParams{
		PaymentIntent: stripe.String(ref),
		Amount:        stripe.Int64(amount),
		Metadata:      map[string]string{StripeMetadataKey: idempotencyKey},
	}
	params.IdempotencyKey = stripe.String(idempotencyKey)
	ctx, reached := traceConnection(ctx)
	r, err := s.client.V1Refunds.Create(ctx, params)
	if err != nil {
		return classifyStripeError("refund", err, reached.Load())
	}
	switch r.Status {
	case stripe.RefundStatusFailed, stripe.RefundStatusCanceled:
		return fmt.Errorf("stripe: refund %s of %s is %s", r.ID, ref, r.Status)
	}
	// succeeded, or pending / requires_action: accepted, Stripe completes it.
	return nil
}

// StripeRecentWindow is how far back Lookup lists PaymentIntents, newest
// first, when search finds none: listing is strongly consistent, and it
// covers the time during which search may not show a new PaymentIntent yet.
const StripeRecentWindow = 10 * time.Minute

// StripeRecentLimit caps how many recent PaymentIntents Lookup lists (ten
// pages of 100): an account that creates more within StripeRecentWindow
// gets StatusPending, never a StatusNone it could not verify.
const StripeRecentLimit = 1000

// Lookup implements Provider. It finds the PaymentIntent whose metadata
// StripeMetadataKey equals idempotencyKey and reports it: succeeded is
// StatusCaptured (Ref is the pi_… id, Amount in minor units, CurrencyCode
// upper case); processing, requires_action, requires_capture and
// requires_confirmation are StatusPending; requires_payment_method and
// canceled are StatusFailed; no PaymentIntent is StatusNone. When several
// match, a captured one wins over a pending one, and a pending one over a
// failed one.
//
// It asks Stripe's PaymentIntent search first. Search is eventually
// consistent: a new PaymentIntent is usually searchable within a minute,
// and during Stripe incidents up to an hour later. So when search finds
// nothing, Lookup also lists the PaymentIntents created in the last
// StripeRecentWindow (a strongly consistent read), and answers StatusNone
// only when none of them carries the key either; past StripeRecentLimit
// of them it answers StatusPending with no Ref. StatusNone is thus sound
// for a charge attempted within StripeRecentWindow, or one old enough for
// search to show it (about a minute, an hour at worst): treat StatusNone as
// final only for a charge whose last attempt is at least a minute old, and
// prefer longer when Stripe reports search delays. Search is not available
// to accounts in India. Errors: ErrUnavailable when a request was
// rate-limited or never sent; any other error means nothing is known.
func (s *Stripe) Lookup(ctx context.Context, idempotencyKey string) (Payment, error) {
	if idempotencyKey == "" {
		return Payment{}, errors.New("stripe: lookup: empty idempotency key")
	}
	ctx, cancel := callContext(ctx)
	defer cancel()
	if err := ctx.Err(); err != nil {
		return Payment{}, fmt.Errorf("stripe: lookup not sent: %w: %w", ErrUnavailable, err)
	}
	ctx, reached := traceConnection(ctx)
	best := Payment{Status: StatusNone}
	consider := func(pi *stripe.PaymentIntent) {
		if pi == nil || pi.Metadata[StripeMetadataKey] != idempotencyKey {
			return // the query says metadata equals the key; trust, but verify
		}
		if p := stripePayment(pi); statusRank(p.Status) > statusRank(best.Status) {
			best = p
		}
	}

	search := &stripe.PaymentIntentSearchParams{}
	search.Query = stripeSearchQuery(idempotencyKey)
	search.Limit = stripe.Int64(100)
	search.Single = true // one page: one key has one PaymentIntent, rarely a few
	for pi, err := range s.client.V1PaymentIntents.Search(ctx, search) {
		if err != nil {
			return Payment{}, classifyStripeError("lookup", err, reached.Load())
		}
		consider(pi)
	}
	if best.Status != StatusNone {
		return best, nil
	}

	list := &stripe.PaymentIntentListParams{
		CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: time.Now().Add(-StripeRecentWindow).Unix()},
	}
	list.Limit = stripe.Int64(100)
	n := 0
	for pi, err := range s.client.V1PaymentIntents.List(ctx, list) {
		if err != nil {
			return Payment{}, classifyStripeError("lookup", err, reached.Load())
		}
		consider(pi)
		if n++; n >= StripeRecentLimit && best.Status == StatusNone {
			return Payment{Status: StatusPending}, nil
		}
	}
	return best, nil
}

// stripePayment maps a PaymentIntent to what Lookup reports.
func stripePayment(pi *stripe.PaymentIntent) Payment {
	p := Payment{Ref: pi.ID, Amount: pi.Amount, CurrencyCode: strings.ToUpper(string(pi.Currency))}
	switch pi.Status {
	case stripe.PaymentIntentStatusSucceeded:
		p.Status = StatusCaptured
	case stripe.PaymentIntentStatusRequiresPaymentMethod, stripe.PaymentIntentStatusCanceled:
		p.Status = StatusFailed
	default:
		// processing, requires_action, requires_capture, requires_confirmation,
		// and any status a later API version adds: not settled.
		p.Status = StatusPending
	}
	return p
}

// statusRank orders statuses by which wins when several PaymentIntents carry
// one key.
func statusRank(s Status) int {
	switch s {
	case StatusCaptured:
		return 3
	case StatusPending:
		return 2
	case StatusFailed:
		return 1
	}
	return 0
}

// stripeSearchQuery is the search query for PaymentIntents whose metadata
// StripeMetadataKey is key, with key quoted for Stripe's search language
// (backslash escapes a quote and itself).
func stripeSearchQuery(key string) string {
	quoted := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(key)
	return fmt.Sprintf("metadata['%s']:'%s'", StripeMetadataKey, quoted)
}

// validateStripeCharge checks what Stripe would refuse anyway, before
// anything is sent.
func validateStripeCharge(c Charge) error {
	switch {
	case !validIdempotencyKey(c.IdempotencyKey):
		return errors.New("idempotency key must have 1 to 255 characters without surrounding spaces")
	case c.Token == "":
		return errors.New("no payment method token")
	case c.Amount <= 0:
		return fmt.Errorf("amount %d is not positive", c.Amount)
	case len(c.CurrencyCode) != 3:
		return fmt.Errorf("currency %q is not an ISO 4217 code", c.CurrencyCode)
	}
	return nil
}

// validIdempotencyKey reports whether Stripe accepts key as sent: stripe-go
// trims spaces from the header and refuses more than 255 characters, and
// the key must also fit a metadata value (500).
func validIdempotencyKey(key string) bool {
	return key != "" && len(key) <= 255 && strings.TrimSpace(key) == key
}

// traceConnection returns ctx with an HTTP trace that records whether any
// attempt of the request obtained a connection. Until one did, no byte of
// the request reached a server, so a failure means nothing was charged.
func traceConnection(ctx context.Context) (context.Context, *atomic.Bool) {
	reached := new(atomic.Bool)
	trace := &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { reached.Store(true) },
	}
	return httptrace.WithClientTrace(ctx, trace), reached
}

// classifyStripeError maps an error from stripe-go to the Provider's
// errors. op names the call in the message; reachedServer reports whether
// any attempt obtained a connection (see traceConnection). The result wraps
// err (errors.As finds the *stripe.Error) and, when the outcome is known,
// one of ErrDeclined, ErrKeyMismatch or ErrUnavailable. Its message leaves
// out Stripe's raw error body, which can carry a PaymentIntent's client
// secret.
func classifyStripeError(op string, err error, reachedServer bool) error {
	var se *stripe.Error
	if errors.As(err, &se) {
		desc := fmt.Sprintf("stripe: %s: HTTP %d %s", op, se.HTTPStatusCode, se.Type)
		if se.Code != "" {
			desc += " " + string(se.Code)
		}
		if se.DeclineCode != "" {
			desc += " (" + string(se.DeclineCode) + ")"
		}
		if se.RequestID != "" {
			desc += ", request " + se.RequestID
		}
		switch {
		case se.Code == stripe.ErrorCodeIdempotencyKeyInUse:
			// A concurrent request with the same key is running: it may charge.
			return &stripeFailure{msg: desc + ": outcome unknown", cause: err}
		case se.Type == stripe.ErrorTypeIdempotency:
			return &stripeFailure{msg: desc, kind: ErrKeyMismatch, cause: err}
		case se.Type == stripe.ErrorTypeCard:
			return &stripeFailure{msg: desc, kind: ErrDeclined, cause: err}
		case se.HTTPStatusCode == http.StatusTooManyRequests,
			se.HTTPStatusCode == http.StatusUnauthorized,
			se.HTTPStatusCode == http.StatusForbidden:
			// Rate limits, lock timeouts and bad keys are refused before
			// anything runs.
			return &stripeFailure{msg: desc, kind: ErrUnavailable, cause: err}
		case se.HTTPStatusCode == http.StatusConflict:
			return &stripeFailure{msg: desc + ": outcome unknown", cause: err}
		case se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500:
			// 400, 402, 404: the request failed for good and charged nothing.
			return &stripeFailure{msg: desc, kind: ErrDeclined, cause: err}
		default:
			// 5xx, or no status: Stripe may have acted.
			return &stripeFailure{msg: desc + ": outcome unknown", cause: err}
		}
	}
	var opErr *net.OpError
	if !reachedServer && errors.As(err, &opErr) && opErr.Op == "dial" {
		// Refused, unreachable, or the name did not resolve: never sent.
		return fmt.Errorf("stripe: %s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("stripe: %s: outcome unknown: %w", op, err)
}

// stripeFailure is an answer from Stripe that failed: its message is
// classifyStripeError's summary, and it unwraps to kind (a Provider
// sentinel, or nil when the outcome is unknown) and to the stripe-go error.
type stripeFailure struct {
	msg   string
	kind  error
	cause error
}

// Error returns the summary, with the sentinel's text when there is one.
func (e *stripeFailure) Error() string {
	if e.kind != nil {
		return e.msg + ": " + e.kind.Error()
	}
	return e.msg
}

// Unwrap returns the sentinel, if any, and the stripe-go error.
func (e *stripeFailure) Unwrap() []error {
	if e.kind == nil {
		return []error{e.cause}
	}
	return []error{e.kind, e.cause}
}
