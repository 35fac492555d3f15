package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"showcase/graph"
)

// TestResponseCache: anonymous queries are shared for the TTL, then
// refreshed; signed-in callers, mutations and no-cache requests always run.
func TestResponseCache(t *testing.T) {
	const ttl = 300 * time.Millisecond
	ops := &operationCounter{}
	a := newTestAPICached(t, ttl, func(r *graph.Resolver) { r.Observer = ops })
	f := a.fixture("cached")
	const count = `{ products(first: 5) { edges { node { title } } } }`

	anonymous := func(query string, vars map[string]any, header ...string) (gqlResponse, int64) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp := a.serve(req)
		return resp, a.statements.Load()
	}

	first, ran := anonymous(count, nil)
	if ran == 0 || first.Header.Get("Age") != "" || strings.Count(string(first.Data), "title") != 1 {
		t.Fatalf("first request: %d statements, Age %q, %s %+v", ran, first.Header.Get("Age"), first.Data, first.Errors)
	}
	before := ops.count.Load()
	second, ran := anonymous(count, nil)
	if ops.count.Load() != before+1 {
		t.Errorf("an answer from the cache was not counted as an operation")
	}
	if ran != 0 || second.Header.Get("Age") == "" || string(second.Data) != string(first.Data) {
		t.Fatalf("repeat within the TTL: %d statements, Age %q, %s", ran, second.Header.Get("Age"), second.Data)
	}
	if ct := second.Header.Get("Content-Type"); ct != first.Header.Get("Content-Type") || ct == "" {
		t.Errorf("cached Content-Type %q, first %q", ct, first.Header.Get("Content-Type"))
	}

	t.Run("NoCacheRuns", func(t *testing.T) {
		if _, ran := anonymous(count, nil, "Cache-Control", "no-cache"); ran == 0 {
			t.Error("a no-cache request was answered from the cache")
		}
	})
	t.Run("SignedInRuns", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			if resp := a.post(f.sellerToken, count, nil); resp.Header.Get("Age") != "" || len(resp.Errors) > 0 {
				t.Fatalf("signed-in request %d: Age %q, errors %+v", i, resp.Header.Get("Age"), resp.Errors)
			}
		}
	})
	t.Run("VariablesAreKeys", func(t *testing.T) {
		const one = `query($first: Int) { products(first: $first) { edges { node { title } } } }`
		a.product(f.sellerToken, f.shopID, "second", nil)
		small, _ := anonymous(one, map[string]any{"first": 1})
		big, _ := anonymous(one, map[string]any{"first": 2})
		if strings.Count(string(small.Data), "title") != 1 || strings.Count(string(big.Data), "title") != 2 {
			t.Errorf("first 1: %s; first 2: %s", small.Data, big.Data)
		}
	})
	t.Run("MutationsRun", func(t *testing.T) {
		const signUp = `mutation($e: String!) { signUp(input: {email: $e, password: "long enough password", handle: "cachebuyer", displayName: "Cache Buyer"}) { token userErrors { code } } }`
		vars := map[string]any{"e": "cache@example.com"}
		created, _ := anonymous(signUp, vars)
		again, _ := anonymous(signUp, vars)
		if !strings.Contains(string(created.Data), `"userErrors":[]`) || strings.Contains(string(again.Data), `"userErrors":[]`) {
			t.Errorf("the second sign-up must run and be refused: %s then %s", created.Data, again.Data)
		}
	})

	// A product added after the first answer shows once the TTL has passed.
	time.Sleep(ttl + 50*time.Millisecond)
	fresh, ran := anonymous(count, nil)
	if ran == 0 || strings.Count(string(fresh.Data), "title") != 2 {
		t.Fatalf("after the TTL: %d statements, %s", ran, fresh.Data)
	}
	if cached, ran := anonymous(count, nil); ran != 0 || string(cached.Data) != string(fresh.Data) {
		t.Fatalf("the refreshed answer is not shared: %d statements, %s", ran, cached.Data)
	}
}

