-- A walk through a ranked list (the feed, a product search by relevance):
-- its first page stores the whole ranking as it was then, and the pages that
-- follow read it back by position, so a walk never repeats or skips an item
-- however views, likes, sales or edits move the scores meanwhile.
-- Unlogged: walks are disposable. A crash empties the table; the next page
-- of a walk in progress then asks the client to start over. Walks expire
-- after an hour (store.ListWalkTTL); the score refresh prunes them.
CREATE UNLOGGED TABLE list_walks (
    id         bigint PRIMARY KEY,
    -- The person the ranking was made for (0: anonymous), and what was
    -- listed (the feed, or a search with its filter): a cursor continues
    -- only the walk it came from, for the viewer it was made for.
    viewer_id  bigint NOT NULL,
    kind       text NOT NULL,
    ids        bigint[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX list_walks_created_idx ON list_walks (created_at);
-- Ids barely compress: store long rankings out of line without trying.
ALTER TABLE list_walks ALTER COLUMN ids SET STORAGE EXTERNAL;
