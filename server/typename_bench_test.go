package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"showcase/auth"
	"showcase/store"
	"showcase/store/payment"
	"showcase/store/storetest"
)

// cpuTime returns the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// BenchmarkTypename drives `{ __typename }` (POST /graphql, anonymous)
// through the API port's whole handler chain in-process, as the load
// benchmark's typename group sends it: answered from the shared response
// cache, and executed (Cache-Control: no-cache). Log lines go to a JSON
// handler over io.Discard, as the server's go to its buffered log. With
// -cpuprofile and -memprofile it shows the chain's per-request work apart
// from the network's.
func BenchmarkTypename(b *testing.B) {
	db := storetest.NewDB(b)
	api := benchAPI(b, db, testTokens(b), store.NewEventBuffer(db))
	body := []byte(`{"query":"{ __typename }"}`)
	for _, bc := range []struct {
		name    string
		noCache bool
	}{{"cached", false}, {"uncached", true}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			start := cpuTime()
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if bc.noCache {
					req.Header.Set("Cache-Control", "no-cache")
				}
				w := httptest.NewRecorder()
				api.ServeHTTP(w, req)
				if w.Code != http.StatusOK || w.Body.String() != `{"data":{"__typename":"Query"}}` {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
			// The process's CPU time (user and system, garbage collection
			// included) per request: on a shared, loaded machine it varies
			// far less than ns/op, which counts the waits for a core.
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// benchAPI returns the API handler of a server on db (tokens and events as
// newServer takes them) for the in-process benchmarks: rate limits out of
// the way, and log lines going to a JSON handler over io.Discard, as the
// server's go to its buffered log.
func benchAPI(b *testing.B, db *store.DB, tokens *auth.Tokens, events *store.EventBuffer) http.Handler {
	b.Helper()
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	b.Cleanup(func() { slog.SetDefault(prev) })
	cfg, err := parseConfig(nil, func(k string) string {
		return map[string]string{"RATE_LIMIT_RPS": "1000000000", "RATE_LIMIT_BURST": "1000000000"}[k]
	}, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	api, _ := newServer(cfg, db, tokens, payment.NewTestProvider(db.DB.DB), events, nil)
	return api
}
