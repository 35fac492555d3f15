-- campaign_offer_rows is campaign_offer (0022) as a set-returning SQL
-- function: zero rows when no campaign applies, else the one offer. A plain
-- LANGUAGE sql STABLE set-returning function, not STRICT, called in FROM
-- (LEFT JOIN LATERAL campaign_offer_rows(v.id, v.price_amount, now()) o ON true),
-- is inlined by the planner into the calling statement: a page of variants
-- priced with it is one plan with an index lookup per variant, where
-- campaign_offer in the select list (a composite-returning function, never
-- inlined) ran its own executor per call, three calls per variant for its
-- three columns.
CREATE FUNCTION campaign_offer_rows(variant bigint, list_price bigint, at timestamptz)
    RETURNS TABLE (campaign_id bigint, price_amount bigint, compare_at_amount bigint)
    LANGUAGE sql STABLE
    AS $$
        SELECT cv.campaign_id, cv.price_amount, least(list_price, cv.list_price_amount) FROM campaign_variants cv JOIN campaigns k ON k.id = cv.campaign_id
        WHERE cv.variant_id = variant AND k.starts_at <= at AND at < k.ends_at AND cv.price_amount <= list_price
        ORDER BY cv.price_amount, cv.campaign_id LIMIT 1
    $$;

-- campaign_offer keeps its signature and its row (all NULL when no campaign
-- applies) for the callers that use it in a select list, and now reads the
-- one rule, campaign_offer_rows.
CREATE OR REPLACE FUNCTION campaign_offer(variant bigint, list_price bigint, at timestamptz,
        OUT campaign_id bigint, OUT price_amount bigint, OUT compare_at_amount bigint)
    LANGUAGE sql STABLE
    AS $$
        SELECT o.campaign_id, o.price_amount, o.compare_at_amount FROM campaign_offer_rows(variant, list_price, at) o
    $$;
