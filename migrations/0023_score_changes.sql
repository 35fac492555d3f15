-- Score refresh in proportion to activity (issue 19).
--
-- The feed's scores (content_scores) used to be recomputed for the whole
-- catalogue every minute. Now a refresh recomputes only:
--   1. contents whose inputs changed since the last refresh, as logged here
--      by triggers on every table the score reads (whatever code path wrote
--      them: the event flush, likes, comments, checkout, refunds, seeding);
--   2. contents with an input that left the 7-day window since the last
--      refresh (found through the time indexes below).
-- base_score no longer holds the recency term (recency is applied at read
-- time by the feed's formula from contents.published_at), so time passing
-- rewrites no row.

-- One row per content changed by a statement (rows of one statement are
-- distinct; several statements may log the same content). No index, so
-- logging costs one heap insert per content per statement; the refresher
-- deletes the rows it has seen in the transaction that re-scores them.
CREATE TABLE content_score_changes (
    content_id bigint NOT NULL
);

-- complete is false while a full recompute is under way (or when one is
-- needed, as after this migration, which changes base_score's meaning): the
-- next refresh is then a full one.
ALTER TABLE content_scores_refreshed ADD COLUMN complete boolean NOT NULL DEFAULT false;

-- Inputs leaving the 7-day window, by time.
CREATE INDEX content_event_counts_bucket_idx ON content_event_counts (bucket);
CREATE INDEX content_likes_created_idx ON content_likes (created_at);
CREATE INDEX comments_created_idx ON comments (created_at);
CREATE INDEX orders_paid_at_idx ON orders (paid_at) WHERE status IN ('PAID', 'FULFILLED', 'DELIVERED');

-- Tables whose rows carry content_id (changed is the statement's new rows,
-- or its old rows for DELETE).
CREATE FUNCTION log_score_changes_by_content_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO content_score_changes (content_id) SELECT DISTINCT content_id FROM changed;
    RETURN NULL;
END $$;

CREATE TRIGGER content_event_counts_scores_ins AFTER INSERT ON content_event_counts
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_score_changes_by_content_id();
CREATE TRIGGER content_event_counts_scores_upd AFTER UPDATE ON content_event_counts
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_score_changes_by_content_id();
CREATE TRIGGER content_event_counts_scores_del AFTER DELETE ON content_event_counts
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_score_changes_by_content_id();
CREATE TRIGGER content_likes_scores_ins AFTER INSERT ON content_likes
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_score_changes_by_content_id();
CREATE TRIGGER content_likes_scores_del AFTER DELETE ON content_likes
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_score_changes_by_content_id();
CREATE TRIGGER content_likes_scores_upd AFTER UPDATE ON content_likes
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_score_changes_by_content_id();
CREATE TRIGGER comments_scores_ins AFTER INSERT ON comments
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_score_changes_by_content_id();
CREATE TRIGGER comments_scores_del AFTER DELETE ON comments
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_score_changes_by_content_id();
CREATE TRIGGER comments_scores_upd AFTER UPDATE ON comments
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_score_changes_by_content_id();

-- Order lines name the content that sold them (GMV, hence GPM).
CREATE FUNCTION log_score_changes_by_order_line() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO content_score_changes (content_id)
    SELECT DISTINCT source_content_id FROM changed WHERE source_content_id IS NOT NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER order_lines_scores_ins AFTER INSERT ON order_lines
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_score_changes_by_order_line();
CREATE TRIGGER order_lines_scores_upd AFTER UPDATE ON order_lines
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_score_changes_by_order_line();
CREATE TRIGGER order_lines_scores_del AFTER DELETE ON order_lines
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_score_changes_by_order_line();

-- An order counts towards GMV while paid, from paid_at: a payment, a
-- cancellation or a refund changes its lines' contents' GPM.
CREATE FUNCTION log_score_changes_by_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO content_score_changes (content_id)
    SELECT DISTINCT l.source_content_id
    FROM new_orders n JOIN old_orders o ON o.id = n.id JOIN order_lines l ON l.order_id = n.id
    WHERE (n.status, n.paid_at) IS DISTINCT FROM (o.status, o.paid_at) AND l.source_content_id IS NOT NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER orders_scores_upd AFTER UPDATE ON orders
    REFERENCING NEW TABLE AS new_orders OLD TABLE AS old_orders FOR EACH STATEMENT EXECUTE FUNCTION log_score_changes_by_order();

-- New content, and the counters and states of a content the score reads.
CREATE FUNCTION log_score_changes_of_new_contents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO content_score_changes (content_id) SELECT id FROM changed;
    RETURN NULL;
END $$;
CREATE TRIGGER contents_scores_ins AFTER INSERT ON contents
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_score_changes_of_new_contents();

CREATE FUNCTION log_score_changes_of_contents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO content_score_changes (content_id)
    SELECT n.id FROM new_contents n JOIN old_contents o ON o.id = n.id
    WHERE (n.view_count, n.like_count, n.kind, n.live_status) IS DISTINCT FROM (o.view_count, o.like_count, o.kind, o.live_status);
    RETURN NULL;
END $$;
CREATE TRIGGER contents_scores_upd AFTER UPDATE ON contents
    REFERENCING NEW TABLE AS new_contents OLD TABLE AS old_contents FOR EACH STATEMENT EXECUTE FUNCTION log_score_changes_of_contents();
