package payment_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82"

	"showcase/store/payment"
	"showcase/store/payment/stripemock"
)

// sentRequest is one request the provider sent, as it went on the wire.
type sentRequest struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Form   url.Values
}

// recorder is an http.RoundTripper that records each request and passes it
// on to http.DefaultTransport.
type recorder struct {
	mu   sync.Mutex
	reqs []sentRequest
}

// RoundTrip implements http.RoundTripper.
func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		out.Body = io.NopCloser(bytes.NewReader(body))
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("request body is not a form: %v", err)
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, sentRequest{
		Method: req.Method, Path: req.URL.Path, Query: req.URL.Query(), Header: req.Header.Clone(), Form: form,
	})
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(out)
}

// last returns the last request sent; it fails t when there was none.
func (r *recorder) last(t *testing.T) sentRequest {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		t.Fatal("no request was sent")
	}
	return r.reqs[len(r.reqs)-1]
}

// all returns the requests sent, in order.
func (r *recorder) all() []sentRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sentRequest(nil), r.reqs...)
}

// count returns how many requests were sent.
func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

// newStripe returns a Stripe provider talking to base through a recorder.
func newStripe(t *testing.T, base string) (*payment.Stripe, *recorder) {
	t.Helper()
	rec := &recorder{}
	p, err := payment.NewStripe(payment.StripeConfig{
		SecretKey:  stripemock.SecretKey,
		APIBase:    base,
		HTTPClient: &http.Client{Transport: rec},
	})
	if err != nil {
		t.Fatalf("NewStripe: %v", err)
	}
	return p, rec
}

// testContext is bounded so that a hang fails the test instead of blocking.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wantForm fails t unless form carries each of want's fields with its value.
func wantForm(t *testing.T, form url.Values, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := form.Get(k); got != v {
			t.Errorf("request field %s = %q, want %q (form %v)", k, got, v, form)
		}
	}
}

// outcome names what an error from the provider says about the payment.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, payment.ErrDeclined):
		return "declined"
	case errors.Is(err, payment.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, payment.ErrKeyMismatch):
		return "key mismatch"
	}
	return "unknown"
}

var visa = payment.Charge{IdempotencyKey: "chk_7f3a/attempt-1", Token: "pm_card_visa", Amount: 1299, CurrencyCode: "EUR"}

