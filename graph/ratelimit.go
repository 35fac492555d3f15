package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"showcase/auth"
)

// RateLimiter decides whether a caller may make another request.
type RateLimiter interface {
	// Allow takes cost tokens (at least 1, at most the bucket's size) from
	// key's bucket. Sensitive charges (credential checks, one token per
	// attempt) use a much smaller bucket per address. When refused, it says
	// how long to wait.
	Allow(key string, sensitive bool, cost int) (bool, time.Duration)
	// Burst is the size of each caller's bucket, or with sensitive of each
	// address's bucket of credential checks.
	Burst(sensitive bool) int
}

// codeRateLimited is the extensions.code of a request over a rate limit.
const codeRateLimited = "RATE_LIMITED"

// credentialChecks are the Mutation fields that check a password or a
// secret (or, for signUp, create an account). Each one executed is an
// attempt charged to the address's small bucket: aliases are attempts too.
// POST /oauth/token, the other secret check, is charged in the server.
var credentialChecks = map[string]bool{"logIn": true, "signUp": true, "refreshSession": true, "logOut": true}

// guestChecks are the Mutation fields that, sent by an anonymous caller,
// draw from the same small bucket per address as credential checks: a guest
// cart is a new account of sorts (cartCreate), and a guest checkout tries a
// payment token with no account behind it (card testing).
var guestChecks = map[string]bool{"cartCreate": true, "checkout": true}

// secretGuesses are the Mutation fields that, with a non-empty list in the
// named argument, try secrets a caller may not know, whoever calls: each
// one executed is an attempt on the address's small bucket.
// cartDiscountCodesUpdate answers an unknown code NOT_FOUND and a known one
// otherwise, so at the general rate (20 a second, aliases more) anyone
// could walk the space of shops' discount codes. Taking every code off a
// cart (an empty list) tries nothing.
var secretGuesses = map[string]string{"cartDiscountCodesUpdate": "discountCodes"}

// Rate-limit cost of an operation: 1 token, plus 1 per fieldsPerToken
// selected fields (fragments expanded), where each engagement event sent to
// recordEvents weighs as much as eventWeight fields. A batch of 500 events
// costs 51 tokens; one of 10 costs 2.
const (
	fieldsPerToken = 50
	eventWeight    = 5
)

// rateCharge is the gqlgen extension that charges each operation to its
// caller's bucket, on every transport (POST, GET, SSE, websocket). It charges
// 1 token when the operation arrives, before the persisted-query lookup or
// parsing (so documents that never run still cost something), and the rest
// once the operation is parsed and validated: what is charged is what runs.
type rateCharge struct {
	limits RateLimiter
	obs    Observer
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = rateCharge{}

// ExtensionName implements graphql.HandlerExtension.
func (rateCharge) ExtensionName() string { return "RateCharge" }

// Validate implements graphql.HandlerExtension.
func (rateCharge) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters charges the arrival of an operation: 1 token.
func (c rateCharge) MutateOperationParameters(ctx context.Context, _ *graphql.RawParams) *gqlerror.Error {
	if ok, wait := c.limits.Allow(rateKey(ctx), false, 1); !ok {
		return c.refuse(ctx, wait, "")
	}
	return nil
}

// MutateOperationContext charges the validated operation's size and its
// credential checks, one per attempt on the address's bucket.
func (c rateCharge) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	cost, attempts := operationCost(oc, !auth.ViewerFrom(ctx).SignedIn())
	// An operation dearer than the whole bucket runs once the bucket is full.
	if rest := min(cost, c.limits.Burst(false)) - 1; rest > 0 {
		if ok, wait := c.limits.Allow(rateKey(ctx), false, rest); !ok {
			return c.refuse(ctx, wait, "")
		}
	}
	if attempts == 0 {
		return nil
	}
	if most := c.limits.Burst(true); attempts > most {
		return c.refuse(ctx, 0, fmt.Sprintf("%d credential checks in one request; an address may make at most %d at once", attempts, most))
	}
	if ok, wait := c.limits.Allow(ipKey(ctx), true, attempts); !ok {
		return c.refuse(ctx, wait, "")
	}
	return nil
}

// refuse counts a refusal, tells the HTTP reply to be a 429 with
// Retry-After, and returns the error clients see.
func (c rateCharge) refuse(ctx context.Context, wait time.Duration, msg string) *gqlerror.Error {
	if c.obs != nil {
		c.obs.ObserveRejection(codeRateLimited)
	}
	secs := retryAfterSeconds(wait)
	if s, _ := ctx.Value(rateStateKey{}).(*rateState); s != nil && s.note != nil {
		s.note.refused, s.note.retryAfter = true, secs
	}
	ext := map[string]any{"code": codeRateLimited}
	if msg == "" {
		msg = "too many requests; retry after " + strconv.Itoa(secs) + "s"
		ext["retryAfter"] = secs
	}
	return &gqlerror.Error{Message: msg, Extensions: ext}
}

