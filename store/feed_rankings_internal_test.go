package store

import (
	"context"
	"testing"
	"time"
)

// An arrangement is reused within the TTL only, never after a write to its
// profile, and one ranked before a write is not kept.
func TestFeedRankingsReuseRules(t *testing.T) {
	var none *FeedRankings
	none.Forget("user:1") // a nil cache reuses nothing and forgets safely
	f := NewFeedRankings(2 * time.Second)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const key, profile = "k", "user:1"
	if _, _, ok := get(f, key, profile, t0); ok {
		t.Fatal("an empty cache reused something")
	}
	_, gen, _ := get(f, key, profile, t0)
	f.put(key, profile, gen, feedRanking{order: []int64{3, 2, 1}, walk: 7, at: t0})
	if kept, _, ok := get(f, key, profile, t0.Add(time.Second)); !ok || len(kept.order) != 3 || kept.walk != 7 {
		t.Fatalf("within the TTL: %+v, %v", kept, ok)
	}
	if _, _, ok := get(f, key, profile, t0.Add(2*time.Second)); ok {
		t.Fatal("reused at the TTL")
	}
	f.Forget(profile)
	if _, _, ok := get(f, key, profile, t0.Add(time.Second)); ok {
		t.Fatal("reused after a write to its profile")
	}
	// Ranked while a write happened: not kept.
	_, gen, _ = get(f, key, profile, t0)
	f.Forget(profile)
	f.put(key, profile, gen, feedRanking{order: []int64{1}, walk: 1, at: t0})
	if _, _, ok := get(f, key, profile, t0); ok {
		t.Fatal("kept an arrangement ranked before a write")
	}
	// Another profile's write leaves it alone.
	_, gen, _ = get(f, key, profile, t0)
	f.put(key, profile, gen, feedRanking{order: []int64{1}, walk: 1, at: t0})
	f.Forget("user:2")
	if _, _, ok := get(f, key, profile, t0); !ok {
		t.Fatal("another profile's write dropped it")
	}
	f.forgetAll()
	if _, _, ok := get(f, key, profile, t0); ok {
		t.Fatal("reused after forgetting everything")
	}
}

// get is FeedRankings.get for a caller that, on a miss, ranks nothing.
func get(f *FeedRankings, key, profile string, now time.Time) (feedRanking, uint64, bool) {
	kept, gen, ok, done := f.get(context.Background(), key, profile, now)
	done()
	return kept, gen, ok
}

// A first page that finds another ranking for the same key waits for its
// arrangement instead of ranking again.
func TestFeedRankingsRankOnceForConcurrentFirstPages(t *testing.T) {
	f := NewFeedRankings(time.Minute)
	now := time.Now()
	_, gen, ok, done := f.get(context.Background(), "k", "", now)
	if ok {
		t.Fatal("an empty cache reused something")
	}
	got := make(chan bool)
	go func() {
		_, _, ok, done := f.get(context.Background(), "k", "", now)
		done()
		got <- ok
	}()
	f.put("k", "", gen, feedRanking{order: []int64{1, 2}, walk: 1, at: now})
	done()
	if !<-got {
		t.Fatal("the waiting first page ranked again instead of taking the arrangement")
	}
	if hits, misses := f.Stats(); hits != 1 || misses != 1 {
		t.Fatalf("%d hits, %d misses; want 1 and 1", hits, misses)
	}
}

func TestProfilePayloadsFitNotifications(t *testing.T) {
	var profiles []string
	for i := 0; i < 2000; i++ {
		profiles = append(profiles, UserProfile(int64(1_000_000+i)))
	}
	payloads := profilePayloads(profiles)
	n := 0
	for _, p := range payloads {
		if len(p) > maxNotifyPayload {
			t.Fatalf("a payload of %d bytes", len(p))
		}
		for range splitLines(p) {
			n++
		}
	}
	if n != len(profiles) || len(payloads) < 2 {
		t.Fatalf("%d profiles in %d payloads, want %d", n, len(payloads), len(profiles))
	}
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
