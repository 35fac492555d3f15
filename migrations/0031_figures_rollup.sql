-- All-time figures in proportion to recent activity (issue 19).
--
-- A content's or product's all-time figures (views, shares, card impressions
-- and clicks, likes, comments, orders, units, GMV) were summed from every
-- per-minute bucket, like, comment and order line of its whole history on
-- every read. Now everything before a boundary (figures_rollup.closed_until,
-- an hour start moved forward by store.DB.FoldFigures) is kept summed in
-- running totals, and a read adds the raw rows from the boundary on:
--
--     all-time = *_totals (rows before closed_until) + raw rows >= closed_until
--
-- exactly, to the unit and minor unit (sums of integers, nothing rounded).
-- The totals change in two ways only, both under the advisory lock
-- figuresRollupLockID (377062):
--   1. fold_figures(until) adds the raw rows of [closed_until, until) and
--      moves closed_until to until, holding the lock exclusively;
--   2. a statement that writes a raw row timed before closed_until (a late
--      event flush, an unlike or a deleted comment of last year, a refund of
--      an old order) adds its difference to the totals in its own
--      transaction, from a statement trigger that holds the lock shared to
--      the transaction's end.
-- The fold therefore waits for every writer that read the boundary to
-- commit, and a writer that comes later reads the moved boundary: each raw
-- row is counted in the totals exactly when it is timed before the boundary
-- its snapshot sees, and one statement reads the totals, the boundary and
-- the raw rows from one snapshot.

CREATE TABLE figures_rollup (
    only_row     boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    closed_until timestamptz NOT NULL
);

CREATE TABLE content_figure_totals (
    content_id  bigint PRIMARY KEY,
    views       bigint NOT NULL DEFAULT 0,
    shares      bigint NOT NULL DEFAULT 0,
    impressions bigint NOT NULL DEFAULT 0,
    clicks      bigint NOT NULL DEFAULT 0,
    likes       bigint NOT NULL DEFAULT 0,
    comments    bigint NOT NULL DEFAULT 0
);

CREATE TABLE product_figure_totals (
    product_id  bigint PRIMARY KEY,
    impressions bigint NOT NULL DEFAULT 0,
    clicks      bigint NOT NULL DEFAULT 0
);

-- Sales as counted by the figures: one row per counted order (status PAID,
-- FULFILLED or DELIVERED) and content it sold through (lines with that
-- source content, self-purchases left out) or product (every line), kept by
-- the triggers below from orders and order_lines. An order is one row per
-- content, so orders are counted by rows, and a day's, an hour's or the
-- totals' orders add up. paid_at is the order's: the score refresh reads a
-- content's 7-day sales by (content_id, paid_at), not through every line
-- it ever sold.
CREATE TABLE content_sales (
    order_id      bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    content_id    bigint NOT NULL,
    currency_code char(3) NOT NULL,
    paid_at       timestamptz NOT NULL,
    units         bigint NOT NULL,
    gmv           bigint NOT NULL,
    PRIMARY KEY (content_id, paid_at, order_id)
);
CREATE INDEX content_sales_order_idx ON content_sales (order_id);
CREATE INDEX content_sales_paid_idx ON content_sales (paid_at);

CREATE TABLE product_sales (
    order_id      bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id    bigint NOT NULL,
    currency_code char(3) NOT NULL,
    paid_at       timestamptz NOT NULL,
    units         bigint NOT NULL,
    gmv           bigint NOT NULL,
    PRIMARY KEY (product_id, paid_at, order_id)
);
CREATE INDEX product_sales_order_idx ON product_sales (order_id);
CREATE INDEX product_sales_paid_idx ON product_sales (paid_at);

CREATE TABLE content_sales_totals (
    content_id    bigint NOT NULL,
    currency_code char(3) NOT NULL,
    orders        bigint NOT NULL DEFAULT 0,
    units         bigint NOT NULL DEFAULT 0,
    gmv           bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (content_id, currency_code)
);

CREATE TABLE product_sales_totals (
    product_id    bigint NOT NULL,
    currency_code char(3) NOT NULL,
    orders        bigint NOT NULL DEFAULT 0,
    units         bigint NOT NULL DEFAULT 0,
    gmv           bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (product_id, currency_code)
);

-- The fold reads an hour of product buckets by time.
CREATE INDEX product_event_counts_bucket_idx ON product_event_counts (bucket);

-- figures_boundary takes the rollup's lock shared (to the end of the
-- transaction) and returns the boundary it then sees.
CREATE FUNCTION figures_boundary() RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(377062);
    RETURN (SELECT closed_until FROM figures_rollup);