// TestResponseCacheExecutesOnceForConcurrentCallers: callers arriving
// together at a page nobody has asked for yet get one execution's answer.
func TestResponseCacheExecutesOnceForConcurrentCallers(t *testing.T) {
	a := newTestAPICached(t, time.Minute, countingStatements)
	f := a.fixture("together")
	a.product(f.sellerToken, f.shopID, "second", nil)
	const page = `{ products(first: 5) { edges { node { title variants { edges { node { sku } } } } } } }`
	request := func(header ...string) *http.Request {
		body, _ := json.Marshal(map[string]any{"query": page})
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		return req
	}
	a.serve(request("Cache-Control", "no-cache"))
	once := a.statements.Load()

	const callers = 32
	before := a.allStatements.Load()
	answers := make([]gqlResponse, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i], errs[i] = a.serveRaw(request())
		}()
	}
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || len(answers[i].Errors) > 0 || string(answers[i].Data) != string(answers[0].Data) {
			t.Fatalf("caller %d: %v %+v %s", i, errs[i], answers[i].Errors, answers[i].Data)
		}
	}
	if got := a.allStatements.Load() - before; got != once {
		t.Errorf("%d callers together ran %d SQL statements; one execution runs %d", callers, got, once)
	}
}

// operationCounter is an Observer that counts operations.
type operationCounter struct{ count atomic.Int64 }

func (o *operationCounter) ObserveOperation(string, string, time.Duration) { o.count.Add(1) }
func (o *operationCounter) ObserveRejection(string)                        {}

// TestResponseCacheErrorsNotShared: a failure of the moment (here, an
// internal error) is never served to the next caller.
func TestResponseCacheSkipsUncacheableErrors(t *testing.T) {
	a := newTestAPICached(t, time.Minute, func(*graph.Resolver) {})
	const q = `{ shops(first: 1) { totalCount } }`
	a.db.Close() // every statement now fails
	for i := 0; i < 2; i++ {
		resp := a.post("", q, nil)
		if len(resp.Errors) == 0 || resp.Header.Get("Age") != "" {
			t.Fatalf("request %d: Age %q, errors %+v", i, resp.Header.Get("Age"), resp.Errors)
		}
	}
}

// A request waiting for another's execution of the same page whose own time
// (RequestTimeout) runs out first gets a retryable SERVICE_UNAVAILABLE
// (HTTP 503, Retry-After), never an empty 200 a client would take for an
// answer; the execution it waited for still answers its own caller.
func TestResponseCacheWaiterTimesOutRetryably(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(started) })
		<-release
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":{"__typename":"Query"}}`))
	})
	c := graph.NewResponseCache(time.Minute, nil, nil)
	c.RequestTimeout = 200 * time.Millisecond
	h := c.Middleware(slow)
	request := func() *http.Request {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	leader := httptest.NewRecorder()
	leaderDone := make(chan struct{})
	go func() {
		defer close(leaderDone)
		h.ServeHTTP(leader, request())
	}()
	<-started
	waiter := httptest.NewRecorder()
	h.ServeHTTP(waiter, request())
	close(release)
	<-leaderDone
	var body struct {
		Errors []struct {
			Extensions map[string]any
		}
	}
	_ = json.Unmarshal(waiter.Body.Bytes(), &body)
	if waiter.Code != http.StatusServiceUnavailable || len(body.Errors) != 1 ||
		body.Errors[0].Extensions["code"] != "SERVICE_UNAVAILABLE" || body.Errors[0].Extensions["retryable"] != true ||
		waiter.Header().Get("Retry-After") == "" {
		t.Fatalf("a waiter out of time got %d %q (Retry-After %q), want 503 SERVICE_UNAVAILABLE retryable",
			waiter.Code, waiter.Body.String(), waiter.Header().Get("Retry-After"))
	}
	if leader.Code != http.StatusOK || !strings.Contains(leader.Body.String(), "Query") {
		t.Fatalf("the leader got %d %q", leader.Code, leader.Body.String())
	}
}
