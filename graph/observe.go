package graph

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

type requestIDKey struct{}

// WithRequestID tags each request with an id (the client's X-Request-Id when
// it sends a sane one, else 16 random hex digits), echoed in the response and
// in every log line.
func WithRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if len(id) == 0 || len(id) > 64 {
			id = newRequestID()
		}
		w.Header()["X-Request-Id"] = []string{id}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// newRequestID returns 16 random hex digits. An id tells log lines apart and
// guards nothing, so it comes from math/rand/v2's per-thread generator (a
// ChaCha8 stream seeded by the runtime) rather than from crypto/rand, which
// cost a getrandom system call on every request.
func newRequestID() string {
	var raw [8]byte
	var b [16]byte
	binary.BigEndian.PutUint64(raw[:], rand.Uint64())
	hex.Encode(b[:], raw[:])
	return string(b[:])
}

// RequestID returns the request's id, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// Observer learns how each operation went, for metrics.
type Observer interface {
	ObserveOperation(operation, outcome string, d time.Duration)
	// ObserveRejection counts a request refused before execution.
	ObserveRejection(reason string)
}

// logOperations writes one structured line per GraphQL response: the request
// id, the operation, its duration and its error codes; never variables,
// tokens or passwords.
func (r *Resolver) logOperations(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	if resp == nil {
		return resp
	}
	name, query := "", false
	if graphql.HasOperationContext(ctx) { // refused documents may have none
		oc := graphql.GetOperationContext(ctx)
		name = oc.OperationName
		if name == "" && oc.Operation != nil {
			name = oc.Operation.Name
		}
		query = oc.Operation != nil && oc.Operation.Operation == ast.Query
	}
	if name == "" {
		name = "anonymous"
	}
	var codes []string
	for _, e := range resp.Errors {
		if c, ok := e.Extensions["code"].(string); ok {
			codes = append(codes, c)
		}
	}
	noteShareable(ctx, name, query, codes)
	observe(ctx, r.Observer, name, codes, time.Since(start), false)
	return resp
}

// observe counts an operation with obs (when not nil) and writes its log
// line; cached says it was answered from the shared anonymous cache.
func observe(ctx context.Context, obs Observer, name string, codes []string, d time.Duration, cached bool) {
	outcome := "ok"
	if len(codes) > 0 {
		outcome = codes[0]
	}
	if obs != nil {
		obs.ObserveOperation(name, outcome, d)
	}
	// The line slog.LogAttrs would write, handed to the default handler
	// directly: LogAttrs also records the caller's program counter
	// (runtime.Callers, about 1% of a one-event recordEvents request's CPU),
	// which only a handler with AddSource reads, and the server's has none.
	h := slog.Default().Handler()
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	rec := slog.NewRecord(time.Now(), slog.LevelInfo, "graphql", 0)
	rec.AddAttrs(slog.String("request_id", RequestID(ctx)), slog.String("operation", name),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000), slog.Any("error_codes", codes), slog.Bool("cached", cached))
	_ = h.Handle(ctx, rec)
}