END $$;

-- Engagement: the differences of a statement's rows timed before the boundary.
CREATE FUNCTION content_event_counts_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE b timestamptz := figures_boundary();
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO content_figure_totals AS t (content_id, views, shares, impressions, clicks)
        SELECT content_id, sum(views), sum(shares), sum(product_impressions), sum(product_clicks)
        FROM new_rows WHERE bucket < b GROUP BY content_id
        ON CONFLICT (content_id) DO UPDATE SET views = t.views + EXCLUDED.views, shares = t.shares + EXCLUDED.shares,
            impressions = t.impressions + EXCLUDED.impressions, clicks = t.clicks + EXCLUDED.clicks;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO content_figure_totals AS t (content_id, views, shares, impressions, clicks)
        SELECT content_id, sum(views), sum(shares), sum(impressions), sum(clicks) FROM (
            SELECT content_id, views, shares, product_impressions AS impressions, product_clicks AS clicks FROM new_rows WHERE bucket < b
            UNION ALL
            SELECT content_id, -views, -shares, -product_impressions, -product_clicks FROM old_rows WHERE bucket < b) d
        GROUP BY content_id
        ON CONFLICT (content_id) DO UPDATE SET views = t.views + EXCLUDED.views, shares = t.shares + EXCLUDED.shares,
            impressions = t.impressions + EXCLUDED.impressions, clicks = t.clicks + EXCLUDED.clicks;
    ELSE
        INSERT INTO content_figure_totals AS t (content_id, views, shares, impressions, clicks)
        SELECT content_id, -sum(views), -sum(shares), -sum(product_impressions), -sum(product_clicks)
        FROM old_rows WHERE bucket < b GROUP BY content_id
        ON CONFLICT (content_id) DO UPDATE SET views = t.views + EXCLUDED.views, shares = t.shares + EXCLUDED.shares,
            impressions = t.impressions + EXCLUDED.impressions, clicks = t.clicks + EXCLUDED.clicks;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER content_event_counts_rollup_ins AFTER INSERT ON content_event_counts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION content_event_counts_rollup();
CREATE TRIGGER content_event_counts_rollup_upd AFTER UPDATE ON content_event_counts
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION content_event_counts_rollup();
CREATE TRIGGER content_event_counts_rollup_del AFTER DELETE ON content_event_counts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION content_event_counts_rollup();

CREATE FUNCTION product_event_counts_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE b timestamptz := figures_boundary();
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO product_figure_totals AS t (product_id, impressions, clicks)
        SELECT product_id, sum(impressions), sum(clicks) FROM new_rows WHERE bucket < b GROUP BY product_id
        ON CONFLICT (product_id) DO UPDATE SET impressions = t.impressions + EXCLUDED.impressions, clicks = t.clicks + EXCLUDED.clicks;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO product_figure_totals AS t (product_id, impressions, clicks)
        SELECT product_id, sum(impressions), sum(clicks) FROM (
            SELECT product_id, impressions, clicks FROM new_rows WHERE bucket < b
            UNION ALL SELECT product_id, -impressions, -clicks FROM old_rows WHERE bucket < b) d
        GROUP BY product_id
        ON CONFLICT (product_id) DO UPDATE SET impressions = t.impressions + EXCLUDED.impressions, clicks = t.clicks + EXCLUDED.clicks;
    ELSE
        INSERT INTO product_figure_totals AS t (product_id, impressions, clicks)
        SELECT product_id, -sum(impressions), -sum(clicks) FROM old_rows WHERE bucket < b GROUP BY product_id
        ON CONFLICT (product_id) DO UPDATE SET impressions = t.impressions + EXCLUDED.impressions, clicks = t.clicks + EXCLUDED.clicks;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER product_event_counts_rollup_ins AFTER INSERT ON product_event_counts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION product_event_counts_rollup();
CREATE TRIGGER product_event_counts_rollup_upd AFTER UPDATE ON product_event_counts
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION product_event_counts_rollup();
CREATE TRIGGER product_event_counts_rollup_del AFTER DELETE ON product_event_counts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION product_event_counts_rollup();

