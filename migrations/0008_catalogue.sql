-- The catalogue a storefront renders: product media (images and external
-- videos, ordered), a variant's own image, and collections a shop curates.

-- A product's media, in display order (position 0 first). An uploaded image
-- keeps the name it is stored under (a content hash; its URL is made by the
-- media store, so moving the files to a bucket or CDN moves every URL); an
-- image added by URL keeps the URL as given.
CREATE TABLE product_media (
    id           bigserial PRIMARY KEY,
    product_id   bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    position     integer NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('IMAGE', 'VIDEO')),
    storage_name text,
    url          text,
    alt_text     text NOT NULL DEFAULT '',
    width        integer CHECK (width > 0),
    height       integer CHECK (height > 0),
    content_type text,
    -- VIDEO: [{"url": …, "mimeType": …}], and its poster image's URL.
    sources      jsonb,
    poster_url   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'IMAGE' AND (storage_name IS NOT NULL) <> (url IS NOT NULL))
        OR (kind = 'VIDEO' AND sources IS NOT NULL))
);
CREATE INDEX product_media_product_idx ON product_media (product_id, position, id);

-- A variant may show one of its product's images.
CREATE TABLE variant_images (
    variant_id bigint PRIMARY KEY REFERENCES product_variants (id) ON DELETE CASCADE,
    media_id   bigint NOT NULL REFERENCES product_media (id) ON DELETE CASCADE
);
CREATE INDEX variant_images_media_idx ON variant_images (media_id);

-- Sorting products by creation time pages on (created_at, id).
CREATE INDEX products_created_idx ON products (created_at, id);

-- Collections: a shop's curated, ordered lists of products. Handles are
-- unique across the platform, as shop handles are.
CREATE TABLE collections (
    id          bigserial PRIMARY KEY,
    shop_id     bigint NOT NULL REFERENCES shops (id),
    handle      text NOT NULL UNIQUE,
    title       text NOT NULL,
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX collections_shop_idx ON collections (shop_id, id);

CREATE TABLE collection_products (
    collection_id bigint NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    product_id    bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    position      integer NOT NULL,
    PRIMARY KEY (collection_id, product_id)
);
CREATE UNIQUE INDEX collection_products_position_idx ON collection_products (collection_id, position);
CREATE INDEX collection_products_product_idx ON collection_products (product_id);
