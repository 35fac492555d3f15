-- checkout_reserve makes a checkout's short reservation and its flush one
-- round trip (store/checkout_reserve.go, reserveFast): the reservation
-- statement (reserveOneSQL for one variant, reserveManySQL for several;
-- their text here is the Go constants' text, verbatim, which
-- TestCheckoutReserveProcedureRunsTheGoStatements checks) commits on its own
-- without waiting for the disk, so the hot variant's row lock is let go at
-- once; then, in a second transaction that locks nothing, a transactional
-- logical message is committed under the session's synchronous_commit,
-- which returns once the WAL up to it, and so the reservation, is flushed
-- (or on a synchronous standby). The arguments are the statements' $1 to
-- $46; o_checkout_id is NULL when the idempotency key was taken (nothing
-- written, nothing to flush), o_taken the variants whose stock was taken,
-- o_mode 'flushed' once the reservation is durable. A statement that fails
-- (the stock's CHECK) fails the call with its own error, nothing written.
-- Called outside any transaction block (CALL may then commit).
CREATE PROCEDURE checkout_reserve(
	a1 bigint,
	a2 text,
	a3 text,
	a4 bigint,
	a5 character,
	a6 text,
	a7 jsonb,
	a8 bigint[],
	a9 bigint[],
	a10 integer[],
	a11 bigint[],
	a12 bigint[],
	a13 integer[],
	a14 bigint[],
	a15 bigint[],
	a16 bigint[],
	a17 bigint[],
	a18 text[],
	a19 text[],
	a20 text[],
	a21 integer[],
	a22 bigint[],
	a23 integer[],
	a24 bigint[],
	a25 bigint[],
	a26 integer[],
	a27 bigint[],
	a28 boolean[],
	a29 text,
	a30 text,
	a31 interval,
	a32 bigint[],
	a33 bigint[],
	a34 text[],
	a35 bigint[],
	a36 text[],
	a37 integer[],
	a38 bigint[],
	a39 boolean[],
	a40 bigint[],
	a41 text[],
	a42 bigint[],
	a43 bigint[],
	a44 bigint[],
	a45 bigint[],
	a46 bigint[],
	INOUT o_checkout_id bigint DEFAULT NULL, INOUT o_taken integer DEFAULT NULL, INOUT o_mode text DEFAULT NULL)
LANGUAGE plpgsql AS $proc$
BEGIN
    IF cardinality(a45) = 1 THEN
        WITH commit_mode AS MATERIALIZED (
		SELECT set_config('synchronous_commit', 'off', true) AS mode
	), claim AS (
		INSERT INTO checkouts (buyer_id, idempotency_key, request_hash, status, amount, currency_code)
		VALUES ($1, $2, $3, 'PENDING', $4, $5)
		ON CONFLICT (buyer_id, idempotency_key) DO NOTHING RETURNING id
	), arrays AS MATERIALIZED (
		SELECT $8::bigint[] AS shop_ids, $9::bigint[] AS subtotals, $10::int[] AS units, $11::bigint[] AS sources,
			$12::bigint[] AS creators, $13::int[] AS rates, $14::bigint[] AS commissions,
			$15::bigint[] AS line_shop_ids, $16::bigint[] AS variant_ids, $17::bigint[] AS product_ids, $18::text[] AS titles,
			$19::text[] AS variant_titles, $20::text[] AS skus, $21::int[] AS quantities, $22::bigint[] AS unit_prices,
			$23::int[] AS positions, $24::bigint[] AS line_sources, $25::bigint[] AS line_creators, $26::int[] AS line_rates,
			$27::bigint[] AS line_commissions, $28::bool[] AS line_self,
			$33::bigint[] AS totals, $34::text[] AS shipping_titles, $35::bigint[] AS shipping_amounts, $36::text[] AS tax_titles,
			$37::int[] AS tax_rates, $38::bigint[] AS tax_amounts, $39::bool[] AS taxes_included, $40::bigint[] AS line_taxes,
			$41::text[] AS discount_codes, $42::bigint[] AS discount_amounts, $43::bigint[] AS line_discounts,
			$44::bigint[] AS line_campaigns, $32::bigint[] AS cart_line_ids
	), new_orders AS (
		INSERT INTO orders (checkout_id, buyer_id, shop_id, status, currency_code, subtotal_amount, total_amount, units,
			campaign, source_content_id, creator_id, commission_rate_bps, commission_amount, shipping_address,
			shipping_title, shipping_amount, tax_title, tax_rate_bps, tax_amount, taxes_included, discount_code, discount_amount)
		SELECT claim.id, $1, o.shop_id, 'PENDING', $5, o.subtotal, o.total, o.units, $6, o.source, o.creator, o.rate, o.commission, $7::jsonb,
			o.shipping_title, o.shipping_amount, o.tax_title, o.tax_rate, o.tax_amount, o.taxes_included, o.discount_code, o.discount_amount
		FROM claim, arrays a, unnest(a.shop_ids, a.subtotals, a.units, a.sources, a.creators, a.rates, a.commissions,
				a.totals, a.shipping_titles, a.shipping_amounts, a.tax_titles, a.tax_rates, a.tax_amounts, a.taxes_included,
				a.discount_codes, a.discount_amounts)
			WITH ORDINALITY AS o(shop_id, subtotal, units, source, creator, rate, commission,
				total, shipping_title, shipping_amount, tax_title, tax_rate, tax_amount, taxes_included, discount_code, discount_amount, n)
		ORDER BY o.n
		RETURNING id, shop_id
	), new_lines AS (
		INSERT INTO order_lines (order_id, variant_id, product_id, title, variant_title, sku, quantity, unit_price_amount, total_amount, position,
			source_content_id, creator_id, commission_rate_bps, commission_amount, self_purchase, tax_amount, discount_amount, campaign_id)
		SELECT o.id, l.variant_id, l.product_id, l.title, l.variant_title, l.sku, l.quantity, l.unit_price, l.unit_price * l.quantity, l.position,
			l.source, l.creator, l.rate, l.commission, l.self, l.tax, l.discount, l.campaign
		FROM arrays a, unnest(a.line_shop_ids, a.variant_ids, a.product_ids, a.titles, a.variant_titles, a.skus, a.quantities, a.unit_prices, a.positions,
				a.line_sources, a.line_creators, a.line_rates, a.line_commissions, a.line_self, a.line_taxes, a.line_discounts, a.line_campaigns)
			AS l(shop_id, variant_id, product_id, title, variant_title, sku, quantity, unit_price, position, source, creator, rate, commission, self, tax, discount, campaign)
			JOIN new_orders o ON o.shop_id = l.shop_id
		RETURNING variant_id, quantity, unit_price_amount, campaign_id
	), payment AS (
		INSERT INTO payments (checkout_id, provider, provider_key, status, amount, currency_code, lease_until, attempts)
		SELECT id, $29, $30, 'PENDING', $4, $5, now() + $31::interval, 1 FROM claim
		RETURNING id
	), cart AS (
		UPDATE cart_lines c SET checkout_id = claim.id FROM claim
		WHERE c.buyer_id = $1 AND c.id = ANY((SELECT cart_line_ids FROM arrays)::bigint[]) AND c.checkout_id IS NULL
		RETURNING c.id
	), written AS MATERIALIZED (
		SELECT (SELECT count(*) FROM payment) AS payments,
			(SELECT count(*) FROM cart) = (SELECT cardinality(cart_line_ids) FROM arrays) AS cart_claimed
	), read_prices AS MATERIALIZED (
		SELECT $45::bigint[] AS ids, $46::bigint[] AS list_prices
	), offers AS MATERIALIZED (
		SELECT w.id, w.list_price, co.price_amount AS offer_price, co.campaign_id AS offer_campaign
		FROM read_prices r, unnest(r.ids, r.list_prices) AS w(id, list_price)
		LEFT JOIN LATERAL campaign_offer_rows(w.id, w.list_price, now()) co ON true
	), taken AS (
		UPDATE product_variants v SET stock = CASE
			WHEN v.price_amount = o.list_price AND coalesce(o.offer_price, o.list_price) = x.price
			     AND o.offer_campaign IS NOT DISTINCT FROM x.campaign AND v.currency_code = $5 AND p.status = 'ACTIVE'
			     AND w.payments = 1 AND w.cart_claimed THEN v.stock - x.q ELSE -1 END
		FROM products p, written w, offers o, (
			SELECT min(variant_id) AS id, sum(quantity) AS q, min(unit_price_amount) AS price, min(campaign_id) AS campaign FROM new_lines
		) x
		WHERE v.id = x.id AND o.id = x.id AND p.id = v.product_id
		RETURNING v.id
	)
	SELECT (SELECT id FROM claim) AS checkout_id, (SELECT count(*) FROM taken) AS taken, (SELECT mode FROM commit_mode) AS commit_mode
        INTO o_checkout_id, o_taken, o_mode;
    ELSE
        WITH commit_mode AS MATERIALIZED (
		SELECT set_config('synchronous_commit', 'off', true) AS mode
	), claim AS (
		INSERT INTO checkouts (buyer_id, idempotency_key, request_hash, status, amount, currency_code)
		VALUES ($1, $2, $3, 'PENDING', $4, $5)
		ON CONFLICT (buyer_id, idempotency_key) DO NOTHING RETURNING id
	), arrays AS MATERIALIZED (
		SELECT $8::bigint[] AS shop_ids, $9::bigint[] AS subtotals, $10::int[] AS units, $11::bigint[] AS sources,
			$12::bigint[] AS creators, $13::int[] AS rates, $14::bigint[] AS commissions,
			$15::bigint[] AS line_shop_ids, $16::bigint[] AS variant_ids, $17::bigint[] AS product_ids, $18::text[] AS titles,
			$19::text[] AS variant_titles, $20::text[] AS skus, $21::int[] AS quantities, $22::bigint[] AS unit_prices,
			$23::int[] AS positions, $24::bigint[] AS line_sources, $25::bigint[] AS line_creators, $26::int[] AS line_rates,
			$27::bigint[] AS line_commissions, $28::bool[] AS line_self,
			$33::bigint[] AS totals, $34::text[] AS shipping_titles, $35::bigint[] AS shipping_amounts, $36::text[] AS tax_titles,
			$37::int[] AS tax_rates, $38::bigint[] AS tax_amounts, $39::bool[] AS taxes_included, $40::bigint[] AS line_taxes,
			$41::text[] AS discount_codes, $42::bigint[] AS discount_amounts, $43::bigint[] AS line_discounts,
			$44::bigint[] AS line_campaigns, $32::bigint[] AS cart_line_ids
	), new_orders AS (
		INSERT INTO orders (checkout_id, buyer_id, shop_id, status, currency_code, subtotal_amount, total_amount, units,
			campaign, source_content_id, creator_id, commission_rate_bps, commission_amount, shipping_address,
			shipping_title, shipping_amount, tax_title, tax_rate_bps, tax_amount, taxes_included, discount_code, discount_amount)
		SELECT claim.id, $1, o.shop_id, 'PENDING', $5, o.subtotal, o.total, o.units, $6, o.source, o.creator, o.rate, o.commission, $7::jsonb,
			o.shipping_title, o.shipping_amount, o.tax_title, o.tax_rate, o.tax_amount, o.taxes_included, o.discount_code, o.discount_amount
		FROM claim, arrays a, unnest(a.shop_ids, a.subtotals, a.units, a.sources, a.creators, a.rates, a.commissions,
				a.totals, a.shipping_titles, a.shipping_amounts, a.tax_titles, a.tax_rates, a.tax_amounts, a.taxes_included,
				a.discount_codes, a.discount_amounts)
			WITH ORDINALITY AS o(shop_id, subtotal, units, source, creator, rate, commission,
				total, shipping_title, shipping_amount, tax_title, tax_rate, tax_amount, taxes_included, discount_code, discount_amount, n)
		ORDER BY o.n
		RETURNING id, shop_id
	), new_lines AS (
		INSERT INTO order_lines (order_id, variant_id, product_id, title, variant_title, sku, quantity, unit_price_amount, total_amount, position,
			source_content_id, creator_id, commission_rate_bps, commission_amount, self_purchase, tax_amount, discount_amount, campaign_id)
		SELECT o.id, l.variant_id, l.product_id, l.title, l.variant_title, l.sku, l.quantity, l.unit_price, l.unit_price * l.quantity, l.position,
			l.source, l.creator, l.rate, l.commission, l.self, l.tax, l.discount, l.campaign
		FROM arrays a, unnest(a.line_shop_ids, a.variant_ids, a.product_ids, a.titles, a.variant_titles, a.skus, a.quantities, a.unit_prices, a.positions,
				a.line_sources, a.line_creators, a.line_rates, a.line_commissions, a.line_self, a.line_taxes, a.line_discounts, a.line_campaigns)
			AS l(shop_id, variant_id, product_id, title, variant_title, sku, quantity, unit_price, position, source, creator, rate, commission, self, tax, discount, campaign)
			JOIN new_orders o ON o.shop_id = l.shop_id
		RETURNING variant_id, quantity, unit_price_amount, campaign_id
	), payment AS (
		INSERT INTO payments (checkout_id, provider, provider_key, status, amount, currency_code, lease_until, attempts)
		SELECT id, $29, $30, 'PENDING', $4, $5, now() + $31::interval, 1 FROM claim
		RETURNING id
	), cart AS (
		UPDATE cart_lines c SET checkout_id = claim.id FROM claim
		WHERE c.buyer_id = $1 AND c.id = ANY((SELECT cart_line_ids FROM arrays)::bigint[]) AND c.checkout_id IS NULL
		RETURNING c.id
	), written AS MATERIALIZED (
		SELECT (SELECT count(*) FROM payment) AS payments,
			(SELECT count(*) FROM cart) = (SELECT cardinality(cart_line_ids) FROM arrays) AS cart_claimed
	), read_prices AS MATERIALIZED (
		SELECT $45::bigint[] AS ids, $46::bigint[] AS list_prices
	), offers AS MATERIALIZED (
		SELECT w.id, w.list_price, co.price_amount AS offer_price, co.campaign_id AS offer_campaign
		FROM read_prices r, unnest(r.ids, r.list_prices) AS w(id, list_price)
		LEFT JOIN LATERAL campaign_offer_rows(w.id, w.list_price, now()) co ON true
	), taken AS (
		UPDATE product_variants v SET stock = CASE
			WHEN v.price_amount = o.list_price AND coalesce(o.offer_price, o.list_price) = x.price
			     AND o.offer_campaign IS NOT DISTINCT FROM x.campaign AND v.currency_code = $5 AND p.status = 'ACTIVE'
			     AND w.payments = 1 AND w.cart_claimed THEN v.stock - x.q ELSE -1 END
		FROM products p, written w, offers o, (
			SELECT variant_id AS id, sum(quantity) AS q, min(unit_price_amount) AS price, min(campaign_id) AS campaign FROM new_lines GROUP BY variant_id
		) x, (
			SELECT l.id FROM product_variants l WHERE l.id IN (SELECT variant_id FROM new_lines) ORDER BY l.id FOR NO KEY UPDATE OF l
		) locked
		WHERE v.id = locked.id AND v.id = x.id AND o.id = x.id AND p.id = v.product_id
		RETURNING v.id
	)
	SELECT (SELECT id FROM claim) AS checkout_id, (SELECT count(*) FROM taken) AS taken, (SELECT mode FROM commit_mode) AS commit_mode
        INTO o_checkout_id, o_taken, o_mode;
    END IF;
    IF o_checkout_id IS NULL THEN
        RETURN;
    END IF;
    COMMIT;
    PERFORM pg_logical_emit_message(true, 'showcase', 'reserved');
    o_mode := 'flushed';
END $proc$;