-- Likes and comments: one each per row timed before the boundary.
CREATE FUNCTION likes_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE b timestamptz := figures_boundary();
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO content_figure_totals AS t (content_id, likes)
        SELECT content_id, count(*) FROM new_rows WHERE created_at < b GROUP BY content_id
        ON CONFLICT (content_id) DO UPDATE SET likes = t.likes + EXCLUDED.likes;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO content_figure_totals AS t (content_id, likes)
        SELECT content_id, sum(n) FROM (
            SELECT content_id, 1 AS n FROM new_rows WHERE created_at < b
            UNION ALL SELECT content_id, -1 FROM old_rows WHERE created_at < b) d
        GROUP BY content_id
        ON CONFLICT (content_id) DO UPDATE SET likes = t.likes + EXCLUDED.likes;
    ELSE
        INSERT INTO content_figure_totals AS t (content_id, likes)
        SELECT content_id, -count(*) FROM old_rows WHERE created_at < b GROUP BY content_id
        ON CONFLICT (content_id) DO UPDATE SET likes = t.likes + EXCLUDED.likes;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER content_likes_rollup_ins AFTER INSERT ON content_likes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION likes_rollup();
CREATE TRIGGER content_likes_rollup_upd AFTER UPDATE ON content_likes
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION likes_rollup();
CREATE TRIGGER content_likes_rollup_del AFTER DELETE ON content_likes
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION likes_rollup();

CREATE FUNCTION comments_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE b timestamptz := figures_boundary();
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO content_figure_totals AS t (content_id, comments)
        SELECT content_id, count(*) FROM new_rows WHERE created_at < b GROUP BY content_id
        ON CONFLICT (content_id) DO UPDATE SET comments = t.comments + EXCLUDED.comments;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO content_figure_totals AS t (content_id, comments)
        SELECT content_id, sum(n) FROM (
            SELECT content_id, 1 AS n FROM new_rows WHERE created_at < b
            UNION ALL SELECT content_id, -1 FROM old_rows WHERE created_at < b) d
        GROUP BY content_id
        ON CONFLICT (content_id) DO UPDATE SET comments = t.comments + EXCLUDED.comments;
    ELSE
        INSERT INTO content_figure_totals AS t (content_id, comments)
        SELECT content_id, -count(*) FROM old_rows WHERE created_at < b GROUP BY content_id
        ON CONFLICT (content_id) DO UPDATE SET comments = t.comments + EXCLUDED.comments;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER comments_rollup_ins AFTER INSERT ON comments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION comments_rollup();
CREATE TRIGGER comments_rollup_upd AFTER UPDATE ON comments
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION comments_rollup();
CREATE TRIGGER comments_rollup_del AFTER DELETE ON comments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION comments_rollup();

