package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// FiguresFoldLag is how long after an hour ends FoldFigures folds it into
// the all-time totals: rows written that late for that hour (an event flush
// behind, an order paid in a transaction that began in it) then mostly have
// been, and a raw row timed before the boundary costs its writer an update
// of the totals. All-time reads add the raw rows from the boundary on:
// between FiguresFoldLag and an hour plus FiguresFoldLag of activity.
const FiguresFoldLag = 5 * time.Minute

// figuresFoldLockTimeout bounds how long a fold waits for the rollup's lock
// (migration 0031: writers of raw rows hold it shared until they commit).
// New writers of raw rows wait behind the fold while it waits and while it
// runs (1.7 s for 20 minutes of the 200,000-video benchmark's activity on a
// loaded machine). A fold that times out is retried on the next tick.
const figuresFoldLockTimeout = 250 * time.Millisecond

// FiguresFold is what one FoldFigures call did.
type FiguresFold struct {
	// Folded is whether the boundary moved; From and Until are the
	// boundary before and after (equal when it did not move).
	Folded      bool
	From, Until time.Time
	// DBTime is the time spent in the fold's statements.
	DBTime time.Duration
	// Steps is how many hours FoldFigures folded, each in a transaction
	// of its own.
	Steps int
}

// FoldTarget is the boundary FoldFigures moves to at now: the start of the
// hour that began at least FiguresFoldLag ago.
func FoldTarget(now time.Time) time.Time { return now.Add(-FiguresFoldLag).UTC().Truncate(time.Hour) }

// FoldFigures moves the all-time figures' boundary (figures_rollup) to
// FoldTarget(now), adding the raw rows between the old boundary and the new
// one to the running totals (fold_figures, migration 0031), when it is
// behind: one hour at a time, each hour in a transaction of its own, so
// that writers of raw rows never wait behind more than one hour's fold (a
// boundary left hours behind, by a stopped refresh loop or folds that kept
// timing out, is caught up by hourly steps between which they go on,
// instead of one fold as long as the gap that could outlast
// statement_timeout, fail and be retried every minute while they wait). It
// first reads the boundary without a lock, so a call with nothing to fold
// costs one small read. Several processes may call it: one folds, the
// others find the boundary moved. Each step waits at most
// figuresFoldLockTimeout for the rollup's lock; the first step that fails
// ends the call with its error (what earlier steps folded stays folded,
// and Until says where the boundary is; call it again later). Figures read
// are the same before and after a fold; only the rows a read touches
// change. Steps counts the hours folded.
func (db *DB) FoldFigures(ctx context.Context, now time.Time) (FiguresFold, error) {
	target := FoldTarget(now)
	var out FiguresFold
	for step := 0; ; step++ {
		f, err := db.foldFiguresStep(ctx, target)
		if step == 0 {
			out.From, out.Until = f.From, f.From
		}
		out.DBTime += f.DBTime
		if f.Folded {
			out.Folded, out.Until, out.Steps = true, f.Until, out.Steps+1
		}
		if err != nil || !f.Folded || !f.Until.Before(target) {
			return out, err
		}
	}
}

// foldFiguresStep folds at most one hour: from the boundary to the next
// hour start, or to target if that comes first.
func (db *DB) foldFiguresStep(ctx context.Context, target time.Time) (FiguresFold, error) {
	var from time.Time
	if err := db.GetContext(ctx, &from, `SELECT closed_until FROM figures_rollup`); err != nil {
		return FiguresFold{}, fmt.Errorf("fold figures: %w", err)
	}
	until := from.UTC().Truncate(time.Hour).Add(time.Hour)
	if target.Before(until) {
		until = target
	}
	return db.foldFiguresUntil(ctx, until)
}

func (db *DB) foldFiguresUntil(ctx context.Context, until time.Time) (FiguresFold, error) {
	began := time.Now()
	var out FiguresFold
	if err := db.GetContext(ctx, &out.From, `SELECT closed_until FROM figures_rollup`); err != nil {
		return out, fmt.Errorf("fold figures: %w", err)
	}
	out.Until = out.From
	if !until.After(out.From) {
		out.DBTime = time.Since(began)
		return out, nil
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`SET LOCAL lock_timeout = '%dms'`, figuresFoldLockTimeout.Milliseconds())); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `SET LOCAL jit = off`); err != nil {
			return err
		}
		return tx.GetContext(ctx, &out.Folded, `SELECT fold_figures($1)`, until)
	})
	out.DBTime = time.Since(began)
	if err != nil {
		return FiguresFold{From: out.From, Until: out.From, DBTime: out.DBTime}, fmt.Errorf("fold figures until %s: %w", until.Format(time.RFC3339), err)
	}
	if out.Folded {
		out.Until = until
	}
	return out, nil
}
