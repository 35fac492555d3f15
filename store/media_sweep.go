package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"showcase/media"
)

// Advisory locks of the orphan media sweep.
const (
	// mediaSweepLockID lets one replica sweep at a time.
	mediaSweepLockID = 7_311_540_012
	// mediaWriteLockID is held shared by every transaction that stores files
	// and writes the rows naming them (AddProductMedia), and exclusively by
	// the sweep while it re-checks and deletes: a file is never deleted
	// between its upload's Put and the commit of its row.
	mediaWriteLockID = 7_311_540_013
)

// Defaults of the orphan media sweep.
const (
	// DefaultMediaSweepInterval is how often RunMediaSweeper sweeps.
	DefaultMediaSweepInterval = 15 * time.Minute
	// DefaultMediaSweepGrace is how old a stored file must be before the
	// sweep may remove it: an upload in flight (its file stored, its row
	// not yet committed) is never removed, nor is a file being seeded.
	DefaultMediaSweepGrace = time.Hour
	// MediaSweepBatch bounds the stored files one sweep examines (and so
	// removes): the next sweep goes on after the last name examined.
	MediaSweepBatch = 500
)

// MediaSweeper removes stored media files that no row names any more (a
// product medium deleted, a product deleted, an upload whose transaction
// rolled back after its file was stored). Each sweep examines at most
// MediaSweepBatch files, in name order from where the last one stopped
// (from the start again once past the last), and removes those older than
// Grace that neither product_media nor video_posters names. Every replica
// may run one: an advisory lock lets one sweep at a time, the others skip.
type MediaSweeper struct {
	DB    *DB
	Files media.Store
	// Grace is the age under which a file is never removed
	// (DefaultMediaSweepGrace when 0; negative means none, for tests).
	Grace time.Duration
	// Batch is MediaSweepBatch when 0.
	Batch int
	// after is the last name examined, where the next sweep goes on.
	after string
}

// MediaSwept says what one sweep did.
type MediaSwept struct {
	// Examined is how many stored files were looked at, Removed how many of
	// them were orphans and deleted. Skipped is true when another replica
	// was sweeping.
	Examined, Removed int
	Skipped           bool
}

// Sweep runs one bounded sweep (see MediaSweeper).
func (s *MediaSweeper) Sweep(ctx context.Context) (MediaSwept, error) {
	var out MediaSwept
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return out, err
	}
	defer conn.Close()
	var locked bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, mediaSweepLockID).Scan(&locked); err != nil {
		return out, fmt.Errorf("media sweep lock: %w", err)
	}
	if !locked {
		out.Skipped = true
		return out, nil
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, mediaSweepLockID) //nolint:errcheck

	batch := s.Batch
	if batch <= 0 {
		batch = MediaSweepBatch
	}
	grace := s.Grace
	if grace == 0 {
		grace = DefaultMediaSweepGrace
	}
	files, err := s.Files.List(ctx, s.after, batch)
	if err != nil {
		return out, err
	}
	out.Examined = len(files)
	if len(files) < batch {
		s.after = "" // past the last: start over next time
	} else {
		s.after = files[len(files)-1].Name
	}
	cutoff := time.Now().Add(-grace)
	var old []string
	for _, f := range files {
		if f.ModTime.Before(cutoff) {
			old = append(old, f.Name)
		}
	}
	if len(old) == 0 {
		return out, nil
	}
	orphans, err := unnamedMedia(ctx, s.DB, old)
	if err != nil || len(orphans) == 0 {
		return out, err
	}
	// Deleting waits for uploads in flight to commit (they hold the write
	// lock shared) and holds new ones back meanwhile; their rows are then
	// visible to the second look.
	err = s.DB.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, mediaWriteLockID); err != nil {
			return fmt.Errorf("media write lock: %w", err)
		}
		orphans, err := unnamedMedia(ctx, tx, orphans)
		if err != nil {
			return err
		}
		for _, name := range orphans {
			if err := s.Files.Delete(ctx, name); err != nil {
				return err
			}
			out.Removed++
		}
		return nil
	})
	return out, err
}

// unnamedMedia returns the names no product medium or video poster uses.
func unnamedMedia(ctx context.Context, q sqlx.QueryerContext, names []string) ([]string, error) {
	var out []string
	if err := sqlx.SelectContext(ctx, q, &out, `SELECT n FROM unnest($1::text[]) AS n
		WHERE NOT EXISTS (SELECT 1 FROM product_media m WHERE m.storage_name = n)
		AND NOT EXISTS (SELECT 1 FROM video_posters p WHERE p.storage_name = n)
		ORDER BY n`, pq.Array(names)); err != nil {
		return nil, fmt.Errorf("unnamed media: %w", err)
	}
	return out, nil
}

// lockMediaWrites takes the media write lock shared for tx: the sweep does
// not delete files until tx ends.
func lockMediaWrites(ctx context.Context, tx *sqlx.Tx) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock_shared($1)`, mediaWriteLockID); err != nil {
		return fmt.Errorf("media write lock: %w", err)
	}
	return nil
}

// Run sweeps every interval (DefaultMediaSweepInterval when 0) until ctx
// ends, logging what it removed and any failure.
func (s *MediaSweeper) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultMediaSweepInterval
	}
	every(ctx, interval, func() {
		n, err := s.Sweep(ctx)
		if err != nil && ctx.Err() == nil {
			slog.Warn("media sweep", "err", err)
		}
		if n.Removed > 0 {
			slog.Info("media sweep removed orphaned files", "examined", n.Examined, "removed", n.Removed)
		}
	})
}
