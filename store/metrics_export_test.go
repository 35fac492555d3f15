package store

import (
	"context"
	"time"

	"github.com/lib/pq"
)

// SetClock makes c read the time from now (tests of the TTL).
func (c *FiguresCache) SetClock(now func() time.Time) { c.now = now }

// SetListening is what Listen does when its connection is lost (false) or
// back (true).
func (c *FiguresCache) SetListening(up bool) { c.listening(up) }

// SetClock makes c read the time from now (tests of the TTL).
func (c *CatalogCache) SetClock(now func() time.Time) { c.now = now }

// SetListening is what Listen does when its connection is lost (false) or
// back (true).
func (c *CatalogCache) SetListening(up bool) { c.listening(up) }

// RawAllTimeFigures is the all-time figures of subject's ids summed from
// every raw row (the statement all-time figures were read by before the
// rollup): the rollup's oracle. Ids that do not exist are left out.
func (db *DB) RawAllTimeFigures(ctx context.Context, subject string, ids []int64) (map[int64]*Metrics, error) {
	rows, err := db.selectMetrics(ctx, subject, windowQueries[subject], pq.Array(ids), time.Unix(0, 0).UTC(), endOfTime)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*Metrics, len(rows))
	for i := range rows {
		out[rows[i].ID] = rows[i].metrics(subject, WindowAllTime)
	}
	return out, nil
}

// FoldFiguresUntil is FoldFigures to an explicit boundary.
func (db *DB) FoldFiguresUntil(ctx context.Context, until time.Time) (FiguresFold, error) {
	return db.foldFiguresUntil(ctx, until)
}
