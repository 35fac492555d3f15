-- Engagement events arrive in bulk and are aggregated in memory, then added
-- to per-minute buckets: a viral video costs one row update per flush, not
-- one per event, and any window or chart is a sum over buckets.
CREATE TABLE content_event_counts (
    content_id          bigint NOT NULL REFERENCES contents (id) ON DELETE CASCADE,
    bucket              timestamptz NOT NULL,
    views               bigint NOT NULL DEFAULT 0,
    watch_ms            bigint NOT NULL DEFAULT 0,
    shares              bigint NOT NULL DEFAULT 0,
    product_impressions bigint NOT NULL DEFAULT 0,
    product_clicks      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (content_id, bucket)
);

CREATE TABLE product_event_counts (
    product_id  bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    bucket      timestamptz NOT NULL,
    impressions bigint NOT NULL DEFAULT 0,
    clicks      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (product_id, bucket)
);

CREATE TABLE content_likes (
    content_id bigint NOT NULL REFERENCES contents (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (content_id, user_id)
);
CREATE INDEX content_likes_time_idx ON content_likes (content_id, created_at);

CREATE TABLE comments (
    id         bigserial PRIMARY KEY,
    content_id bigint NOT NULL REFERENCES contents (id) ON DELETE CASCADE,
    author_id  bigint NOT NULL REFERENCES users (id),
    body       text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 500),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX comments_content_idx ON comments (content_id, id);
CREATE INDEX comments_time_idx ON comments (content_id, created_at);

CREATE INDEX orders_paid_source_idx ON orders (source_content_id, paid_at) WHERE status IN ('PAID', 'FULFILLED', 'DELIVERED');
CREATE INDEX orders_paid_shop_idx ON orders (shop_id, paid_at) WHERE status IN ('PAID', 'FULFILLED', 'DELIVERED');
CREATE INDEX order_lines_product_idx ON order_lines (product_id);

-- What the feed learns from conversion: 7-day GPM and engagement per content,
-- refreshed in the background so the feed query stays one indexed join.
-- base_score is the anonymous ranking as of the refresh: the feed takes its
-- candidates from this index instead of scoring the whole catalogue.
CREATE TABLE content_scores (
    content_id      bigint PRIMARY KEY REFERENCES contents (id) ON DELETE CASCADE,
    gpm_7d          double precision NOT NULL DEFAULT 0,
    engagement_7d   double precision NOT NULL DEFAULT 0,
    base_score      double precision NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- When the scores were last recomputed: content created since then is
-- ranked by the feed even though it has no score yet.
CREATE TABLE content_scores_refreshed (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    at       timestamptz NOT NULL
);
CREATE INDEX content_scores_base_idx ON content_scores (base_score DESC, content_id DESC);
CREATE INDEX contents_created_idx ON contents (created_at);
CREATE INDEX contents_on_air_idx ON contents (id) WHERE kind = 'LIVE' AND live_status = 'LIVE';