// operationCost measures the operation that will run: its token cost (see
// fieldsPerToken) and how many credential checks it makes (with anonymous,
// guest carts and checkouts count as such; see guestChecks; discount codes
// tried count for everyone, see secretGuesses). Root mutation
// fields are collected as the executor collects them (fragments expanded,
// @skip and @include applied, fields with the same response key merged).
func operationCost(oc *graphql.OperationContext, anonymous bool) (cost, attempts int) {
	op := oc.Operation
	var fields int
	if len(oc.RawQuery) <= maxRememberedQuery {
		fields = factsOf(oc.RawQuery).opFields[op.Name]
	} else {
		m := measure{fragments: oc.Doc.Fragments, memo: map[string]shape{}, visiting: map[string]bool{}}
		fields = m.set(op.SelectionSet).fields
	}
	events := 0
	if op.Operation == ast.Mutation {
		for _, f := range graphql.CollectFields(oc, op.SelectionSet, []string{"Mutation"}) {
			if credentialChecks[f.Name] || (anonymous && guestChecks[f.Name]) {
				attempts++
			}
			if arg, ok := secretGuesses[f.Name]; ok {
				if list, _ := f.ArgumentMap(oc.Variables)[arg].([]any); len(list) > 0 {
					attempts++
				}
			}
			if f.Name == "recordEvents" {
				list, _ := f.ArgumentMap(oc.Variables)["events"].([]any)
				events += len(list)
			}
		}
	}
	return 1 + (fields+eventWeight*events)/fieldsPerToken, attempts
}

// rateKey names the caller's bucket: their user, their app, or their address.
func rateKey(ctx context.Context) string {
	if k := signedInKey(auth.ViewerFrom(ctx)); k != "" {
		return k
	}
	return ipKey(ctx)
}

// ipKey names the bucket of the caller's address ("ip:" and the address).
func ipKey(ctx context.Context) string {
	if s, _ := ctx.Value(rateStateKey{}).(*rateState); s != nil {
		return s.ipKey
	}
	return "ip:"
}

// rateState is what withRequestState keeps in a request's context, in
// one value made once per request: the client's address, its bucket's key
// ("ip:" and the address, so that charging an anonymous caller makes no
// string), and the note rateCharge refuses with (nil on a websocket) with
// the writer that reads it (so that the request costs one allocation).
type rateState struct {
	addr, ipKey string
	note        *rateNote
	noted       rateNote   // what note points to on a request that is not an upgrade
	w           rateWriter // the reply of a request that is not an upgrade
}

type rateStateKey struct{}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// rateNote is how rateCharge tells withRequestState that it refused the
// request's operation (and admitOperations that it found no turn for it).
type rateNote struct {
	refused    bool
	retryAfter int  // seconds; 0 when waiting would not help
	overloaded bool // admitOperations refused: 503 with Retry-After: 1
}

// rateWriter turns the reply's status into 429 once the operation was
// refused, or 503 once it found no turn to execute.
type rateWriter struct {
	http.ResponseWriter
	note  *rateNote
	wrote bool
}

// WriteHeader implements http.ResponseWriter.
func (w *rateWriter) WriteHeader(status int) {
	if !w.wrote {
		w.wrote = true
		switch {
		case w.note.refused:
			if w.note.retryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(w.note.retryAfter))
			}
			status = http.StatusTooManyRequests
		case w.note.overloaded:
			w.Header().Set("Retry-After", "1")
			status = http.StatusServiceUnavailable
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write implements http.ResponseWriter.
func (w *rateWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Flush implements http.Flusher, which the SSE transport needs.
func (w *rateWriter) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush() // http.Flusher has no error to report
}

// Unwrap lets http.ResponseController reach the connection.
func (w *rateWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// tooManyRequests answers 429 with Retry-After and a RATE_LIMITED error,
// for refusals outside gqlgen (answers from the shared cache).
func tooManyRequests(w http.ResponseWriter, secs int) {
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	w.Header().Set("Content-Type", "application/graphql-response+json")
	w.WriteHeader(http.StatusTooManyRequests)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message":    "too many requests; retry after " + strconv.Itoa(secs) + "s",
		"extensions": map[string]any{"code": codeRateLimited, "retryAfter": secs},
	}}})
}

// retryAfterSeconds rounds a wait up to whole seconds.
func retryAfterSeconds(wait time.Duration) int {
	secs := int(wait / time.Second)
	if time.Duration(secs)*time.Second < wait {
		secs++
	}
	return secs
}
