package store

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"
)

// A kept viewer state answers until the viewer TTL has passed or the
// profile learns a write; a state read before a write is not kept; the
// bookkeeping of writes keeps a write as long as a state read before it
// could still be kept (the longer of the two TTLs).
func TestKeptViewerStateBookkeeping(t *testing.T) {
	f := NewFeedCaches(time.Second, time.Minute)
	now := time.Now()
	v := &forYouViewer{Seed: 7}
	_, gen, ok := f.state("k", "user:1", now)
	if ok {
		t.Fatal("an empty cache kept a state")
	}
	f.putState("k", "user:1", gen, v, now)
	if got, _, ok := f.state("k", "user:1", now.Add(59*time.Second)); !ok || got != v {
		t.Fatal("the state was not kept within the TTL")
	}
	if _, _, ok := f.state("k", "user:1", now.Add(time.Minute)); ok {
		t.Fatal("the state was kept past the TTL")
	}
	// A read under way when a write lands is not kept.
	_, gen, _ = f.state("k2", "user:2", now)
	f.Forget("user:2")
	f.putState("k2", "user:2", gen, v, now)
	if _, _, ok := f.state("k2", "user:2", now); ok {
		t.Fatal("a state read before the profile's write was kept")
	}
	// A write forgets the kept state; another profile's does not.
	f.Forget("user:3")
	if _, _, ok := f.state("k", "user:1", now); !ok {
		t.Fatal("another profile's write forgot the state")
	}
	f.Forget("user:1")
	if _, _, ok := f.state("k", "user:1", now); ok {
		t.Fatal("the profile's write did not forget its state")
	}
	// Forget prunes the writes older than the longer TTL only: a state
	// kept at generation 0 (before the write) must not come back once the
	// ranking TTL (1 s) has passed.
	f2 := NewFeedCaches(time.Millisecond, time.Hour)
	_, gen, _ = f2.state("k", "user:1", now)
	f2.putState("k", "user:1", gen, v, time.Now())
	f2.Forget("user:1")
	time.Sleep(5 * time.Millisecond)
	for i := range 4 * maxFeedRankings {
		f2.Forget(UserProfile(int64(1000 + i)))
	}
	if _, _, ok := f2.state("k", "user:1", time.Now()); ok {
		t.Fatal("a state read before a write came back once the write's bookkeeping was pruned")
	}
	// Losing the notification connection forgets every state.
	f.putState("k", "user:1", f.gens["user:1"].gen, v, now)
	f.forgetAll()
	if _, _, ok := f.state("k", "user:1", now); ok {
		t.Fatal("forgetAll kept a state")
	}
	// Without a viewer TTL nothing is kept.
	f3 := NewFeedCaches(time.Second, 0)
	f3.putState("k", "user:1", 0, v, now)
	if _, _, ok := f3.state("k", "user:1", now); ok {
		t.Fatal("a state kept with FEED_VIEWER_TTL=0")
	}
	// Without a ranking TTL no arrangement is reused.
	f4 := NewFeedCaches(0, time.Minute)
	_, g, _, done := f4.get(context.Background(), "r", "user:1", now)
	f4.put("r", "user:1", g, feedRanking{order: []int64{1}, walk: 1, at: now})
	done()
	if _, _, ok, done := f4.get(context.Background(), "r", "user:1", now); ok {
		t.Fatal("an arrangement reused with FEED_RANKING_TTL=0")
	} else {
		done()
	}
}

// More profiles writing within the TTLs than the write bookkeeping keeps
// (a flood of device ids) keeps it bounded: Forget scans it only when it is
// full, each scan frees at least half of it (forgetting everything kept when
// the writes are all recent), and nothing read before a forgotten write
// answers afterwards.
func TestWriteBookkeepingBoundedUnderAFloodOfProfiles(t *testing.T) {
	f := NewFeedCaches(time.Hour, time.Hour)
	now := time.Now()
	v := &forYouViewer{Seed: 7}
	_, gen, _ := f.state("k", "user:1", now)
	f.putState("k", "user:1", gen, v, now)
	const writes = 20 * maxFeedRankings
	for i := range writes {
		f.Forget(DeviceProfile(fmt.Sprintf("flood-%d", i)))
		if len(f.gens) > 4*maxFeedRankings {
			t.Fatalf("after %d writes the bookkeeping holds %d profiles (bound %d)", i+1, len(f.gens), 4*maxFeedRankings)
		}
	}
	// Each scan frees at least 2*maxFeedRankings entries, so there are at
	// most writes/(2*maxFeedRankings) of them (one per Forget before: 16*maxFeedRankings).
	if f.prunes > writes/(2*maxFeedRankings) {
		t.Fatalf("%d writes scanned the bookkeeping %d times (at most %d)", writes, f.prunes, writes/(2*maxFeedRankings))
	}
	if _, _, ok := f.state("k", "user:1", now); ok {
		t.Fatal("a state kept before the bookkeeping was cleared still answers")
	}
	// After the flood, states are kept and forgotten as before.
	_, gen, _ = f.state("k", "user:1", now)
	f.putState("k", "user:1", gen, v, now)
	if _, _, ok := f.state("k", "user:1", now); !ok {
		t.Fatal("a state read after the flood was not kept")
	}
	f.Forget("user:1")
	if _, _, ok := f.state("k", "user:1", now); ok {
		t.Fatal("a write after the flood did not forget the state")
	}
}

