-- Media leftovers: video posters and the orphan sweep's lookups.

-- A video's poster: a still image stored in the media store (by its content
-- hash, like uploaded product images), shown before the video plays. The
-- demo videos get one drawn at seeding.
CREATE TABLE video_posters (
    content_id   bigint PRIMARY KEY REFERENCES contents (id) ON DELETE CASCADE,
    storage_name text NOT NULL CHECK (storage_name ~ '^[0-9a-f]{64}\.(png|jpg|gif|webp)$'),
    width        integer NOT NULL CHECK (width > 0),
    height       integer NOT NULL CHECK (height > 0),
    content_type text NOT NULL
);

-- The orphan sweep asks, for a batch of stored names, which ones a row
-- still uses.
CREATE INDEX video_posters_storage_name_idx ON video_posters (storage_name);
CREATE INDEX product_media_storage_name_idx ON product_media (storage_name) WHERE storage_name IS NOT NULL;
