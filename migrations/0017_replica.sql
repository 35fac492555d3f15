-- Read fences: read-your-writes with a streaming replica (DATABASE_READ_URL).
-- After a signed-in caller's mutation, the primary's WAL insert position is
-- kept here for that user; every API process reads the row (on the primary)
-- before sending that user's reads to the replica, and sends them to the
-- primary until the replica's replay position (pg_last_wal_replay_lsn()) has
-- passed it. One row per user who ever wrote, updated in place.
-- Unlogged: writing a fence costs no WAL flush, and only the primary reads
-- it. A crash of the primary empties it; the replica is then used again only
-- once it holds what the primary had within DATABASE_READ_MAX_LAG, so at
-- worst a writer's reads lag by that bound once.
CREATE UNLOGGED TABLE read_fences (
    user_id bigint PRIMARY KEY,
    lsn     pg_lsn NOT NULL
);
