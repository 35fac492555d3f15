package store

import (
	"fmt"
	"testing"
	"time"
)

// With catch-ups far more often than once a second (FEED_INDEX_MAX_LAG=0
// catches up before every ranking), the history still reaches a snapshot
// older than the retention, so feed_changes is pruned: 15 minutes at five
// catch-ups a second.
func TestFeedIndexHistoryReachesThePruneHorizon(t *testing.T) {
	x := newFeedIndex()
	t0 := time.Now()
	for i := 0; i < 5*60*15; i++ {
		now := t0.Add(time.Duration(i) * 200 * time.Millisecond)
		x.remember(fmt.Sprint(i), now)
		if now.Sub(x.history[0].at) >= FeedChangesRetention {
			if len(x.history) > int(FeedChangesRetention/time.Second)+2 {
				t.Fatalf("history holds %d snapshots, want about one a second", len(x.history))
			}
			return
		}
	}
	t.Fatalf("15 minutes of catch-ups at 5/s: no snapshot %v old (the oldest is %v old)",
		FeedChangesRetention, t0.Add(15*time.Minute).Sub(x.history[0].at))
}
