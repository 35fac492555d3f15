CREATE TABLE users (
    id             bigserial PRIMARY KEY,
    email          text NOT NULL,
    password_hash  text NOT NULL,
    handle         text NOT NULL,
    display_name   text NOT NULL,
    avatar_url     text NOT NULL DEFAULT '',
    follower_count integer NOT NULL DEFAULT 0 CHECK (follower_count >= 0),
    is_creator     boolean NOT NULL DEFAULT false,
    is_admin       boolean NOT NULL DEFAULT false,
    interest_tags  text[] NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_handle_key ON users (lower(handle));

CREATE TABLE shops (
    id                 bigserial PRIMARY KEY,
    handle             text NOT NULL,
    name               text NOT NULL,
    description        text NOT NULL DEFAULT '',
    operating_model    text NOT NULL CHECK (operating_model IN ('SELF_OPERATED', 'FULLY_MANAGED')),
    owner_id           bigint NOT NULL REFERENCES users (id),
    currency_code      char(3) NOT NULL DEFAULT 'USD',
    affiliate_rate_bps integer NOT NULL DEFAULT 1000 CHECK (affiliate_rate_bps BETWEEN 0 AND 10000),
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX shops_handle_key ON shops (lower(handle));
CREATE INDEX shops_owner_idx ON shops (owner_id);

-- Search document over title (A), tags (B) and description (C). Wrapped in an
-- IMMUTABLE function because array_to_string is only STABLE, and generated
-- columns need an immutable expression.
CREATE FUNCTION product_search_document(title text, tags text[], description text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(array_to_string(tags, ' '), '')), 'B')
        || setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'C')
$$;

CREATE TABLE products (
    id          bigserial PRIMARY KEY,
    shop_id     bigint NOT NULL REFERENCES shops (id),
    title       text NOT NULL,
    description text NOT NULL DEFAULT '',
    tags        text[] NOT NULL DEFAULT '{}',
    status      text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('DRAFT', 'ACTIVE', 'ARCHIVED')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    search      tsvector GENERATED ALWAYS AS (product_search_document(title, tags, description)) STORED
);
CREATE INDEX products_shop_idx ON products (shop_id, id);
CREATE INDEX products_search_idx ON products USING gin (search);
CREATE INDEX products_tags_idx ON products USING gin (tags);

CREATE TABLE product_variants (
    id            bigserial PRIMARY KEY,
    product_id    bigint NOT NULL REFERENCES products (id),
    sku           text NOT NULL,
    title         text NOT NULL,
    price_amount  bigint NOT NULL CHECK (price_amount >= 0),
    currency_code char(3) NOT NULL,
    stock         integer NOT NULL DEFAULT 0 CHECK (stock >= 0),
    position      integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX product_variants_sku_key ON product_variants (sku);
CREATE INDEX product_variants_product_idx ON product_variants (product_id, position, id);

-- Videos and live sessions share one table: the feed mixes them, and orders
-- and metrics point at "content" without caring which kind it is.
CREATE TABLE contents (
    id                 bigserial PRIMARY KEY,
    kind               text NOT NULL CHECK (kind IN ('VIDEO', 'LIVE')),
    author_id          bigint NOT NULL REFERENCES users (id),
    shop_id            bigint REFERENCES shops (id),
    tags               text[] NOT NULL DEFAULT '{}',
    published_at       timestamptz NOT NULL DEFAULT now(),
    created_at         timestamptz NOT NULL DEFAULT now(),
    -- popularity drives the anonymous feed; engagement ingestion keeps it fresh.
    view_count         bigint NOT NULL DEFAULT 0,
    like_count         bigint NOT NULL DEFAULT 0,
    -- VIDEO
    caption            text,
    playback_url       text,
    thumbnail_url      text,
    duration_seconds   integer,
    -- LIVE
    title              text,
    live_status        text CHECK (live_status IN ('SCHEDULED', 'LIVE', 'ENDED')),
    scheduled_start_at timestamptz,
    started_at         timestamptz,
    ended_at           timestamptz,
    pinned_product_id  bigint REFERENCES products (id),
    CHECK (kind <> 'VIDEO' OR (caption IS NOT NULL AND playback_url IS NOT NULL)),
    CHECK (kind <> 'LIVE' OR (title IS NOT NULL AND live_status IS NOT NULL))
);
CREATE INDEX contents_author_idx ON contents (author_id, id);
CREATE INDEX contents_shop_kind_idx ON contents (shop_id, kind, id);
CREATE INDEX contents_published_idx ON contents (published_at DESC, id DESC);
CREATE INDEX contents_live_idx ON contents (live_status) WHERE kind = 'LIVE';

CREATE TABLE content_products (
    content_id bigint NOT NULL REFERENCES contents (id) ON DELETE CASCADE,
    product_id bigint NOT NULL REFERENCES products (id),
    position   integer NOT NULL DEFAULT 0,
    PRIMARY KEY (content_id, product_id)
);
CREATE INDEX content_products_product_idx ON content_products (product_id);
