-- The feed index's change log (issue 19): every API process keeps in memory
-- what the For You ranking reads per content (store/feed_index.go) and
-- catches up from this log: one row per content changed by a statement on a
-- table the ranking reads, with the writing transaction's id. A reader takes
-- the rows its last catch-up's snapshot could not see (txid at or above that
-- snapshot's xmin and not visible in it) and re-reads those contents with
-- the same statement's snapshot, so a transaction that commits late is
-- never skipped. Rows are pruned below the xmin of a snapshot taken at least
-- the retention ago (feed_changes_pruned.below records it: a reader whose
-- last snapshot is older reloads in full).
CREATE TABLE feed_changes (
    txid       xid8 NOT NULL DEFAULT pg_current_xact_id(),
    content_id bigint NOT NULL
);
CREATE INDEX feed_changes_txid_idx ON feed_changes (txid);

CREATE TABLE feed_changes_pruned (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    below    xid8 NOT NULL
);
INSERT INTO feed_changes_pruned (below) VALUES ('0'::xid8);

-- Tables whose rows carry content_id, or id for contents.
CREATE FUNCTION log_feed_changes_by_content_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO feed_changes (content_id) SELECT DISTINCT content_id FROM changed;
    RETURN NULL;
END $$;
CREATE FUNCTION log_feed_changes_by_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO feed_changes (content_id) SELECT id FROM changed;
    RETURN NULL;
END $$;

CREATE TRIGGER contents_feed_ins AFTER INSERT ON contents
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_feed_changes_by_id();
CREATE TRIGGER contents_feed_del AFTER DELETE ON contents
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_feed_changes_by_id();
-- An update logs only the contents whose ranked columns changed.
CREATE FUNCTION log_feed_changes_contents_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO feed_changes (content_id)
    SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE (n.kind, n.live_status, n.author_id, n.shop_id, n.tags, n.card_categories, n.published_at, n.created_at, n.view_count, n.like_count)
        IS DISTINCT FROM (o.kind, o.live_status, o.author_id, o.shop_id, o.tags, o.card_categories, o.published_at, o.created_at, o.view_count, o.like_count);
    RETURN NULL;
END $$;
CREATE TRIGGER contents_feed_upd AFTER UPDATE ON contents
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION log_feed_changes_contents_upd();

CREATE TRIGGER content_scores_feed_ins AFTER INSERT ON content_scores
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_feed_changes_by_content_id();
CREATE TRIGGER content_scores_feed_upd AFTER UPDATE ON content_scores
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_feed_changes_by_content_id();
CREATE TRIGGER content_scores_feed_del AFTER DELETE ON content_scores
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_feed_changes_by_content_id();

-- Cards decide which campaigns a content carries (their categories reach
-- contents.card_categories, logged above).
CREATE TRIGGER content_products_feed_ins AFTER INSERT ON content_products
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_feed_changes_by_content_id();
CREATE TRIGGER content_products_feed_upd AFTER UPDATE ON content_products
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_feed_changes_by_content_id();
CREATE TRIGGER content_products_feed_del AFTER DELETE ON content_products
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_feed_changes_by_content_id();

-- Enrolments and campaigns' windows: the contents carrying the products.
CREATE FUNCTION log_feed_changes_by_product_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO feed_changes (content_id)
    SELECT DISTINCT cp.content_id FROM content_products cp WHERE cp.product_id IN (SELECT product_id FROM changed);
    RETURN NULL;
END $$;
CREATE TRIGGER campaign_variants_feed_ins AFTER INSERT ON campaign_variants
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_feed_changes_by_product_id();
CREATE TRIGGER campaign_variants_feed_upd AFTER UPDATE ON campaign_variants
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_feed_changes_by_product_id();
CREATE TRIGGER campaign_variants_feed_upd_new AFTER UPDATE ON campaign_variants
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_feed_changes_by_product_id();
CREATE TRIGGER campaign_variants_feed_del AFTER DELETE ON campaign_variants
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_feed_changes_by_product_id();

CREATE FUNCTION log_feed_changes_campaigns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO feed_changes (content_id)
    SELECT DISTINCT cp.content_id FROM campaign_variants cv JOIN content_products cp ON cp.product_id = cv.product_id
    WHERE cv.campaign_id IN (SELECT id FROM changed);
    RETURN NULL;
END $$;
CREATE TRIGGER campaigns_feed_upd AFTER UPDATE ON campaigns
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION log_feed_changes_campaigns();
