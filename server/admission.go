package main

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"

	"showcase/graph"
)

// DefaultAdmissionPerCPU is GRAPHQL_MAX_CONCURRENT's default per GOMAXPROCS:
// an executed feed page spends most of its time on the CPU, so a few
// operations per core keep the cores busy while some wait on PostgreSQL,
// and the rest wait their turn in order instead of sharing the cores ever
// more thinly (Go's scheduler favours newly woken goroutines: under a
// saturated CPU the oldest requests finish last).
const DefaultAdmissionPerCPU = 4

// Defaults of the queue in front of the executing operations.
const (
	// DefaultAdmissionQueue is GRAPHQL_MAX_QUEUED's default: requests
	// waiting for a turn beyond it are refused at once.
	DefaultAdmissionQueue = 1024
	// DefaultAdmissionWait is GRAPHQL_MAX_QUEUE_WAIT's default: a request
	// that waited this long for a turn is refused.
	DefaultAdmissionWait = 5 * time.Second
	// DefaultAdmissionQueuePerCaller is GRAPHQL_MAX_QUEUED_PER_CALLER's
	// default: places in the queue one caller may hold at once; beyond
	// them that caller is refused at once while others still queue.
	DefaultAdmissionQueuePerCaller = 16
)

// defaultAdmissionSlots is GRAPHQL_MAX_CONCURRENT's default for this
// process: DefaultAdmissionPerCPU × GOMAXPROCS.
func defaultAdmissionSlots() int { return DefaultAdmissionPerCPU * runtime.GOMAXPROCS(0) }

// errAdmissionQueueFull, errAdmissionCallerQueueFull and
// errAdmissionWaitedTooLong are why a request was not admitted (besides
// its own context ending).
var (
	errAdmissionQueueFull       = errors.New("admission queue full")
	errAdmissionCallerQueueFull = errors.New("admission queue places of this caller full")
	errAdmissionWaitedTooLong   = errors.New("admission wait exceeded")
)

// admission bounds how many GraphQL operations this process executes at
// once. A request finding every slot taken waits in arrival order (first
// in, first admitted: golang.org/x/sync/semaphore's Weighted), behind at
// most maxQueued others, of which at most maxPerCaller are its caller's,
// and for at most maxWait; past any bound it is refused with 503 and
// Retry-After. A nil *admission admits everything.
//
// It sits inside the anonymous response cache, so a shared answer and a
// request waiting for another's execution of the same page hold no slot:
// only the request that executes does, and no holder of a slot waits for a
// request that has none (no deadlock). Websocket connections, event
// streams and uploads are not held in the HTTP middleware (they live for
// minutes, or their files arrive slowly); the queries and mutations they
// carry take their turn as they execute (graph.Resolver.Admission, which
// *admission implements), subscriptions none.
type admission struct {
	sem                     *semaphore.Weighted
	maxQueued, maxPerCaller int
	maxWait                 time.Duration
	obs                     graph.Observer

	// mu guards queued's changes and perCaller, the places each caller
	// holds in the queue (callers holding none are not kept).
	mu        sync.Mutex
	perCaller map[string]int

	// running and queued are the slots held and the requests waiting, for
	// /metrics.
	running, queued atomic.Int64
}

var _ graph.Admission = (*admission)(nil)

// newAdmission returns a limiter of slots operations at once, maxQueued
// waiting (at most maxPerCaller of them one caller's), each for at most
// maxWait; obs (may be nil) counts refusals as rejections of reason
// "overloaded". slots 0 turns admission off (nil).
func newAdmission(slots, maxQueued, maxPerCaller int, maxWait time.Duration, obs graph.Observer) *admission {
	if slots <= 0 {
		return nil
	}
	return &admission{sem: semaphore.NewWeighted(int64(slots)), maxQueued: maxQueued, maxPerCaller: maxPerCaller,
		maxWait: maxWait, obs: obs, perCaller: map[string]int{}}
}

// Acquire implements graph.Admission: acquire for caller.
func (a *admission) Acquire(ctx context.Context, caller string) error {
	return a.acquire(ctx, func() string { return caller })
}

// Release implements graph.Admission: release.
func (a *admission) Release() { a.release() }

