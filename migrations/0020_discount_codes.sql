-- Discount codes (issue 20). A shop's codes take a percentage or a fixed
-- amount (minor units of the shop's currency) off the products they apply
-- to. The count of uses is a stock like any other: `uses` grows in the
-- checkout reservation's transaction, under the code row's lock, and the
-- CHECK refuses one use past the limit whatever the code path.
CREATE TABLE discount_codes (
    id              bigserial PRIMARY KEY,
    shop_id         bigint NOT NULL REFERENCES shops (id),
    -- as the seller wrote it; matched case-insensitively (unique per shop)
    code            text NOT NULL CHECK (length(code) BETWEEN 1 AND 40),
    kind            text NOT NULL CHECK (kind IN ('PERCENTAGE', 'FIXED_AMOUNT')),
    -- PERCENTAGE: basis points off (1000 = 10%)
    percent_bps     int CHECK (percent_bps BETWEEN 1 AND 10000),
    -- FIXED_AMOUNT: minor units of currency_code off
    amount          bigint CHECK (amount > 0),
    currency_code   char(3) NOT NULL,
    -- the products' subtotal (those it applies to) must be at least this
    min_subtotal    bigint NOT NULL DEFAULT 0 CHECK (min_subtotal >= 0),
    starts_at       timestamptz NOT NULL DEFAULT now(),
    ends_at         timestamptz,
    usage_limit     int CHECK (usage_limit > 0),
    per_buyer_limit int CHECK (per_buyer_limit > 0),
    -- NULL: every product of the shop
    product_ids     bigint[],
    active          boolean NOT NULL DEFAULT true,
    uses            int NOT NULL DEFAULT 0 CHECK (uses >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT discount_codes_value CHECK ((kind = 'PERCENTAGE') = (percent_bps IS NOT NULL) AND (kind = 'FIXED_AMOUNT') = (amount IS NOT NULL)),
    CONSTRAINT discount_codes_window CHECK (ends_at IS NULL OR ends_at > starts_at),
    CONSTRAINT discount_codes_usage CHECK (usage_limit IS NULL OR uses <= usage_limit)
);
CREATE UNIQUE INDEX discount_codes_shop_code ON discount_codes (shop_id, lower(code));
CREATE INDEX discount_codes_code ON discount_codes (lower(code));

-- The codes a buyer entered on their cart, in the order entered.
CREATE TABLE cart_discount_codes (
    buyer_id   bigint NOT NULL REFERENCES users (id),
    code       text NOT NULL,
    position   int NOT NULL,
    PRIMARY KEY (buyer_id, code)
);

-- One use of a code by one checkout: written with the checkout's
-- reservation, released (and the use given back) when the reservation is
-- released unpaid (declined, expired). buyer_key is "user:<id>" for a
-- person, "email:<lowercased email>" for a guest: the per-buyer limit
-- counts the unreleased uses under one key.
CREATE TABLE discount_redemptions (
    id          bigserial PRIMARY KEY,
    code_id     bigint NOT NULL REFERENCES discount_codes (id),
    checkout_id bigint NOT NULL REFERENCES checkouts (id),
    buyer_key   text NOT NULL,
    amount      bigint NOT NULL CHECK (amount >= 0),
    released    boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (code_id, checkout_id)
);
CREATE INDEX discount_redemptions_buyer ON discount_redemptions (code_id, buyer_key) WHERE NOT released;
CREATE INDEX discount_redemptions_checkout ON discount_redemptions (checkout_id);

-- What an order and its lines were discounted: the order's one code (at
-- most one code applies per shop) and the amounts allocated to its lines.
ALTER TABLE orders ADD COLUMN discount_code text, ADD COLUMN discount_amount bigint NOT NULL DEFAULT 0;
ALTER TABLE order_lines ADD COLUMN discount_amount bigint NOT NULL DEFAULT 0;
