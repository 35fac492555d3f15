-- Follows: a person follows a creator (a user) or a shop. One row per pair;
-- follow and unfollow are idempotent. The interest engine reads this table
-- (followed creators' and shops' new content), and so do followerCount, the
-- followers/following connections and the FOLLOWING feed.
CREATE TABLE follows (
    follower_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    creator_id  bigint REFERENCES users(id) ON DELETE CASCADE,
    shop_id     bigint REFERENCES shops(id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((creator_id IS NULL) <> (shop_id IS NULL)),
    CHECK (creator_id IS DISTINCT FROM follower_id)
);
CREATE UNIQUE INDEX follows_creator_once ON follows (follower_id, creator_id) WHERE creator_id IS NOT NULL;
CREATE UNIQUE INDEX follows_shop_once ON follows (follower_id, shop_id) WHERE shop_id IS NOT NULL;
CREATE INDEX follows_of_creator ON follows (creator_id, created_at DESC, follower_id) WHERE creator_id IS NOT NULL;
CREATE INDEX follows_of_shop ON follows (shop_id, created_at DESC, follower_id) WHERE shop_id IS NOT NULL;
CREATE INDEX follows_by_follower ON follows (follower_id, created_at DESC);
