-- The incremental score refresh (store.refreshChangedScores) finds the
-- contents with an input that left the 7-day window since the last refresh
-- by these four time indexes. Each match was a heap fetch for its
-- content_id: at 2,000,000 contents, about 1,200 scattered event-count rows
-- a minute, which on a cold cache took 0.3 s for one minute and over the
-- pool's 15 s statement timeout once the refresh had fallen some 15 minutes
-- behind. It then failed every minute, its window growing (2026-12-03).
-- Carrying content_id in the index makes each an index-only scan.
--
-- The new indexes are built beside the old ones first: a build holds its
-- table's SHARE lock (writes wait, reads go on) until the migration
-- commits. Only then are the old ones dropped and the new ones renamed,
-- catalogue changes whose ACCESS EXCLUSIVE locks (reads wait too) last
-- from the first drop to the commit, not through the builds
-- (TestMigration0033KeepsReadsFlowing). The four ACCESS EXCLUSIVE locks
-- are taken together, each try waiting at most 100 ms and giving back what
-- it took when it fails: a reader of a later table (the score refresh, up
-- to 5 minutes) never holds the earlier tables' reads up for longer than a
-- try (TestMigration0033DropPhaseKeepsReadsFlowing). After 600 tries (about
-- two minutes) the migration fails and the next start tries again.

CREATE INDEX content_event_counts_bucket_idx_0033 ON content_event_counts (bucket) INCLUDE (content_id);
CREATE INDEX content_likes_created_idx_0033 ON content_likes (created_at) INCLUDE (content_id);
CREATE INDEX comments_created_idx_0033 ON comments (created_at) INCLUDE (content_id);
CREATE INDEX content_sales_paid_idx_0033 ON content_sales (paid_at) INCLUDE (content_id);

DO $$
BEGIN
    FOR i IN 1..600 LOOP
        BEGIN
            PERFORM set_config('lock_timeout', '100ms', true);
            LOCK TABLE content_event_counts, content_likes, comments, content_sales IN ACCESS EXCLUSIVE MODE;
            RETURN;
        EXCEPTION WHEN lock_not_available THEN
            PERFORM pg_sleep(0.1);
        END;
    END LOOP;
    RAISE EXCEPTION 'migration 0033: the four tables stayed busy for 600 tries'
        USING ERRCODE = 'lock_not_available';
END $$;

DROP INDEX content_event_counts_bucket_idx;
DROP INDEX content_likes_created_idx;
DROP INDEX comments_created_idx;
DROP INDEX content_sales_paid_idx;

ALTER INDEX content_event_counts_bucket_idx_0033 RENAME TO content_event_counts_bucket_idx;
ALTER INDEX content_likes_created_idx_0033 RENAME TO content_likes_created_idx;
ALTER INDEX comments_created_idx_0033 RENAME TO comments_created_idx;
ALTER INDEX content_sales_paid_idx_0033 RENAME TO content_sales_paid_idx;
