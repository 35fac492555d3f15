package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// feedChangesPruneBatch is how many change-log rows one statement deletes:
// a backlog (a long outage, or weeks of a deployment whose processes all
// ranked with another FEED_POLICY) is pruned in statements well within the
// pool's statement timeout instead of one that never finishes.
const feedChangesPruneBatch = 10000

// RunFeedChangesPrune prunes the feed index's change log (feed_changes)
// once a minute until ctx ends: the rows below the xmin of the newest
// snapshot it took at least FeedChangesRetention ago, so that a catch-up
// within the retention still finds every row it needs, and an index whose
// last catch-up is older reloads in full (feed_changes_pruned). Every API
// process runs it, whatever its FEED_POLICY: the triggers log every change
// whether or not a process holds a feed index, and with none holding one
// (FEED_POLICY popular or tags) nothing else would delete the rows. It
// works apart from catch-ups, so a prune never delays one. A prune that
// fails (the database away) is logged and tried again the next minute;
// what it left is deleted by the next.
func (db *DB) RunFeedChangesPrune(ctx context.Context) {
	var p feedChangesPruner
	step := func() {
		if err := p.step(ctx, db, time.Now()); err != nil && ctx.Err() == nil {
			slog.Warn("feed changes prune failed; will retry", "err", err)
		}
	}
	step()
	every(ctx, time.Minute, step)
}

// feedChangesPruner is the state of RunFeedChangesPrune: the snapshots it
// took within the retention.
type feedChangesPruner struct {
	history []snapshotAt
}

type snapshotAt struct {
	xmin string
	at   time.Time
}

// step notes the current snapshot's xmin as taken at now, then prunes below
// the newest one noted at least the retention before now.
func (p *feedChangesPruner) step(ctx context.Context, db *DB, now time.Time) error {
	var xmin string
	if err := db.GetContext(ctx, &xmin, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text`); err != nil {
		return fmt.Errorf("feed changes prune: %w", err)
	}
	p.history = append(p.history, snapshotAt{xmin: xmin, at: now})
	horizon := ""
	keep := p.history[:0]
	for _, h := range p.history {
		if now.Sub(h.at) >= FeedChangesRetention {
			horizon = h.xmin
		} else {
			keep = append(keep, h)
		}
	}
	p.history = keep
	if horizon == "" {
		return nil
	}
	return pruneFeedChanges(ctx, db, horizon)
}

// pruneFeedChanges deletes the log's rows below horizon (an xid8). The mark
// goes first, in a transaction of its own: a catch-up whose snapshot sees
// it and whose last snapshot is older reloads in full, and one whose
// snapshot does not see it does not see the deletions that follow either.
//
// Each statement deletes the rows it picked, at most a batch; it is the
// last when it picked fewer. How many it deleted does not tell: other
// processes prune the same log at the same time, and the rows of a batch
// another one deleted first are skipped (every row picked is gone after
// the statement either way, so the loop ends).
func pruneFeedChanges(ctx context.Context, db *DB, horizon string) error {
	if _, err := db.ExecContext(ctx, `UPDATE feed_changes_pruned SET below = $1::xid8 WHERE below < $1::xid8`, horizon); err != nil {
		return fmt.Errorf("feed changes prune: %w", err)
	}
	for {
		var picked int
		err := db.GetContext(ctx, &picked, `WITH picked AS MATERIALIZED (SELECT ctid FROM feed_changes WHERE txid < $1::xid8 LIMIT $2),
			gone AS (DELETE FROM feed_changes WHERE ctid = ANY(ARRAY(SELECT ctid FROM picked)))
			SELECT count(*) FROM picked`, horizon, feedChangesPruneBatch)
		if err != nil {
			return fmt.Errorf("feed changes prune: %w", err)
		}
		if picked < feedChangesPruneBatch {
			return nil
		}
	}
}
