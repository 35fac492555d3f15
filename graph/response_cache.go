package graph

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/lru"

	"showcase/auth"
)

// Bounds of the anonymous response cache: a few hundred distinct public
// pages at most 128 KiB each keep it under 64 MiB; requests bigger than
// maxCachedRequest are not worth keying on.
const (
	maxCachedResponses = 512
	maxCachedBody      = 128 << 10
	maxCachedRequest   = 16 << 10
)

// cacheableCodes are the errors that depend only on the request, not on the
// moment: an anonymous caller always gets them for the same document.
var cacheableCodes = map[string]bool{"FORBIDDEN": true, "NOT_FOUND": true, "BAD_USER_INPUT": true}

// ResponseCache shares query responses among anonymous callers for a short
// time. When a video goes viral thousands of signed-out viewers ask for the
// same feed page within a second; executing it once per TTL instead of once
// per viewer is what keeps the API fast then. Only anonymous queries are
// shared (signed-in callers see their own ranking, carts and figures); a
// request with Cache-Control: no-cache is always executed.
//
// Callers never queue behind more than one execution of a request: while
// one runs, an expired entry keeps being served for up to one more TTL, and
// callers with nothing to be served wait for that execution's answer
// instead of running their own (a cold or long-expired page would otherwise
// be executed by every caller at once, and fall further behind).
type ResponseCache struct {
	ttl     time.Duration
	entries *lru.LRU[*cachedResponse]
	// served logs and counts an answer given from the cache.
	served func(ctx context.Context, operation string, codes []string, d time.Duration)
	// limits, when set, charges each shared answer 1 token of the caller's
	// address (operations that run are charged by rateCharge).
	limits RateLimiter
	obs    Observer
	// RequestTimeout, when positive, bounds a request that waits for
	// another's execution of the same page, its own execution after the
	// wait included. The server puts its request timeout inside the cache
	// (answers from the cache need no deadline and no timer) and sets this
	// to the same bound, so that no request outlives it.
	RequestTimeout time.Duration

	mu      sync.Mutex
	running map[string]*execution
}

type cachedResponse struct {
	operation   string
	codes       []string
	stored      time.Time
	status      int
	contentType string
	body        []byte
}

// execution is a request being executed for the cache: done is closed when
// it has answered, and answer is then set if the answer may be shared.
type execution struct {
	done   chan struct{}
	answer *cachedResponse
}

// NewResponseCache returns a cache that shares an anonymous query's answer
// for ttl; each answer it serves is logged and counted with obs (when not
// nil) like an executed one, marked cached. A ttl of 0 or less returns nil,
// whose Middleware passes every request through.
func NewResponseCache(ttl time.Duration, obs Observer, limits RateLimiter) *ResponseCache {
	if ttl <= 0 {
		return nil
	}
	return &ResponseCache{ttl: ttl, entries: lru.New[*cachedResponse](maxCachedResponses), running: map[string]*execution{},
		served: func(ctx context.Context, operation string, codes []string, d time.Duration) {
			observe(ctx, obs, operation, codes, d, true)
		}, limits: limits, obs: obs}
}

// cacheNote is how execution tells the cache whether a response may be
// shared: set by logOperations once the operation and its errors are known.
type cacheNote struct {
	shareable bool
	operation string
	codes     []string
	// private is set by resolvers whose answer belongs to whoever holds a
	// secret (a guest cart's key, an order token): never shared, so that a
	// change is seen at once.
	private atomic.Bool
}

// markPrivate keeps the request's response out of the shared cache.
func markPrivate(ctx context.Context) {
	if n, _ := ctx.Value(cacheNoteKey{}).(*cacheNote); n != nil {
		n.private.Store(true)
	}
}

type cacheNoteKey struct{}

// noteShareable marks the request's response as shareable when it answered
// a query with no errors but the request-determined ones.
func noteShareable(ctx context.Context, operation string, query bool, codes []string) {
	n, _ := ctx.Value(cacheNoteKey{}).(*cacheNote)
	if n == nil || !query || n.private.Load() {
		return
	}
	for _, c := range codes {
		if !cacheableCodes[c] {
			return
		}
	}
	n.shareable, n.operation, n.codes = true, operation, codes
}

// Middleware serves anonymous queries from the cache, and fills it with
// next's answers. It expects requests that went through GuardRequests (the
// Accept header negotiated, the body checked).
func (c *ResponseCache) Middleware(next http.Handler) http.Handler {
	if c == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := c.key(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		now := time.Now()
		e, found := c.entries.Get(r.Context(), key)
		if found && now.Sub(e.stored) < c.ttl {
			c.answer(w, r, e, now)
			return
		}
		c.mu.Lock()
		x := c.running[key]
		if x == nil {
			x = &execution{done: make(chan struct{})}
			c.running[key] = x
			c.mu.Unlock()
			c.execute(w, r, key, x, next, now)
			return
		}
		c.mu.Unlock()
		if found && now.Sub(e.stored) < 2*c.ttl {
			c.answer(w, r, e, now)
			return
		}
		if c.RequestTimeout > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), c.RequestTimeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		select {
		case <-x.done:
		case <-r.Context().Done():
			if errors.Is(r.Context().Err(), context.DeadlineExceeded) {
				// Out of time before the execution waited for answered:
				// say so, retryably (an empty 200 would pass for an answer).
				waitTimedOut(w)
			}
			return // else the caller has gone
		}
		if x.answer != nil {
			c.answer(w, r, x.answer, now)
			return
		}
		next.ServeHTTP(w, r) // that answer was not for sharing
	})
}

