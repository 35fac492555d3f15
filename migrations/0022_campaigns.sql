-- Platform campaigns (issue #20): admins create them, shops enrol variants
-- with a campaign price, and the checkout credits an order line to a
-- campaign only when it sold an enrolled variant during the campaign at the
-- campaign price. The old free-text orders.campaign, which any client could
-- set, is no longer written or counted.
CREATE TABLE campaigns (
    id                bigserial PRIMARY KEY,
    handle            text NOT NULL,
    name              text NOT NULL,
    -- The campaign runs over [starts_at, ends_at): from its start, inclusive,
    -- to its end, exclusive.
    starts_at         timestamptz NOT NULL,
    ends_at           timestamptz NOT NULL,
    -- Rules of enrolment, in basis points of the variant's list price (100 =
    -- 1%): a campaign price must be at least min_discount_bps and at most
    -- max_discount_bps off.
    min_discount_bps  int NOT NULL CHECK (min_discount_bps BETWEEN 1 AND 9900),
    max_discount_bps  int NOT NULL CHECK (max_discount_bps BETWEEN 1 AND 9900),
    created_by        bigint REFERENCES users (id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    CHECK (min_discount_bps <= max_discount_bps)
);
CREATE UNIQUE INDEX campaigns_handle_key ON campaigns (lower(handle));
CREATE INDEX campaigns_window_idx ON campaigns (starts_at, ends_at);

-- A variant enrolled in a campaign at a campaign price (minor units of the
-- variant's currency). list_price_amount is the variant's price when it was
-- enrolled: the "compare at" price shown while the campaign runs.
CREATE TABLE campaign_variants (
    campaign_id        bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    variant_id         bigint NOT NULL REFERENCES product_variants (id),
    product_id         bigint NOT NULL REFERENCES products (id),
    shop_id            bigint NOT NULL REFERENCES shops (id),
    price_amount       bigint NOT NULL CHECK (price_amount > 0),
    list_price_amount  bigint NOT NULL CHECK (list_price_amount > price_amount),
    currency_code      char(3) NOT NULL,
    enrolled_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, variant_id)
);
CREATE INDEX campaign_variants_variant_idx ON campaign_variants (variant_id);
CREATE INDEX campaign_variants_product_idx ON campaign_variants (product_id, campaign_id);
CREATE INDEX campaign_variants_shop_idx ON campaign_variants (shop_id, campaign_id);

-- campaign_offer is the campaign price of a variant at a moment: the lowest
-- price among the campaigns it is enrolled in that run at that moment
-- (starts_at <= at < ends_at), and only when it is at most the variant's
-- list price now (a seller who lowered the list price under the campaign
-- price sells at the list price, uncredited). compare_at_amount is the price
-- it is compared with: the lower of the list price now and the list price at
-- enrolment, so a list price raised after enrolment never inflates the
-- discount shown. All columns are NULL when no campaign applies. Carts,
-- checkouts and product cards all price through it.
CREATE FUNCTION campaign_offer(variant bigint, list_price bigint, at timestamptz,
        OUT campaign_id bigint, OUT price_amount bigint, OUT compare_at_amount bigint)
    LANGUAGE sql STABLE
    AS $$
        SELECT cv.campaign_id, cv.price_amount, least(list_price, cv.list_price_amount) FROM campaign_variants cv JOIN campaigns k ON k.id = cv.campaign_id
        WHERE cv.variant_id = variant AND k.starts_at <= at AND at < k.ends_at AND cv.price_amount <= list_price
        ORDER BY cv.price_amount, cv.campaign_id LIMIT 1
    $$;

-- The campaign an order line is credited to, decided by the checkout in the
-- transaction that priced the line.
ALTER TABLE order_lines ADD COLUMN campaign_id bigint REFERENCES campaigns (id);
CREATE INDEX order_lines_campaign_idx ON order_lines (campaign_id, product_id) WHERE campaign_id IS NOT NULL;
