-- What the For You ranking reads per candidate, kept beside the content so that
-- scoring a candidate is an array lookup (store/foryou.go, forYouRankSQL).
--
-- card_categories: the distinct categories (a product's first tag) of the
-- products on a content's cards, kept current by the writes that change them:
-- a card added, removed or moved (content_products) and a product's first tag
-- edited (products.tags). The ranking scored each candidate's categories with a
-- join of content_products and products per candidate (about a fifth of the
-- statement's execution on the benchmark's quick dataset).
ALTER TABLE contents ADD COLUMN card_categories text[] NOT NULL DEFAULT '{}';

-- content_card_categories computes a content's card_categories from its cards
-- now. VOLATILE so that, inside a trigger, it reads with a fresh snapshot: two
-- transactions adding cards to the same content at once each recompute after
-- the other's commit (the second waits for the first's lock on the contents
-- row and re-evaluates).
CREATE FUNCTION content_card_categories(cid bigint) RETURNS text[] LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	RETURN (SELECT coalesce(array_agg(DISTINCT p.tags[1] ORDER BY p.tags[1]) FILTER (WHERE p.tags[1] IS NOT NULL), '{}')
		FROM content_products cp JOIN products p ON p.id = cp.product_id WHERE cp.content_id = cid);
END $$;

CREATE FUNCTION content_products_card_categories() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		UPDATE contents c SET card_categories = content_card_categories(c.id)
		WHERE c.id IN (SELECT content_id FROM new_cards);
	ELSIF TG_OP = 'DELETE' THEN
		UPDATE contents c SET card_categories = content_card_categories(c.id)
		WHERE c.id IN (SELECT content_id FROM old_cards);
	ELSE
		UPDATE contents c SET card_categories = content_card_categories(c.id)
		WHERE c.id IN (SELECT content_id FROM new_cards UNION SELECT content_id FROM old_cards);
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER content_products_card_categories_ins AFTER INSERT ON content_products
	REFERENCING NEW TABLE AS new_cards FOR EACH STATEMENT EXECUTE FUNCTION content_products_card_categories();
CREATE TRIGGER content_products_card_categories_del AFTER DELETE ON content_products
	REFERENCING OLD TABLE AS old_cards FOR EACH STATEMENT EXECUTE FUNCTION content_products_card_categories();
CREATE TRIGGER content_products_card_categories_upd AFTER UPDATE ON content_products
	REFERENCING NEW TABLE AS new_cards OLD TABLE AS old_cards FOR EACH STATEMENT EXECUTE FUNCTION content_products_card_categories();

CREATE FUNCTION products_card_categories() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE contents c SET card_categories = content_card_categories(c.id)
	WHERE c.id IN (SELECT cp.content_id FROM content_products cp JOIN new_products n ON n.id = cp.product_id
		JOIN old_products o ON o.id = n.id WHERE o.tags[1] IS DISTINCT FROM n.tags[1]);
	RETURN NULL;
END $$;

CREATE TRIGGER products_card_categories AFTER UPDATE ON products
	REFERENCING NEW TABLE AS new_products OLD TABLE AS old_products FOR EACH STATEMENT EXECUTE FUNCTION products_card_categories();

UPDATE contents c SET card_categories = content_card_categories(c.id)
WHERE EXISTS (SELECT 1 FROM content_products cp WHERE cp.content_id = c.id);

-- The newest contents of a shop by id (the ranking's followed-shop and
-- shop-affinity sources take the newest ten or sixty of each shop): the
-- shop's other indexes order by kind or publication, so each of those
-- sources read every content of the shop to keep ten.
CREATE INDEX contents_shop_id_idx ON contents (shop_id, id) WHERE shop_id IS NOT NULL;