// TestStripeAgainstStripeMock drives the provider against the real
// stripe-mock, which validates every request against Stripe's OpenAPI spec
// (unknown or malformed parameters are refused with 400) and answers with
// fixtures reflecting the request's parameters.
func TestStripeAgainstStripeMock(t *testing.T) {
	t.Parallel()
	base := stripemock.Start(t)

	t.Run("Charge", func(t *testing.T) {
		p, rec := newStripe(t, base)
		ref, err := p.Charge(testContext(t), visa)
		if err != nil {
			t.Fatalf("Charge: %v", err)
		}
		if !strings.HasPrefix(ref, "pi_") {
			t.Errorf("ref = %q, want a PaymentIntent id", ref)
		}
		req := rec.last(t)
		if req.Method != http.MethodPost || req.Path != "/v1/payment_intents" {
			t.Errorf("request %s %s, want POST /v1/payment_intents", req.Method, req.Path)
		}
		if got := req.Header.Get("Idempotency-Key"); got != visa.IdempotencyKey {
			t.Errorf("Idempotency-Key = %q, want %q", got, visa.IdempotencyKey)
		}
		if got := req.Header.Get("Authorization"); got != "Bearer "+stripemock.SecretKey {
			t.Errorf("Authorization = %q", got)
		}
		wantForm(t, req.Form, map[string]string{
			"amount":                   "1299",
			"currency":                 "eur",
			"payment_method":           "pm_card_visa",
			"confirm":                  "true",
			"capture_method":           "automatic",
			"error_on_requires_action": "true",
			"payment_method_types[0]":  "card",
			"metadata[showcase_key]":   visa.IdempotencyKey,
		})
		if len(req.Form) != 8 {
			t.Errorf("request has %d fields, want 8: %v", len(req.Form), req.Form)
		}
	})

	t.Run("Replay", func(t *testing.T) {
		// stripe-mock keeps no idempotency state (each answer has a new
		// id); this shows that a replay sends the same key and the same
		// parameters, which is what makes Stripe answer it with the first
		// payment, and that the answer is taken as success.
		p, rec := newStripe(t, base)
		var forms []url.Values
		for range 2 {
			if _, err := p.Charge(testContext(t), visa); err != nil {
				t.Fatalf("Charge: %v", err)
			}
			req := rec.last(t)
			if got := req.Header.Get("Idempotency-Key"); got != visa.IdempotencyKey {
				t.Errorf("Idempotency-Key = %q, want %q", got, visa.IdempotencyKey)
			}
			forms = append(forms, req.Form)
		}
		if forms[0].Encode() != forms[1].Encode() {
			t.Errorf("replay sent other parameters:\n%v\n%v", forms[0], forms[1])
		}
	})

	t.Run("Refund", func(t *testing.T) {
		p, rec := newStripe(t, base)
		ref, err := p.Charge(testContext(t), visa)
		if err != nil {
			t.Fatalf("Charge: %v", err)
		}
		if err := p.Refund(testContext(t), ref, 500, "refund/order-1"); err != nil {
			t.Fatalf("Refund: %v", err)
		}
		req := rec.last(t)
		if req.Method != http.MethodPost || req.Path != "/v1/refunds" {
			t.Errorf("request %s %s, want POST /v1/refunds", req.Method, req.Path)
		}
		if got := req.Header.Get("Idempotency-Key"); got != "refund/order-1" {
			t.Errorf("Idempotency-Key = %q, want refund/order-1", got)
		}
		wantForm(t, req.Form, map[string]string{"payment_intent": ref, "amount": "500"})
	})

	t.Run("Lookup", func(t *testing.T) {
		p, rec := newStripe(t, base)
		got, err := p.Lookup(testContext(t), stripemock.SearchKey)
		if err != nil {
			t.Fatalf("Lookup: %v", err)
		}
		if got.Status != payment.StatusCaptured || !strings.HasPrefix(got.Ref, "pi_") || got.Amount <= 0 || got.CurrencyCode != "USD" {
			t.Errorf("Lookup = %+v, want CAPTURED with a pi_ ref, an amount and USD", got)
		}
		req := rec.last(t)
		if req.Method != http.MethodGet || req.Path != "/v1/payment_intents/search" {
			t.Errorf("request %s %s, want GET /v1/payment_intents/search", req.Method, req.Path)
		}
		if q := req.Query.Get("query"); q != "metadata['showcase_key']:'"+stripemock.SearchKey+"'" {
			t.Errorf("query = %q", q)
		}
	})

	t.Run("LookupOtherKeyIsNone", func(t *testing.T) {
		// stripe-mock answers every search with its fixture; the provider
		// only takes a PaymentIntent whose metadata carries the key.
		// Search finding nothing, it lists the recent PaymentIntents
		// (stripe-mock checks the created[gte] filter against the spec).
		p, rec := newStripe(t, base)
		got, err := p.Lookup(testContext(t), "another-key")
		if err != nil {
			t.Fatalf("Lookup: %v", err)
		}
		if got.Status != payment.StatusNone {
			t.Errorf("Lookup = %+v, want NONE", got)
		}
		req := rec.last(t)
		if req.Method != http.MethodGet || req.Path != "/v1/payment_intents" || req.Query.Get("created[gte]") == "" {
			t.Errorf("last request %s %s?%s, want a list of recent PaymentIntents", req.Method, req.Path, req.Query.Encode())
		}
	})
}

// TestStripeAgainstStripeMockStatuses maps the PaymentIntent statuses
// Stripe answers with (stripe-mock started with each as its fixture): a
// PaymentIntent left requires_payment_method is a decline.
func TestStripeAgainstStripeMockStatuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status       string
		charge       string
		lookupStatus payment.Status
	}{
		// The other statuses are covered against a fake in
		// TestStripeChargeAnswers and TestStripeLookupAnswers: each status
		// here costs a stripe-mock process.
		{"requires_payment_method", "declined", payment.StatusFailed},
	} {
		t.Run(tc.status, func(t *testing.T) {
			t.Parallel()
			base := stripemock.StartWith(t, stripemock.Options{PaymentIntentStatus: tc.status})
			p, _ := newStripe(t, base)
			ref, err := p.Charge(testContext(t), visa)
			if got := outcome(err); got != tc.charge || ref != "" {
				t.Errorf("Charge = %q, %v (%s), want %s and no ref", ref, err, got, tc.charge)
			}
			got, err := p.Lookup(testContext(t), stripemock.SearchKey)
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			if got.Status != tc.lookupStatus {
				t.Errorf("Lookup = %+v, want %s", got, tc.lookupStatus)
			}
		})
	}
}

