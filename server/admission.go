package main

import (
	"container/list"
	"context"
	"errors"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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
// in, first admitted), behind at most maxQueued others and for at most
// maxWait; past either bound it is refused with 503 and Retry-After. A nil
// *admission admits everything.
//
// It sits inside the anonymous response cache, so a shared answer and a
// request waiting for another's execution of the same page hold no slot:
// only the request that executes does, and no holder of a slot waits for a
// request that has none (no deadlock). Websockets and event streams are
// never limited (they live for minutes), nor are uploads (their files
// arrive while they execute).
type admission struct {
	slots     int
	maxQueued int
	maxWait   time.Duration
	obs       graph.Observer

	mu      sync.Mutex
	running int
	queue   list.List // of *admissionWaiter, oldest first
}

type admissionWaiter struct {
	ready   chan struct{}
	granted bool // set under mu when a slot is handed to this waiter
	elem    *list.Element
}

// newAdmission returns a limiter of slots operations at once, maxQueued
// waiting, each for at most maxWait; obs (may be nil) counts refusals as
// rejections of reason "overloaded". slots 0 turns admission off (nil).
func newAdmission(slots, maxQueued int, maxWait time.Duration, obs graph.Observer) *admission {
	if slots <= 0 {
		return nil
	}
	return &admission{slots: slots, maxQueued: maxQueued, maxWait: maxWait, obs: obs}
}

// acquire takes a slot, waiting in arrival order when all are taken. It
// returns nil with a slot held (to be given back with release), or
// errAdmissionQueueFull, errAdmissionWaitedTooLong or ctx's error without
// one; a waiter that gives up leaves the queue at once.
func (a *admission) acquire(ctx context.Context) error {
	a.mu.Lock()
	if a.running < a.slots && a.queue.Len() == 0 {
		a.running++
		a.mu.Unlock()
		return nil
	}
	if a.queue.Len() >= a.maxQueued {
		a.mu.Unlock()
		return errAdmissionQueueFull
	}
	w := &admissionWaiter{ready: make(chan struct{})}
	w.elem = a.queue.PushBack(w)
	a.mu.Unlock()

	timer := time.NewTimer(a.maxWait)
	defer timer.Stop()
	var err error
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = errAdmissionWaitedTooLong
	}
	a.mu.Lock()
	if w.granted {
		// Handed a slot as it gave up: pass it on.
		a.releaseLocked()
	} else {
		a.queue.Remove(w.elem)
	}
	a.mu.Unlock()
	return err
}

// release gives back a slot acquire returned: to the oldest waiter, if any.
func (a *admission) release() {
	a.mu.Lock()
	a.releaseLocked()
	a.mu.Unlock()
}

func (a *admission) releaseLocked() {
	front := a.queue.Front()
	if front == nil {
		a.running--
		return
	}
	w := a.queue.Remove(front).(*admissionWaiter)
	w.granted = true
	close(w.ready)
}

// state returns the operations executing and the requests waiting, for
// /metrics and tests.
func (a *admission) state() (running, queued int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.running, a.queue.Len()
}

// middleware admits GraphQL requests (queries and mutations, over GET and
// POST) through a; websocket upgrades, event streams (the Accept header
// graph.GuardRequests negotiated) and uploads pass untouched. A request not admitted
// is answered 503 with Retry-After: 1 and a GraphQL error of code
// SERVICE_UNAVAILABLE, retryable.
func (a *admission) middleware(next http.Handler) http.Handler {
	if a == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" || r.Header.Get("Accept") == graph.MediaEventStream || uploading(r) {
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

// uploading reports whether r is a multipart upload: its files are read
// while it executes, so a slow uploader would hold a slot for as long as
// it sends; uploads are signed in, rate-limited and bounded by
// UPLOAD_MAX_BYTES instead.
func uploading(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
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
