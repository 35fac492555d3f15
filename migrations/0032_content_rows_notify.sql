-- Every API process keeps the content rows its For You pages served
-- (store.FeedRows). Whoever changes or deletes a content's row (a live
-- session going on air or ending, a product pinned, an operator's SQL)
-- every process hears it on the showcase_content_rows channel when the
-- transaction commits and forgets what it kept of it: one notification per
-- row, its id. The counters (view_count, like_count, written by every
-- event flush) and card_categories are not announced: the API shows
-- neither from the kept row (the UPDATE OF list leaves the flush's
-- statement without this trigger at all).

CREATE FUNCTION notify_content_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('showcase_content_rows', OLD.id::text);
    RETURN NULL;
END $$;

CREATE TRIGGER contents_notify_rows_upd AFTER UPDATE OF id, kind, author_id, shop_id, tags, published_at, caption,
        playback_url, thumbnail_url, duration_seconds, title, live_status, scheduled_start_at, started_at, ended_at,
        pinned_product_id ON contents
    FOR EACH ROW WHEN ((OLD.id, OLD.kind, OLD.author_id, OLD.shop_id, OLD.tags, OLD.published_at, OLD.caption,
        OLD.playback_url, OLD.thumbnail_url, OLD.duration_seconds, OLD.title, OLD.live_status, OLD.scheduled_start_at,
        OLD.started_at, OLD.ended_at, OLD.pinned_product_id) IS DISTINCT FROM (NEW.id, NEW.kind, NEW.author_id,
        NEW.shop_id, NEW.tags, NEW.published_at, NEW.caption, NEW.playback_url, NEW.thumbnail_url, NEW.duration_seconds,
        NEW.title, NEW.live_status, NEW.scheduled_start_at, NEW.started_at, NEW.ended_at, NEW.pinned_product_id))
    EXECUTE FUNCTION notify_content_rows();
CREATE TRIGGER contents_notify_rows_del AFTER DELETE ON contents
    FOR EACH ROW EXECUTE FUNCTION notify_content_rows();