// stripeError builds the error stripe-go returns for an answer from Stripe.
func stripeError(status int, typ stripe.ErrorType, code stripe.ErrorCode) *stripe.Error {
	return &stripe.Error{HTTPStatusCode: status, Type: typ, Code: code, Msg: "test"}
}

// TestStripeErrorMapping maps stripe-go's real error values to the
// Provider's outcomes.
func TestStripeErrorMapping(t *testing.T) {
	dial := &url.Error{Op: "Post", URL: "https://api.stripe.com/v1/payment_intents",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}}
	read := &url.Error{Op: "Post", URL: "https://api.stripe.com/v1/payment_intents",
		Err: &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}}
	for _, tc := range []struct {
		name    string
		err     error
		reached bool
		want    string
	}{
		{"CardDeclined", stripeError(402, stripe.ErrorTypeCard, stripe.ErrorCodeCardDeclined), true, "declined"},
		{"CardErrorAnyStatus", stripeError(400, stripe.ErrorTypeCard, stripe.ErrorCodeExpiredCard), true, "declined"},
		{"PaymentFailed402", stripeError(402, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodePaymentIntentPaymentAttemptFailed), true, "declined"},
		{"NoSuchPaymentMethod", stripeError(400, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeResourceMissing), true, "declined"},
		{"NotFound", stripeError(404, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeResourceMissing), true, "declined"},
		{"IdempotencyError", stripeError(400, stripe.ErrorTypeIdempotency, ""), true, "key mismatch"},
		{"KeyInUseByConcurrentRequest", stripeError(409, stripe.ErrorTypeIdempotency, stripe.ErrorCodeIdempotencyKeyInUse), true, "unknown"},
		{"Conflict", stripeError(409, stripe.ErrorTypeInvalidRequest, ""), true, "unknown"},
		{"RateLimited", stripeError(429, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeRateLimit), true, "unavailable"},
		{"LockTimeout", stripeError(429, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeLockTimeout), true, "unavailable"},
		{"BadKey", stripeError(401, stripe.ErrorTypeInvalidRequest, ""), true, "unavailable"},
		{"Forbidden", stripeError(403, stripe.ErrorTypeInvalidRequest, ""), true, "unavailable"},
		{"ServerError", stripeError(500, stripe.ErrorTypeAPI, ""), true, "unknown"},
		{"BadGateway", stripeError(502, stripe.ErrorTypeAPI, ""), true, "unknown"},
		{"WrappedCardError", fmt.Errorf("layer: %w", stripeError(402, stripe.ErrorTypeCard, "")), true, "declined"},
		{"DialFailedNothingSent", dial, false, "unavailable"},
		{"DialFailedOnRetryAfterAnAttemptWasSent", dial, true, "unknown"},
		{"ConnectionReset", read, true, "unknown"},
		{"DeadlineExceeded", &url.Error{Op: "Post", URL: "x", Err: context.DeadlineExceeded}, true, "unknown"},
		{"UnexpectedEOF", &url.Error{Op: "Post", URL: "x", Err: io.ErrUnexpectedEOF}, true, "unknown"},
		{"UndecodableBody", errors.New("Couldn't deserialize JSON (response status: 502)"), true, "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := payment.ClassifyStripeError("charge", tc.err, tc.reached)
			if err == nil {
				t.Fatal("nil error")
			}
			if got := outcome(err); got != tc.want {
				t.Errorf("outcome of %v = %s, want %s (error %q)", tc.err, got, tc.want, err)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("%q does not wrap the stripe-go error", err)
			}
		})
	}
}

