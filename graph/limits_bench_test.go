package graph_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// BenchmarkDocumentSize compares what big documents cost through the real
// handler with what a tiny one costs, as a ratio (x-tiny): documents the
// merge limit refuses before validation should cost about as little as
// "{ __typename }", and the biggest accepted ones stay within a small
// multiple. Every request's document is new (a numbered comment), so the
// parsed-document caches are missed as a stranger's would be.
//
//	go test ./graph -run '^$' -bench DocumentSize
func BenchmarkDocumentSize(b *testing.B) {
	a := newTestAPI(b)
	const tiny = "{ __typename }"
	docs := []struct{ name, query, code string }{
		{"Typename3000Refused", "{ " + strings.Repeat("__typename ", 3000) + "}", "COMPLEXITY_LIMIT_EXCEEDED"},
		{"Typename4990Refused", "{ " + strings.Repeat("__typename ", 4990) + "}", "COMPLEXITY_LIMIT_EXCEEDED"},
		{"Nested60x60Refused", "{ " + strings.Repeat("shops { edges { node { "+strings.Repeat("id ", 60)+"} } } ", 60) + "}", "COMPLEXITY_LIMIT_EXCEEDED"},
		{"Typename60Accepted", "{ " + strings.Repeat("__typename ", 60) + "}", ""},
	}
	run := func(b *testing.B, query, code string, i int) time.Duration {
		start := time.Now()
		resp := a.post("", fmt.Sprintf("%s # %d", query, i), nil)
		d := time.Since(start)
		if resp.code() != code {
			b.Fatalf("code %q, want %q: %+v", resp.code(), code, resp.Errors)
		}
		return d
	}
	for _, doc := range docs {
		b.Run(doc.name, func(b *testing.B) {
			var small, big time.Duration
			for i := 0; i < b.N; i++ {
				small += run(b, tiny, "", i)
				big += run(b, doc.query, doc.code, i)
			}
			b.ReportMetric(float64(big)/float64(small), "x-tiny")
			b.ReportMetric(float64(big.Microseconds())/float64(b.N), "µs/doc")
		})
	}
}
