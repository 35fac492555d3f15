-- Follower counts from real follows. users.follower_count (until now a number
-- the demo seed wrote) and the new shops.follower_count are kept equal to the
-- number of follows rows by a trigger, in the same transaction as the row
-- written or deleted: whoever writes follows (follow/unfollow, the seed, a
-- cascade when a user or shop is deleted), the count moves with it, and
-- concurrent follows of one creator queue on its row for the instant of the
-- increment, so the count is exact however many arrive at once.
-- The TOP_CREATORS sales channel reads users.follower_count.
ALTER TABLE shops ADD COLUMN follower_count integer NOT NULL DEFAULT 0 CHECK (follower_count >= 0);

CREATE FUNCTION follows_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        IF OLD.creator_id IS NOT NULL THEN
            UPDATE users SET follower_count = follower_count - 1 WHERE id = OLD.creator_id;
        ELSE
            UPDATE shops SET follower_count = follower_count - 1 WHERE id = OLD.shop_id;
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        IF NEW.creator_id IS NOT NULL THEN
            UPDATE users SET follower_count = follower_count + 1 WHERE id = NEW.creator_id;
        ELSE
            UPDATE shops SET follower_count = follower_count + 1 WHERE id = NEW.shop_id;
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER follows_count AFTER INSERT OR DELETE OR UPDATE OF creator_id, shop_id ON follows
    FOR EACH ROW EXECUTE FUNCTION follows_count();

-- From now on the follows rows are the truth: counts written before them
-- (the demo seed's invented numbers) are replaced by the real ones.
UPDATE users u SET follower_count = coalesce((SELECT count(*) FROM follows f WHERE f.creator_id = u.id), 0)
    WHERE follower_count <> coalesce((SELECT count(*) FROM follows f WHERE f.creator_id = u.id), 0);
UPDATE shops s SET follower_count = (SELECT count(*) FROM follows f WHERE f.shop_id = s.id);

-- The FOLLOWING feed reads each followed creator's and shop's newest content.
CREATE INDEX contents_author_published_idx ON contents (author_id, published_at DESC, id DESC);
CREATE INDEX contents_shop_published_idx ON contents (shop_id, published_at DESC, id DESC) WHERE shop_id IS NOT NULL;