// acquire takes a slot, waiting in arrival order when all are taken. It
// returns nil with a slot held (to be given back with release), or
// errAdmissionQueueFull, errAdmissionCallerQueueFull (the caller, named by
// caller(), called only when the request must wait, already holds
// maxPerCaller places), errAdmissionWaitedTooLong or ctx's error without
// one, each counted as a rejection; a waiter that gives up leaves the
// queue at once.
func (a *admission) acquire(ctx context.Context, caller func() string) error {
	if !a.sem.TryAcquire(1) { // fails while others wait: arrival order
		key := caller()
		if err := a.enqueue(key); err != nil {
			a.refused()
			return err
		}
		wait, cancel := context.WithTimeout(ctx, a.maxWait)
		err := a.sem.Acquire(wait, 1)
		cancel()
		a.dequeue(key)
		if err != nil {
			a.refused()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return errAdmissionWaitedTooLong
		}
	}
	a.running.Add(1)
	return nil
}

// enqueue takes a place in the queue for caller, or returns why not.
func (a *admission) enqueue(caller string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.queued.Load() >= int64(a.maxQueued) {
		return errAdmissionQueueFull
	}
	if a.perCaller[caller] >= a.maxPerCaller {
		return errAdmissionCallerQueueFull
	}
	a.perCaller[caller]++
	a.queued.Add(1)
	return nil
}

// dequeue gives back a place enqueue took.
func (a *admission) dequeue(caller string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n := a.perCaller[caller] - 1; n > 0 {
		a.perCaller[caller] = n
	} else {
		delete(a.perCaller, caller)
	}
	a.queued.Add(-1)
}

// refused counts a refusal on /metrics.
func (a *admission) refused() {
	if a.obs != nil {
		a.obs.ObserveRejection("overloaded")
	}
}

// release gives back a slot acquire returned: to the oldest waiter, if any.
func (a *admission) release() {
	a.running.Add(-1)
	a.sem.Release(1)
}

// state returns the operations executing and the requests waiting, for
// /metrics and tests.
func (a *admission) state() (running, queued int) {
	return int(a.running.Load()), int(a.queued.Load())
}

// middleware admits GraphQL requests (queries and mutations, over GET and
// POST, as JSON, as an event stream or as multipart) through a, as the
// caller graph.CallerKey names, and marks them admitted
// (graph.WithAdmitted) so that their operation takes no second turn;
// websocket upgrades, and subscriptions' event streams and uploads
// (graph.StreamsOrUploads: a slow uploader would hold a slot while its
// files arrive) pass unmarked: the queries and mutations they carry take
// their turn as they execute (graph.Resolver.Admission). A request not
// admitted is answered 503 with Retry-After: 1 and a GraphQL error of code
// SERVICE_UNAVAILABLE, retryable.
func (a *admission) middleware(next http.Handler) http.Handler {
	if a == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" || graph.StreamsOrUploads(r.Context()) {
			next.ServeHTTP(w, r)
			return
		}
		if err := a.acquire(r.Context(), func() string { return graph.CallerKey(r) }); err != nil {
			overloaded(w, r, err)
			return
		}
		defer a.release()
		next.ServeHTTP(w, r.WithContext(graph.WithAdmitted(r.Context())))
	})
}

// overloaded answers a request refused admission, in the media type
// graph.GuardRequests negotiated.
func overloaded(w http.ResponseWriter, r *http.Request, why error) {
	media := r.Header.Get("Accept")
	if media != graph.MediaGraphQLResponse {
		media = graph.MediaJSON
	}
	msg := "the server is busy; retry shortly"
	if errors.Is(why, context.DeadlineExceeded) || errors.Is(why, context.Canceled) {
		msg = "the request ended while waiting for its turn"
	}
	w.Header().Set("Content-Type", media)
	w.Header().Set("Retry-After", strconv.Itoa(1))
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"errors":[{"message":"` + msg + `","extensions":{"code":"SERVICE_UNAVAILABLE","retryable":true}}]}`))
}

// registerAdmission exposes a's slots in use and queue on /metrics (nothing
// when a is nil: admission off).
func (m *metrics) registerAdmission(a *admission) {
	if a == nil {
		return
	}
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "showcase_graphql_executing", Help: "GraphQL operations executing (at most GRAPHQL_MAX_CONCURRENT).",
		}, func() float64 { n, _ := a.state(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "showcase_graphql_queued", Help: "GraphQL requests waiting for a turn to execute (at most GRAPHQL_MAX_QUEUED).",
		}, func() float64 { _, n := a.state(); return float64(n) }),
	)
}
