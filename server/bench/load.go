package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// request builds one request of a scenario; i numbers requests.
type request func(i int64) (*http.Request, error)

// result is what one load run measured.
type result struct {
	Name       string             `json:"name"`
	Mode       string             `json:"mode"` // closed, or open at a rate
	Rate       float64            `json:"targetRate,omitempty"`
	Clients    int                `json:"clients,omitempty"`
	Requests   int64              `json:"requests"`
	Errors     int64              `json:"errors"`
	Throughput float64            `json:"throughput"`
	ErrorRate  float64            `json:"errorRate"`
	P50, P90   float64            `json:"-"`
	P99, P999  float64            `json:"-"`
	Max        float64            `json:"-"`
	Latency    map[string]float64 `json:"latencyMs"`
	CPU        *cpuUse            `json:"cpuCores,omitempty"`
	Started    time.Time          `json:"started"`
	Ended      time.Time          `json:"ended"`
	// ErrorKinds counts the errors by what went wrong.
	ErrorKinds map[string]int64 `json:"errorKinds,omitempty"`
}

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxConnsPerHost: 0}, Timeout: 30 * time.Second}

// bodies are reused reply buffers: the load generator shares the machine
// with the server, so its own cost per request is kept small.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

var errorsKey = []byte(`"errors":`)

// send runs one request and says what went wrong, or "" when nothing did.
// A reply other than 200, or a 200 that carries GraphQL errors, is an
// error; an "errors" key anywhere in the reply counts, which may over-count
// but never misses one, without decoding every reply.
func send(req *http.Request) (failure string) {
	res, err := client.Do(req)
	if err != nil {
		return "transport: " + transportFailure(err)
	}
	defer res.Body.Close()
	buf := bodies.Get().(*bytes.Buffer)
	defer bodies.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(res.Body); err != nil {
		return "transport: " + transportFailure(err)
	}
	switch {
	case res.StatusCode != http.StatusOK:
		return fmt.Sprintf("HTTP %d", res.StatusCode)
	case bytes.Contains(buf.Bytes(), errorsKey):
		return "GraphQL errors"
	}
	return ""
}

// transportFailure names a failed exchange without its addresses, so that
// failures of one kind are counted together.
func transportFailure(err error) string {
	var errno syscall.Errno
	switch {
	case errors.As(err, &errno):
		return errno.Error()
	case errors.Is(err, context.DeadlineExceeded), os.IsTimeout(err):
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	}
	return "other"
}

// dropped is the failure of a request an open-loop run did not send,
// because maxWaiting requests were already waiting for a connection.
const dropped = "not sent: too many waiting"

type recorder struct {
	mu        sync.Mutex
	latencies []time.Duration
	kinds     map[string]int64
	errors    atomic.Int64
	n         atomic.Int64
}

// add records one request's latency and its failure ("" for success).
func (r *recorder) add(d time.Duration, failure string) {
	r.n.Add(1)
	if failure != "" {
		r.errors.Add(1)
	}
	r.mu.Lock()
	r.latencies = append(r.latencies, d)
	if failure != "" {
		if r.kinds == nil {
			r.kinds = map[string]int64{}
		}
		r.kinds[failure]++
	}
	r.mu.Unlock()
}

func (r *recorder) result(name, mode string, start time.Time) result {
	end := time.Now()
	elapsed := end.Sub(start)
	sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
	pct := func(p float64) float64 {
		if len(r.latencies) == 0 {
			return 0
		}
		return float64(r.latencies[int(p*float64(len(r.latencies)-1))].Microseconds()) / 1000
	}
	res := result{Name: name, Mode: mode, Requests: r.n.Load(), Errors: r.errors.Load(),
		Throughput: float64(r.n.Load()-r.errors.Load()) / elapsed.Seconds(), ErrorKinds: r.kinds, Started: start, Ended: end}
	if res.Requests > 0 {
		res.ErrorRate = float64(res.Errors) / float64(res.Requests)
	}
	res.P50, res.P90, res.P99, res.P999, res.Max = pct(0.5), pct(0.9), pct(0.99), pct(0.999), pct(1)
	res.Latency = map[string]float64{"p50": res.P50, "p90": res.P90, "p99": res.P99, "p99.9": res.P999, "max": res.Max}
	return res
}

// closedLoop runs clients that each send the next request when the last
// answered: the most the system can do.
func closedLoop(ctx context.Context, name string, clients int, d time.Duration, next request) result {
	return closedLoopOf(ctx, name, clients, d, func() (loopClient, func(), error) {
		return func(i int64) (time.Duration, string) {
			req, err := next(i)
			if err != nil {
				return 0, "request: " + err.Error()
			}
			t := time.Now()
			failure := send(req)
			return time.Since(t), failure
		}, func() {}, nil
	})
}

// A loopClient sends request number i and returns its latency and its failure
// ("" for success); a request it could not build has latency 0.
type loopClient func(i int64) (time.Duration, string)

// closedLoopOf runs clients, each made by newClient (which also returns
// what closes it), that each send the next request when the last answered;
// a client that cannot be made records one failure and sends nothing.
func closedLoopOf(ctx context.Context, name string, clients int, d time.Duration, newClient func() (loopClient, func(), error)) result {
	var rec recorder
	var counter atomic.Int64
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	cpu := startCPU()
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			c, done, err := newClient()
			if err != nil {
				rec.add(0, "request: "+err.Error())
				return
			}
			defer done()
			for ctx.Err() == nil {
				latency, failure := c(counter.Add(1))
				if ctx.Err() == nil {
					rec.add(latency, failure)
				}
			}
		})
	}
	wg.Wait()
	r := rec.result(name, "closed", start)
	r.Clients, r.CPU = clients, cpu.stop()
	return r
}

// An open-loop run sends over openLoopConns connections, as wrk2 does, so
// that it costs the generator and the server what the closed loop costs
// them per request; requests wait for a free connection in a queue of at
// most maxWaiting, and their latency counts from when they were due.
const (
	openLoopConns = 64
	maxWaiting    = 2000
)

// openLoop sends at a fixed rate whatever the replies do, and measures each
// latency from when the request was due, so a stall is not hidden
// (no coordinated omission).
func openLoop(ctx context.Context, name string, rate float64, d time.Duration, next request) result {
	type job struct {
		i   int64
		due time.Time
	}
	var rec recorder
	interval := time.Duration(float64(time.Second) / rate)
	total := int64(d.Seconds() * rate)
	queue := make(chan job, maxWaiting)
	var wg sync.WaitGroup
	for range openLoopConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				req, err := next(j.i)
				if err != nil {
					rec.add(time.Since(j.due), "request: "+err.Error())
					continue
				}
				rec.add(time.Since(j.due), send(req))
			}
		}()
	}
	cpu := startCPU()
	start := time.Now()
	for i := int64(0); i < total && ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		select {
		case queue <- job{i, due}:
		default:
			rec.add(time.Since(due), dropped)
		}
	}
	close(queue)
	wg.Wait()
	r := rec.result(name, "open", start)
	r.Rate, r.CPU = rate, cpu.stop()
	return r
}

// graphqlRequest builds a POST /graphql.
func graphqlRequest(base, token, query string, vars map[string]any) (*http.Request, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return postBody(base, token, body)
}

// sameRequest builds the same POST /graphql every time, encoding it once:
// the generator's own work per request is kept small.
func sameRequest(base, token, query string) request {
	body, _ := json.Marshal(map[string]any{"query": query})
	return func(int64) (*http.Request, error) { return postBody(base, token, body) }
}

func postBody(base, token string, body []byte) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req, nil
}