// waitTimedOut answers a request whose time ran out while it waited for
// another's execution of the same page: HTTP 503 with a GraphQL error of
// code SERVICE_UNAVAILABLE, retryable, as when the database is found
// unavailable before GraphQL runs.
func waitTimedOut(w http.ResponseWriter) {
	w.Header().Set("Content-Type", MediaGraphQLResponse)
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"errors":[{"message":"the service could not complete this now; retry shortly","extensions":{"code":"` +
		codeUnavailable + `","retryable":true}}]}`))
}

// execute runs the request, answers it, and shares the answer when it may
// be shared.
func (c *ResponseCache) execute(w http.ResponseWriter, r *http.Request, key string, x *execution, next http.Handler, now time.Time) {
	defer func() {
		c.mu.Lock()
		delete(c.running, key)
		c.mu.Unlock()
		close(x.done)
	}()
	note := &cacheNote{}
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), cacheNoteKey{}, note)))
	if note.shareable && rec.status == http.StatusOK && !rec.overflow {
		x.answer = &cachedResponse{operation: note.operation, codes: note.codes, stored: now, status: rec.status,
			contentType: rec.Header().Get("Content-Type"), body: rec.body.Bytes()}
		c.entries.Add(r.Context(), key, x.answer)
	}
}

// answer serves a shared answer, and logs and counts it; over the caller's
// rate limit it answers 429 instead.
func (c *ResponseCache) answer(w http.ResponseWriter, r *http.Request, e *cachedResponse, now time.Time) {
	if c.limits != nil {
		if ok, wait := c.limits.Allow("ip:"+remoteHost(r), false, 1); !ok {
			if c.obs != nil {
				c.obs.ObserveRejection(codeRateLimited)
			}
			tooManyRequests(w, retryAfterSeconds(wait))
			return
		}
	}
	h := w.Header()
	h["Content-Type"] = mediaHeader(e.contentType)
	h["Age"] = ageHeader(int(max(now.Sub(e.stored), 0) / time.Second))
	w.WriteHeader(e.status)
	_, _ = w.Write(e.body)
	if c.served != nil {
		c.served(r.Context(), e.operation, e.codes, time.Since(now))
	}
}

// ageHeaders are the Age header's values for the ages a shared answer
// usually has (under a minute), made once.
var ageHeaders = func() [][]string {
	v := make([][]string, 60)
	for i := range v {
		v[i] = []string{strconv.Itoa(i)}
	}
	return v
}()

// ageHeader returns the Age header's value for an answer secs seconds old.
func ageHeader(secs int) []string {
	if secs >= 0 && secs < len(ageHeaders) {
		return ageHeaders[secs]
	}
	return []string{strconv.Itoa(secs)}
}

// key names an anonymous query request by everything its answer depends
// on, or says it may not be shared.
func (c *ResponseCache) key(r *http.Request) (string, bool) {
	if c == nil || auth.ViewerFrom(r.Context()).SignedIn() || auth.ViewerFrom(r.Context()).IsApp() ||
		r.Header.Get("Authorization") != "" || r.Header.Get("Upgrade") != "" ||
		r.Header.Get("Accept") == MediaEventStream {
		return "", false
	}
	if cc := r.Header.Get("Cache-Control"); strings.Contains(cc, "no-cache") || strings.Contains(cc, "no-store") {
		return "", false
	}
	accept := r.Header.Get("Accept")
	switch r.Method {
	case http.MethodGet:
		if len(r.URL.RawQuery) > maxCachedRequest {
			return "", false
		}
		return "GET\x00" + accept + "\x00" + r.URL.RawQuery, true
	case http.MethodPost:
		if r.ContentLength > maxCachedRequest {
			return "", false
		}
		if b, ok := r.Body.(*checkedBody); ok && b.unshared {
			// A mutation's or a subscription's: never shared, so neither
			// looked up nor run as the one execution of its key (which
			// would copy its body into a key and its answer into a buffer).
			return "", false
		}
		if body, ok := checkedBytes(r); ok { // GuardRequests read it already
			if len(body) > maxCachedRequest {
				return "", false
			}
			return "POST\x00" + accept + "\x00" + r.Header.Get("Content-Type") + "\x00" + string(body), true
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxCachedRequest+1))
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
		if err != nil || len(body) > maxCachedRequest {
			return "", false
		}
		return "POST\x00" + accept + "\x00" + r.Header.Get("Content-Type") + "\x00" + string(body), true
	}
	return "", false
}

// recorder passes a response through while keeping a copy of it.
type recorder struct {
	http.ResponseWriter
	status   int
	body     bytes.Buffer
	overflow bool
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.overflow {
		if r.body.Len()+len(b) > maxCachedBody {
			r.overflow = true
			r.body = bytes.Buffer{}
		} else {
			r.body.Write(b)
		}
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
