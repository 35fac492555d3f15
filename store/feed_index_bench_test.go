package store_test

import (
	"runtime"
	"testing"

	"showcase/store"
)

// BenchmarkFeedIndexMemory reports the feed index's heap per content
// (bytes/content), over 200,000 synthetic contents.
func BenchmarkFeedIndexMemory(b *testing.B) {
	const n = 200_000
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		x := store.FeedIndexApplySynthetic(n)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/content")
		runtime.KeepAlive(x)
	}
}
