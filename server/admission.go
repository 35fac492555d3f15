package main

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strconv"
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
)

// defaultAdmissionSlots is GRAPHQL_MAX_CONCURRENT's default for this
// process: DefaultAdmissionPerCPU × GOMAXPROCS.
func defaultAdmissionSlots() int { return DefaultAdmissionPerCPU * runtime.GOMAXPROCS(0) }

// errAdmissionQueueFull and errAdmissionWaitedTooLong are why a request was
// not admitted (besides its own context ending).
var (
	errAdmissionQueueFull     = errors.New("admission queue full")
	errAdmissionWaitedTooLong = errors.New("admission wait exceeded")
)

// admission bounds how many GraphQL operations this process executes at
// once. A request finding every slot taken waits in arrival order (first
// in, first admitted: golang.org/x/sync/semaphore's Weighted), behind at
// most maxQueued others and for at most maxWait; past either bound it is
// refused with 503 and Retry-After. A nil *admission admits everything.
//
// It sits inside the anonymous response cache, so a shared answer and a
// request waiting for another's execution of the same page hold no slot:
// only the request that executes does, and no holder of a slot waits for a
// request that has none (no deadlock). Websockets and event streams are
// never limited (they live for minutes), nor are uploads (their files
// arrive while they execute).
type admission struct {
	sem       *semaphore.Weighted
	maxQueued int64
	maxWait   time.Duration
	obs       graph.Observer

	// running and queued are the slots held and the requests waiting, for
	// /metrics and the queue's bound.
	running, queued atomic.Int64
}

// newAdmission returns a limiter of slots operations at once, maxQueued
// waiting, each for at most maxWait; obs (may be nil) counts refusals as
// rejections of reason "overloaded". slots 0 turns admission off (nil).
func newAdmission(slots, maxQueued int, maxWait time.Duration, obs graph.Observer) *admission {
	if slots <= 0 {
		return nil
	}
	return &admission{sem: semaphore.NewWeighted(int64(slots)), maxQueued: int64(maxQueued), maxWait: maxWait, obs: obs}
}

// acquire takes a slot, waiting in arrival order when all are taken. It
// returns nil with a slot held (to be given back with release), or
// errAdmissionQueueFull, errAdmissionWaitedTooLong or ctx's error without
// one; a waiter that gives up leaves the queue at once.
func (a *admission) acquire(ctx context.Context) error {
	if !a.sem.TryAcquire(1) { // fails while others wait: arrival order
		if a.queued.Add(1) > a.maxQueued {
			a.queued.Add(-1)
			return errAdmissionQueueFull
		}
		wait, cancel := context.WithTimeout(ctx, a.maxWait)
		err := a.sem.Acquire(wait, 1)
		cancel()
		a.queued.Add(-1)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return errAdmissionWaitedTooLong
		}
	}
	a.running.Add(1)
	return nil
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
// POST, as JSON, as an event stream or as multipart) through a; websocket
// upgrades, and subscriptions' event streams and uploads
// (graph.StreamsOrUploads: a slow uploader would hold a slot while its
// files arrive) pass untouched. A request not admitted
// is answered 503 with Retry-After: 1 and a GraphQL error of code
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
		if err := a.acquire(r.Context()); err != nil {
			if a.obs != nil {
				a.obs.ObserveRejection("overloaded")
			}
			overloaded(w, r, err)
			return
		}
		defer a.release()
		next.ServeHTTP(w, r)
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
