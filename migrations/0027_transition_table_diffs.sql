-- Statement triggers that compare a statement's old and new rows without a
-- join of the two transition tables.
--
-- PL/pgSQL caches each statement's plan per connection, and a statement that
-- reads only transition tables has no parameters, so the plan made on the
-- connection's first call is kept: if that call changed one row, the plan
-- joins the old and new rows with a nested loop, and a later statement on the
-- same pooled connection that changes tens of thousands of rows rescans the
-- (spilled) old rows once per new row. Seen in the benchmark: after one
-- product edit, `UPDATE products SET status = 'ACTIVE'` over 50,000 products
-- ran for more than ten minutes in products_card_categories; the same
-- statement on a fresh connection took seconds.
--
-- Each function below takes the rows whose compared columns differ as new
-- EXCEPT old (a hash or sort of both sides, one pass each, whatever the
-- cached plan's row estimates were; NULLs compare equal, as with IS DISTINCT
-- FROM), then looks up other tables by index from that set.
-- store/transition_tables_test.go checks every trigger function that reads
-- two transition tables: no transition table is scanned more than once.

CREATE OR REPLACE FUNCTION products_card_categories() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE contents c SET card_categories = content_card_categories(c.id)
	WHERE c.id IN (SELECT cp.content_id FROM content_products cp WHERE cp.product_id IN (
		SELECT d.id FROM (SELECT id, tags[1] AS category FROM new_products
			EXCEPT SELECT id, tags[1] FROM old_products) d));
	RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION log_feed_changes_contents_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO feed_changes (content_id)
    SELECT DISTINCT d.id FROM (
        SELECT id, kind, live_status, author_id, shop_id, tags, card_categories, published_at, created_at, view_count, like_count FROM new_rows
        EXCEPT
        SELECT id, kind, live_status, author_id, shop_id, tags, card_categories, published_at, created_at, view_count, like_count FROM old_rows) d;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION log_score_changes_by_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO content_score_changes (content_id)
    SELECT DISTINCT l.source_content_id
    FROM order_lines l
    WHERE l.order_id IN (SELECT d.id FROM (SELECT id, status, paid_at FROM new_orders
            EXCEPT SELECT id, status, paid_at FROM old_orders) d)
        AND l.source_content_id IS NOT NULL;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION log_score_changes_of_contents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO content_score_changes (content_id)
    SELECT DISTINCT d.id FROM (
        SELECT id, view_count, like_count, kind, live_status FROM new_contents
        EXCEPT
        SELECT id, view_count, like_count, kind, live_status FROM old_contents) d;
    RETURN NULL;
END $$;
