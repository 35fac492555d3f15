package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
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
}

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxConnsPerHost: 0}, Timeout: 30 * time.Second}

// bodies are reused reply buffers: the load generator shares the machine
// with the server, so its own cost per request is kept small.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

var errorsKey = []byte(`"errors":`)

// send runs one request. A reply other than 200, or a 200 that carries
// GraphQL errors, is an error; an "errors" key anywhere in the reply counts,
// which may over-count but never misses one, without decoding every reply.
func send(req *http.Request) bool {
	res, err := client.Do(req)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	buf := bodies.Get().(*bytes.Buffer)
	defer bodies.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(res.Body); err != nil {
		return false
	}
	return res.StatusCode == http.StatusOK && !bytes.Contains(buf.Bytes(), errorsKey)
}

type recorder struct {
	mu        sync.Mutex
	latencies []time.Duration
	errors    atomic.Int64
	n         atomic.Int64
}

func (r *recorder) add(d time.Duration, ok bool) {
	r.n.Add(1)
	if !ok {
		r.errors.Add(1)
	}
	r.mu.Lock()
	r.latencies = append(r.latencies, d)
	r.mu.Unlock()
}

func (r *recorder) result(name, mode string, elapsed time.Duration) result {
	sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
	pct := func(p float64) float64 {
		if len(r.latencies) == 0 {
			return 0
		}
		return float64(r.latencies[int(p*float64(len(r.latencies)-1))].Microseconds()) / 1000
	}
	res := result{Name: name, Mode: mode, Requests: r.n.Load(), Errors: r.errors.Load(),
		Throughput: float64(r.n.Load()-r.errors.Load()) / elapsed.Seconds()}
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
	var rec recorder
	var counter atomic.Int64
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, err := next(counter.Add(1))
				if err != nil {
					rec.add(0, false)
					continue
				}
				t := time.Now()
				ok := send(req)
				if ctx.Err() == nil {
					rec.add(time.Since(t), ok)
				}
			}
		}()
	}
	wg.Wait()
	r := rec.result(name, "closed", time.Since(start))
	r.Clients = clients
	return r
}

// maxInFlight bounds an open-loop run that the server cannot keep up with.
const maxInFlight = 2000

// openLoop sends at a fixed rate whatever the replies do, and measures each
// latency from when the request was due, so a stall is not hidden
// (no coordinated omission).
func openLoop(ctx context.Context, name string, rate float64, d time.Duration, next request) result {
	var rec recorder
	interval := time.Duration(float64(time.Second) / rate)
	total := int64(d.Seconds() * rate)
	start := time.Now()
	var wg sync.WaitGroup
	var inFlight atomic.Int64
	for i := int64(0); i < total && ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		if inFlight.Load() >= maxInFlight {
			rec.add(time.Since(due), false)
			continue
		}
		inFlight.Add(1)
		wg.Add(1)
		go func(i int64, due time.Time) {
			defer wg.Done()
			defer inFlight.Add(-1)
			req, err := next(i)
			ok := err == nil && send(req)
			rec.add(time.Since(due), ok)
		}(i, due)
	}
	wg.Wait()
	r := rec.result(name, "open", time.Since(start))
	r.Rate = rate
	return r
}

// graphqlRequest builds a POST /graphql.
func graphqlRequest(base, token, query string, vars map[string]any) (*http.Request, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
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
