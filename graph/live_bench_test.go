package graph_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"
)

// BenchmarkLiveFanout measures, with 2,000 websocket subscribers on one live
// session, the time from a comment being posted until each subscriber has it:
// go test ./graph -run '^$' -bench LiveFanout -benchtime 20x
func BenchmarkLiveFanout(b *testing.B) {
	const subscribers = 2000
	a := newTestAPI(b)
	w := newLiveWorld(a)
	srv, hub := a.liveServer()
	a.ok(w.f.sellerToken, `mutation($id: ID!) { startLiveSession(id: $id) { userErrors { code } } }`, map[string]any{"id": w.session}, nil)
	commenter, _ := a.user("commenter", false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var mu sync.Mutex
	received := map[string][]time.Time{} // comment body -> receipt times
	var ready sync.WaitGroup
	for i := 0; i < subscribers; i++ {
		c, err := dialLive(ctx, srv, "")
		if err != nil {
			b.Fatalf("subscriber %d: %v", i, err)
		}
		if err := c.subscribe("1", w.session); err != nil {
			b.Fatal(err)
		}
		ready.Add(1)
		go func() {
			defer ready.Done()
			for {
				ev, err := c.next(false)
				if err != nil {
					return
				}
				if comment, ok := ev["comment"].(map[string]any); ok {
					mu.Lock()
					body := comment["body"].(string)
					received[body] = append(received[body], time.Now())
					mu.Unlock()
				}
			}
		}()
	}
	for hub.Viewers(mustID(nil, w.session)) < subscribers {
		time.Sleep(50 * time.Millisecond)
	}
	var latencies []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body := fmt.Sprintf("comment %d", i)
		start := time.Now()
		a.ok(commenter, `mutation($id: ID!, $b: String!) { commentOnContent(contentId: $id, body: $b) { comment { id } } }`,
			map[string]any{"id": w.session, "b": body}, nil)
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			n := len(received[body])
			mu.Unlock()
			if n == subscribers {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("comment %d reached %d of %d subscribers", i, n, subscribers)
			}
			time.Sleep(time.Millisecond)
		}
		mu.Lock()
		for _, at := range received[body] {
			latencies = append(latencies, at.Sub(start))
		}
		mu.Unlock()
	}
	b.StopTimer()
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
	cancel()
	srv.CloseClientConnections()
}