// A kept walk row answers only its viewer, within keptWalkTTL, with the
// ids after the skip as the statement's ids[skip+1:] reads them.
func TestKeptWalkRows(t *testing.T) {
	f := NewFeedRankings(time.Second)
	now := time.Now()
	f.putWalk(9, 1, []int64{10, 20, 30}, now)
	for _, c := range []struct {
		skip int64
		want []int64
	}{{0, []int64{10, 20, 30}}, {2, []int64{30}}, {3, []int64{}}, {100, []int64{}}, {math.MaxInt32, []int64{}}} {
		got, ok := f.walkTail(9, 1, c.skip, now)
		if !ok || len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
			t.Errorf("skip %d: %v, %v; want %v", c.skip, got, ok, c.want)
		}
	}
	if _, ok := f.walkTail(9, 2, 0, now); ok {
		t.Error("another viewer's walk answered")
	}
	if _, ok := f.walkTail(8, 1, 0, now); ok {
		t.Error("a walk this process did not store answered")
	}
	if _, ok := f.walkTail(9, 1, 0, now.Add(keptWalkTTL)); ok {
		t.Error("a walk row answered past keptWalkTTL")
	}
	if keptWalkTTL >= ListWalkTTL {
		t.Error("a kept walk row could outlive the stored one")
	}
	// Losing the notification connection (PostgreSQL restarted or crashed,
	// which empties list_walks) forgets the kept walk rows too, and the
	// cache keeps walks afterwards.
	f.forgetAll()
	if _, ok := f.walkTail(9, 1, 0, now); ok {
		t.Error("forgetAll kept a walk row")
	}
	f.putWalk(7, 1, []int64{1}, now)
	if _, ok := f.walkTail(7, 1, 0, now); !ok {
		t.Error("no walk kept after forgetAll")
	}
	var none *FeedRankings
	none.putWalk(1, 1, []int64{1}, now)
	if _, ok := none.walkTail(1, 1, 0, now); ok {
		t.Error("a nil cache kept a walk")
	}
}

// While the listening connection is lost (PostgreSQL restarted: the pool
// reaches it again up to the listener's 10 s backoff before the listener
// does, and writes other processes announce meanwhile are not heard),
// nothing read is kept: not a viewer's state, an arrangement or a walk row;
// and a read begun while it was lost is not kept once it is back, since a
// write announced during that read went unheard. Before, a state read in
// that gap was kept for FEED_VIEWER_TTL over the viewer's own follow made
// through another process.
func TestNothingKeptWhileNotListening(t *testing.T) {
	f := NewFeedCaches(time.Minute, time.Minute)
	now := time.Now()
	v := &forYouViewer{Seed: 7}
	_, gen, _ := f.state("k", "user:1", now)
	f.putState("k", "user:1", gen, v, now)
	if _, _, ok := f.state("k", "user:1", now); !ok {
		t.Fatal("the state was not kept while listening")
	}
	f.listening(false)
	if _, _, ok := f.state("k", "user:1", now); ok {
		t.Fatal("a state kept before the listening connection was lost is still served")
	}
	_, gen, _ = f.state("k", "user:1", now)
	f.putState("k", "user:1", gen, v, now)
	if _, _, ok := f.state("k", "user:1", now); ok {
		t.Fatal("a state read while not listening was kept (a write announced meanwhile is not heard)")
	}
	_, rgen, _, done := f.get(context.Background(), "r", "user:1", now)
	f.put("r", "user:1", rgen, feedRanking{order: []int64{1}, walk: 9, at: now})
	done()
	if _, _, ok, done := f.get(context.Background(), "r", "user:1", now); ok {
		t.Fatal("an arrangement ranked while not listening was kept")
	} else {
		done()
	}
	f.putWalk(9, 1, []int64{1, 2, 3}, now)
	if _, ok := f.walkTail(9, 1, 0, now); ok {
		t.Fatal("a walk row stored while not listening was kept (a crash meanwhile would not be heard)")
	}
	// A read begun before the connection is back, kept after it.
	_, gen, _ = f.state("k", "user:1", now)
	f.listening(true)
	f.putState("k", "user:1", gen, v, now)
	if _, _, ok := f.state("k", "user:1", now); ok {
		t.Fatal("a state read before the listening connection was back was kept after it")
	}
	_, gen, _ = f.state("k", "user:1", now)
	f.putState("k", "user:1", gen, v, now)
	if _, _, ok := f.state("k", "user:1", now); !ok {
		t.Fatal("a state read once listening again was not kept")
	}
}