-- content_sales and product_sales rewritten for the orders in ids from
-- their current rows: nothing for an order that is not counted.
CREATE FUNCTION write_sales(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM content_sales WHERE order_id = ANY(ids);
    DELETE FROM product_sales WHERE order_id = ANY(ids);
    INSERT INTO content_sales (order_id, content_id, currency_code, paid_at, units, gmv)
    SELECT o.id, l.source_content_id, o.currency_code, o.paid_at, sum(l.quantity), sum(l.total_amount)
    FROM orders o JOIN order_lines l ON l.order_id = o.id
    WHERE o.id = ANY(ids) AND o.status IN ('PAID', 'FULFILLED', 'DELIVERED') AND o.paid_at IS NOT NULL
        AND l.source_content_id IS NOT NULL AND NOT l.self_purchase
    GROUP BY o.id, l.source_content_id, o.currency_code, o.paid_at;
    INSERT INTO product_sales (order_id, product_id, currency_code, paid_at, units, gmv)
    SELECT o.id, l.product_id, o.currency_code, o.paid_at, sum(l.quantity), sum(l.total_amount)
    FROM orders o JOIN order_lines l ON l.order_id = o.id
    WHERE o.id = ANY(ids) AND o.status IN ('PAID', 'FULFILLED', 'DELIVERED') AND o.paid_at IS NOT NULL
    GROUP BY o.id, l.product_id, o.currency_code, o.paid_at;
END $$;

-- An order whose counting (status), paid_at or currency changed.
CREATE FUNCTION orders_sales() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE ids bigint[];
BEGIN
    SELECT array_agg(d.id) INTO ids FROM (
        SELECT id, status IN ('PAID', 'FULFILLED', 'DELIVERED') AS counted, paid_at, currency_code FROM new_orders
        EXCEPT SELECT id, status IN ('PAID', 'FULFILLED', 'DELIVERED'), paid_at, currency_code FROM old_orders) d;
    IF ids IS NOT NULL THEN
        PERFORM write_sales(ids);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER orders_sales_upd AFTER UPDATE ON orders
    REFERENCING NEW TABLE AS new_orders OLD TABLE AS old_orders FOR EACH STATEMENT EXECUTE FUNCTION orders_sales();

-- Lines written or removed while their order is counted (a pending order's
-- lines, the checkout's, cost one look-up of their orders).
CREATE FUNCTION order_lines_sales() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(o.id) INTO ids FROM orders o
        WHERE o.id IN (SELECT order_id FROM new_rows) AND o.status IN ('PAID', 'FULFILLED', 'DELIVERED');
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT array_agg(o.id) INTO ids FROM orders o
        WHERE o.id IN (SELECT order_id FROM new_rows UNION SELECT order_id FROM old_rows) AND o.status IN ('PAID', 'FULFILLED', 'DELIVERED');
    ELSE
        SELECT array_agg(o.id) INTO ids FROM orders o
        WHERE o.id IN (SELECT order_id FROM old_rows) AND o.status IN ('PAID', 'FULFILLED', 'DELIVERED');
    END IF;
    IF ids IS NOT NULL THEN
        PERFORM write_sales(ids);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER order_lines_sales_ins AFTER INSERT ON order_lines
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION order_lines_sales();
CREATE TRIGGER order_lines_sales_upd AFTER UPDATE ON order_lines
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION order_lines_sales();
CREATE TRIGGER order_lines_sales_del AFTER DELETE ON order_lines
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION order_lines_sales();

-- Sales rows timed before the boundary, into the sales totals (a
-- rewritten order's rows go out and back in: the difference is what
-- changed). A totals row left with no order is removed.
CREATE FUNCTION content_sales_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE b timestamptz := figures_boundary();
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO content_sales_totals AS t (content_id, currency_code, orders, units, gmv)
        SELECT content_id, currency_code, count(*), sum(units), sum(gmv) FROM new_rows WHERE paid_at < b GROUP BY 1, 2
        ON CONFLICT (content_id, currency_code) DO UPDATE SET orders = t.orders + EXCLUDED.orders,
            units = t.units + EXCLUDED.units, gmv = t.gmv + EXCLUDED.gmv;
    ELSE
        INSERT INTO content_sales_totals AS t (content_id, currency_code, orders, units, gmv)
        SELECT content_id, currency_code, -count(*), -sum(units), -sum(gmv) FROM old_rows WHERE paid_at < b GROUP BY 1, 2
        ON CONFLICT (content_id, currency_code) DO UPDATE SET orders = t.orders + EXCLUDED.orders,
            units = t.units + EXCLUDED.units, gmv = t.gmv + EXCLUDED.gmv;
        DELETE FROM content_sales_totals t USING (SELECT DISTINCT content_id, currency_code FROM old_rows WHERE paid_at < b) d
        WHERE t.content_id = d.content_id AND t.currency_code = d.currency_code AND t.orders = 0;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER content_sales_rollup_ins AFTER INSERT ON content_sales
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION content_sales_rollup();
CREATE TRIGGER content_sales_rollup_del AFTER DELETE ON content_sales
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION content_sales_rollup();

CREATE FUNCTION product_sales_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE b timestamptz := figures_boundary();
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO product_sales_totals AS t (product_id, currency_code, orders, units, gmv)
        SELECT product_id, currency_code, count(*), sum(units), sum(gmv) FROM new_rows WHERE paid_at < b GROUP BY 1, 2
        ON CONFLICT (product_id, currency_code) DO UPDATE SET orders = t.orders + EXCLUDED.orders,
            units = t.units + EXCLUDED.units, gmv = t.gmv + EXCLUDED.gmv;
    ELSE
        INSERT INTO product_sales_totals AS t (product_id, currency_code, orders, units, gmv)
        SELECT product_id, currency_code, -count(*), -sum(units), -sum(gmv) FROM old_rows WHERE paid_at < b GROUP BY 1, 2
        ON CONFLICT (product_id, currency_code) DO UPDATE SET orders = t.orders + EXCLUDED.orders,
            units = t.units + EXCLUDED.units, gmv = t.gmv + EXCLUDED.gmv;
        DELETE FROM product_sales_totals t USING (SELECT DISTINCT product_id, currency_code FROM old_rows WHERE paid_at < b) d
        WHERE t.product_id = d.product_id AND t.currency_code = d.currency_code AND t.orders = 0;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER product_sales_rollup_ins AFTER INSERT ON product_sales
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION product_sales_rollup();
CREATE TRIGGER product_sales_rollup_del AFTER DELETE ON product_sales
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION product_sales_rollup();

-- fold_figures adds the raw rows of [closed_until, until) to the totals and
-- moves closed_until to until (nothing when until is not later). It takes
-- the rollup's lock exclusively first: the writers that read the old
-- boundary have committed when its sums read, and later ones read the new
-- boundary. Its statements each take a fresh snapshot (READ COMMITTED).
-- Returns whether it moved the boundary.
CREATE FUNCTION fold_figures(until timestamptz) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE b timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock(377062);
    SELECT closed_until INTO b FROM figures_rollup FOR UPDATE;
    IF until <= b THEN
        RETURN false;
    END IF;
    INSERT INTO content_figure_totals AS t (content_id, views, shares, impressions, clicks, likes, comments)
    SELECT content_id, sum(views), sum(shares), sum(impressions), sum(clicks), sum(likes), sum(comments) FROM (
        SELECT content_id, views, shares, product_impressions AS impressions, product_clicks AS clicks, 0 AS likes, 0 AS comments
            FROM content_event_counts WHERE bucket >= b AND bucket < until
        UNION ALL SELECT content_id, 0, 0, 0, 0, 1, 0 FROM content_likes WHERE created_at >= b AND created_at < until
        UNION ALL SELECT content_id, 0, 0, 0, 0, 0, 1 FROM comments WHERE created_at >= b AND created_at < until) d
    GROUP BY content_id
    ON CONFLICT (content_id) DO UPDATE SET views = t.views + EXCLUDED.views, shares = t.shares + EXCLUDED.shares,
        impressions = t.impressions + EXCLUDED.impressions, clicks = t.clicks + EXCLUDED.clicks,
        likes = t.likes + EXCLUDED.likes, comments = t.comments + EXCLUDED.comments;
    INSERT INTO product_figure_totals AS t (product_id, impressions, clicks)
    SELECT product_id, sum(impressions), sum(clicks) FROM product_event_counts WHERE bucket >= b AND bucket < until GROUP BY 1
    ON CONFLICT (product_id) DO UPDATE SET impressions = t.impressions + EXCLUDED.impressions, clicks = t.clicks + EXCLUDED.clicks;
    INSERT INTO content_sales_totals AS t (content_id, currency_code, orders, units, gmv)
    SELECT content_id, currency_code, count(*), sum(units), sum(gmv) FROM content_sales WHERE paid_at >= b AND paid_at < until GROUP BY 1, 2
    ON CONFLICT (content_id, currency_code) DO UPDATE SET orders = t.orders + EXCLUDED.orders,
        units = t.units + EXCLUDED.units, gmv = t.gmv + EXCLUDED.gmv;
    INSERT INTO product_sales_totals AS t (product_id, currency_code, orders, units, gmv)
    SELECT product_id, currency_code, count(*), sum(units), sum(gmv) FROM product_sales WHERE paid_at >= b AND paid_at < until GROUP BY 1, 2
    ON CONFLICT (product_id, currency_code) DO UPDATE SET orders = t.orders + EXCLUDED.orders,
        units = t.units + EXCLUDED.units, gmv = t.gmv + EXCLUDED.gmv;
    UPDATE figures_rollup SET closed_until = until;
    RETURN true;
END $$;

-- Today's data: every counted order's sales rows, then everything before
-- -infinity is nothing, and the first fold (here, up to the current hour)
-- sums the history once.
INSERT INTO figures_rollup (closed_until) VALUES ('-infinity');
INSERT INTO content_sales (order_id, content_id, currency_code, paid_at, units, gmv)
SELECT o.id, l.source_content_id, o.currency_code, o.paid_at, sum(l.quantity), sum(l.total_amount)
FROM orders o JOIN order_lines l ON l.order_id = o.id
WHERE o.status IN ('PAID', 'FULFILLED', 'DELIVERED') AND o.paid_at IS NOT NULL
    AND l.source_content_id IS NOT NULL AND NOT l.self_purchase
GROUP BY o.id, l.source_content_id, o.currency_code, o.paid_at;
INSERT INTO product_sales (order_id, product_id, currency_code, paid_at, units, gmv)
SELECT o.id, l.product_id, o.currency_code, o.paid_at, sum(l.quantity), sum(l.total_amount)
FROM orders o JOIN order_lines l ON l.order_id = o.id
WHERE o.status IN ('PAID', 'FULFILLED', 'DELIVERED') AND o.paid_at IS NOT NULL
GROUP BY o.id, l.product_id, o.currency_code, o.paid_at;
SELECT fold_figures(date_trunc('hour', now()));