// fakeStripe answers every request with status and body, like Stripe would,
// and counts requests.
func fakeStripe(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) (string, func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		handle(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// answer writes a JSON body with status and a Request-Id, as Stripe does.
func answer(status int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Request-Id", "req_fake")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

const secretInBody = "pi_fake_secret_MUSTNOTLEAK"

// TestStripeChargeAnswers runs Charge end to end through stripe-go against a
// server answering the way Stripe does for each case.
func TestStripeChargeAnswers(t *testing.T) {
	t.Parallel()
	pi := func(status string, amount int, currency string) string {
		return fmt.Sprintf(`{"id":"pi_fake","object":"payment_intent","status":%q,"amount":%d,"currency":%q,"client_secret":%q}`,
			status, amount, currency, secretInBody)
	}
	for _, tc := range []struct {
		name   string
		handle func(http.ResponseWriter, *http.Request)
		want   string
		ref    string
	}{
		{"Succeeded", answer(200, pi("succeeded", 1299, "eur")), "ok", "pi_fake"},
		{"CardDeclined", answer(402, `{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds",`+
			`"message":"Your card has insufficient funds.","payment_intent":`+pi("requires_payment_method", 1299, "eur")+`}}`), "declined", ""},
		{"AuthenticationRequired", answer(402, `{"error":{"type":"card_error","code":"authentication_required",`+
			`"message":"This card requires authentication.","payment_intent":`+pi("requires_payment_method", 1299, "eur")+`}}`), "declined", ""},
		{"IdempotencyError", answer(400, `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}}`), "key mismatch", ""},
		{"ReplayForOtherAmount", answer(200, pi("succeeded", 999, "eur")), "key mismatch", ""},
		{"KeyInUse", answer(409, `{"error":{"type":"idempotency_error","code":"idempotency_key_in_use","message":"There is currently another in-progress request using this Idempotent Key."}}`), "unknown", ""},
		{"RateLimited", answer(429, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests"}}`), "unavailable", ""},
		{"InvalidKey", answer(401, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_***"}}`), "unavailable", ""},
		{"ServerError", answer(500, `{"error":{"type":"api_error","message":"Something went wrong on Stripe's end."}}`), "unknown", ""},
		{"GatewayHTML", answer(502, `<html>Bad Gateway</html>`), "unknown", ""},
		{"Processing", answer(200, pi("processing", 1299, "eur")), "unknown", ""},
		{"Canceled", answer(200, pi("canceled", 1299, "eur")), "declined", ""},
		{"HungUpAfterRequest", func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}, "unknown", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base, requests := fakeStripe(t, tc.handle)
			p, _ := newStripe(t, base)
			ref, err := p.Charge(testContext(t), visa)
			if got := outcome(err); got != tc.want || ref != tc.ref {
				t.Errorf("Charge = %q, %v (%s), want %q, %s", ref, err, got, tc.ref, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), secretInBody) {
				t.Errorf("error message carries the PaymentIntent's client secret: %v", err)
			}
			if n := requests(); n != 1 {
				t.Errorf("%d requests, want 1 (retries are the caller's)", n)
			}
		})
	}
}

// TestStripeChargeTimeoutAndRefusal covers failures without an answer.
func TestStripeChargeTimeoutAndRefusal(t *testing.T) {
	t.Parallel()
	t.Run("DeadlineWhileStripeWorks", func(t *testing.T) {
		t.Parallel()
		base, _ := fakeStripe(t, func(w http.ResponseWriter, r *http.Request) {
			// Read the body, so that the server notices when the client
			// hangs up, then work until it does.
			io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
		})
		p, _ := newStripe(t, base)
		ctx, cancel := context.WithTimeout(testContext(t), 100*time.Millisecond)
		defer cancel()
		_, err := p.Charge(ctx, visa)
		if got := outcome(err); got != "unknown" {
			t.Errorf("Charge: %v (%s), want unknown", err, got)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Charge: %v, want the deadline in the chain", err)
		}
	})
	t.Run("ConnectionRefused", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		p, rec := newStripe(t, "http://"+addr)
		_, err = p.Charge(testContext(t), visa)
		if got := outcome(err); got != "unavailable" {
			t.Errorf("Charge: %v (%s), want unavailable", err, got)
		}
		if rec.count() != 1 {
			t.Errorf("%d attempts, want 1", rec.count())
		}
	})
	t.Run("ContextAlreadyDone", func(t *testing.T) {
		t.Parallel()
		p, rec := newStripe(t, "http://127.0.0.1:1")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := p.Charge(ctx, visa)
		if got := outcome(err); got != "unavailable" || rec.count() != 0 {
			t.Errorf("Charge: %v (%s) after %d requests, want unavailable and none sent", err, got, rec.count())
		}
	})
	t.Run("InvalidCharge", func(t *testing.T) {
		t.Parallel()
		p, rec := newStripe(t, "http://127.0.0.1:1")
		for _, c := range []payment.Charge{
			{IdempotencyKey: "", Token: "pm_card_visa", Amount: 100, CurrencyCode: "EUR"},
			{IdempotencyKey: " k", Token: "pm_card_visa", Amount: 100, CurrencyCode: "EUR"},
			{IdempotencyKey: strings.Repeat("k", 256), Token: "pm_card_visa", Amount: 100, CurrencyCode: "EUR"},
			{IdempotencyKey: "k", Token: "", Amount: 100, CurrencyCode: "EUR"},
			{IdempotencyKey: "k", Token: "pm_card_visa", Amount: 0, CurrencyCode: "EUR"},
			{IdempotencyKey: "k", Token: "pm_card_visa", Amount: 100, CurrencyCode: "EURO"},
		} {
			if _, err := p.Charge(testContext(t), c); outcome(err) != "declined" {
				t.Errorf("Charge(%+v): %v, want declined", c, err)
			}
		}
		if rec.count() != 0 {
			t.Errorf("%d requests sent for invalid charges", rec.count())
		}
	})
}

// TestStripeDefaultTimeout: a call without a deadline gets DefaultTimeout,
// and a caller's own deadline is kept.
func TestStripeDefaultTimeout(t *testing.T) {
	start := time.Now()
	ctx, cancel := payment.StripeCallContext(context.Background())
	defer cancel()
	deadline, ok := ctx.Deadline()
	if !ok || deadline.Before(start.Add(payment.DefaultTimeout)) || deadline.After(time.Now().Add(payment.DefaultTimeout)) {
		t.Errorf("deadline %v (set %v), want DefaultTimeout from now", deadline, ok)
	}
	own, cancelOwn := context.WithTimeout(context.Background(), time.Hour)
	defer cancelOwn()
	want, _ := own.Deadline()
	ctx, cancel = payment.StripeCallContext(own)
	defer cancel()
	if got, _ := ctx.Deadline(); !got.Equal(want) {
		t.Errorf("deadline %v, want the caller's %v", got, want)
	}
}

// TestStripeLookupAnswers maps search and list answers to Lookup's
// statuses.
func TestStripeLookupAnswers(t *testing.T) {
	t.Parallel()
	const key = "chk_1/it's \\ odd"
	pi := func(id, status, key string) string {
		return fmt.Sprintf(`{"id":%q,"object":"payment_intent","status":%q,"amount":1299,"currency":"eur","metadata":{"showcase_key":%q}}`,
			id, status, key)
	}
	page := func(object, url string, hasMore bool, pis []string) string {
		return fmt.Sprintf(`{"object":%q,"url":%q,"has_more":%t,"data":[%s]}`, object, url, hasMore, strings.Join(pis, ","))
	}
	// stripeLike answers searches with found and lists with recent.
	stripeLike := func(found, recent []string) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/v1/payment_intents/search":
				answer(200, page("search_result", r.URL.Path, false, found))(w, r)
			case "/v1/payment_intents":
				answer(200, page("list", r.URL.Path, false, recent))(w, r)
			default:
				http.NotFound(w, r)
			}
		}
	}
	captured := func(ref string) payment.Payment {
		return payment.Payment{Status: payment.StatusCaptured, Ref: ref, Amount: 1299, CurrencyCode: "EUR"}
	}
	for _, tc := range []struct {
		name          string
		found, recent []string
		want          payment.Payment
	}{
		{"None", nil, nil, payment.Payment{Status: payment.StatusNone}},
		{"Captured", []string{pi("pi_1", "succeeded", key)}, nil, captured("pi_1")},
		{"CapturedWinsOverFailed", []string{pi("pi_1", "requires_payment_method", key), pi("pi_2", "succeeded", key)}, nil, captured("pi_2")},
		{"PendingWinsOverFailed", []string{pi("pi_1", "canceled", key), pi("pi_2", "processing", key)}, nil,
			payment.Payment{Status: payment.StatusPending, Ref: "pi_2", Amount: 1299, CurrencyCode: "EUR"}},
		{"RequiresAction", []string{pi("pi_1", "requires_action", key)}, nil,
			payment.Payment{Status: payment.StatusPending, Ref: "pi_1", Amount: 1299, CurrencyCode: "EUR"}},
		{"RequiresCapture", []string{pi("pi_1", "requires_capture", key)}, nil,
			payment.Payment{Status: payment.StatusPending, Ref: "pi_1", Amount: 1299, CurrencyCode: "EUR"}},
		{"RequiresConfirmation", []string{pi("pi_1", "requires_confirmation", key)}, nil,
			payment.Payment{Status: payment.StatusPending, Ref: "pi_1", Amount: 1299, CurrencyCode: "EUR"}},
		{"Failed", []string{pi("pi_1", "requires_payment_method", key)}, nil,
			payment.Payment{Status: payment.StatusFailed, Ref: "pi_1", Amount: 1299, CurrencyCode: "EUR"}},
		{"Canceled", []string{pi("pi_1", "canceled", key)}, nil,
			payment.Payment{Status: payment.StatusFailed, Ref: "pi_1", Amount: 1299, CurrencyCode: "EUR"}},
		{"OtherKeyIgnored", []string{pi("pi_1", "succeeded", "chk_1")}, []string{pi("pi_1", "succeeded", "chk_1")},
			payment.Payment{Status: payment.StatusNone}},
		// Search has not indexed the new PaymentIntent yet: the list of
		// recent ones, strongly consistent, has it.
		{"SearchLagsListHasIt", nil, []string{pi("pi_9", "succeeded", "other"), pi("pi_1", "succeeded", key)}, captured("pi_1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base, _ := fakeStripe(t, stripeLike(tc.found, tc.recent))
			p, rec := newStripe(t, base)
			started := time.Now()
			got, err := p.Lookup(testContext(t), key)
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			if got != tc.want {
				t.Errorf("Lookup = %+v, want %+v", got, tc.want)
			}
			reqs := rec.all()
			if len(reqs) == 0 || reqs[0].Path != "/v1/payment_intents/search" {
				t.Fatalf("requests %+v, want a search first", reqs)
			}
			if q := reqs[0].Query.Get("query"); q != `metadata['showcase_key']:'chk_1/it\'s \\ odd'` {
				t.Errorf("query = %q", q)
			}
			listed := len(reqs) == 2 && reqs[1].Path == "/v1/payment_intents"
			if wantList := len(tc.found) == 0 || tc.want.Status == payment.StatusNone; listed != wantList || len(reqs) > 2 {
				t.Errorf("requests %+v; want a list of recent PaymentIntents: %v", reqs, wantList)
			}
			if listed {
				since, err := strconv.ParseInt(reqs[1].Query.Get("created[gte]"), 10, 64)
				if err != nil || since > started.Add(-payment.StripeRecentWindow).Unix()+1 || since < started.Add(-payment.StripeRecentWindow).Unix()-60 {
					t.Errorf("list created[gte] = %q, want StripeRecentWindow ago", reqs[1].Query.Get("created[gte]"))
				}
			}
		})
	}
	t.Run("TooManyRecentIsPending", func(t *testing.T) {
		t.Parallel()
		base, requests := fakeStripe(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/payment_intents/search" {
				answer(200, page("search_result", r.URL.Path, false, nil))(w, r)
				return
			}
			// An endless list of other payments, 100 a page.
			after := r.URL.Query().Get("starting_after")
			var pis []string
			for i := range 100 {
				pis = append(pis, pi(fmt.Sprintf("pi_%s_%d", after, i), "succeeded", "other"))
			}
			answer(200, page("list", r.URL.Path, true, pis))(w, r)
		})
		p, _ := newStripe(t, base)
		got, err := p.Lookup(testContext(t), key)
		if err != nil {
			t.Fatalf("Lookup: %v", err)
		}
		if got != (payment.Payment{Status: payment.StatusPending}) {
			t.Errorf("Lookup = %+v, want PENDING", got)
		}
		if n, want := requests(), 1+payment.StripeRecentLimit/100; n != want {
			t.Errorf("%d requests, want %d", n, want)
		}
	})
	t.Run("RateLimited", func(t *testing.T) {
		t.Parallel()
		base, _ := fakeStripe(t, answer(429, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests"}}`))
		p, _ := newStripe(t, base)
		if _, err := p.Lookup(testContext(t), key); outcome(err) != "unavailable" {
			t.Errorf("Lookup: %v, want unavailable", err)
		}
	})
	t.Run("ServerError", func(t *testing.T) {
		t.Parallel()
		base, _ := fakeStripe(t, answer(500, `{"error":{"type":"api_error","message":"boom"}}`))
		p, _ := newStripe(t, base)
		if _, err := p.Lookup(testContext(t), key); err == nil {
			t.Error("Lookup: no error for a 500")
		}
	})
	t.Run("ListFails", func(t *testing.T) {
		t.Parallel()
		base, _ := fakeStripe(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/payment_intents/search" {
				answer(200, page("search_result", r.URL.Path, false, nil))(w, r)
				return
			}
			answer(500, `{"error":{"type":"api_error","message":"boom"}}`)(w, r)
		})
		p, _ := newStripe(t, base)
		if got, err := p.Lookup(testContext(t), key); err == nil {
			t.Errorf("Lookup = %+v, want an error when the recent list fails", got)
		}
	})
}

// TestStripeRefundAnswers maps refund answers.
func TestStripeRefundAnswers(t *testing.T) {
	t.Parallel()
	refund := func(status string) string {
		return fmt.Sprintf(`{"id":"re_1","object":"refund","status":%q,"amount":500,"currency":"eur","payment_intent":"pi_1"}`, status)
	}
	for _, tc := range []struct {
		name   string
		handle func(http.ResponseWriter, *http.Request)
		want   string
	}{
		{"Succeeded", answer(200, refund("succeeded")), "ok"},
		{"Pending", answer(200, refund("pending")), "ok"},
		{"Failed", answer(200, refund("failed")), "unknown"},
		{"MoreThanCaptured", answer(400, `{"error":{"type":"invalid_request_error","code":"amount_too_large","message":"Refund amount is greater than unrefunded amount on charge"}}`), "declined"},
		{"IdempotencyError", answer(400, `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}}`), "key mismatch"},
		{"ServerError", answer(500, `{"error":{"type":"api_error","message":"boom"}}`), "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base, _ := fakeStripe(t, tc.handle)
			p, _ := newStripe(t, base)
			err := p.Refund(testContext(t), "pi_1", 500, "refund-1")
			if got := outcome(err); got != tc.want {
				t.Errorf("Refund: %v (%s), want %s", err, got, tc.want)
			}
		})
	}
}

// TestNewStripe checks the configuration NewStripe refuses.
func TestNewStripe(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  payment.StripeConfig
		ok   bool
	}{
		{"RealAPI", payment.StripeConfig{SecretKey: "sk_live_x"}, true},
		{"Mock", payment.StripeConfig{SecretKey: "sk_test_x", APIBase: "http://127.0.0.1:12111"}, true},
		{"MockTrailingSlash", payment.StripeConfig{SecretKey: "sk_test_x", APIBase: "http://localhost:12111/"}, true},
		{"NoKey", payment.StripeConfig{}, false},
		{"LiveKeyOverHTTP", payment.StripeConfig{SecretKey: "sk_live_x", APIBase: "http://stripe.internal"}, false},
		{"RestrictedLiveKeyOverHTTP", payment.StripeConfig{SecretKey: "rk_live_x", APIBase: "http://stripe.internal"}, false},
		{"BaseWithPath", payment.StripeConfig{SecretKey: "sk_test_x", APIBase: "http://127.0.0.1:12111/api"}, false},
		{"BaseNotURL", payment.StripeConfig{SecretKey: "sk_test_x", APIBase: "127.0.0.1:12111"}, false},
		{"NegativeRetries", payment.StripeConfig{SecretKey: "sk_test_x", MaxNetworkRetries: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := payment.NewStripe(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("NewStripe(%+v) = %v, want ok=%v", tc.cfg, err, tc.ok)
			}
			if err == nil && p.Name() != "stripe" {
				t.Errorf("Name = %q", p.Name())
			}
		})
	}
}
