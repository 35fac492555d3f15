-- A checkout is one buyer's purchase attempt under an idempotency key: a
-- retry with the same key finds it and gets the same answer.
CREATE TABLE checkouts (
    id               bigserial PRIMARY KEY,
    buyer_id         bigint NOT NULL REFERENCES users (id),
    idempotency_key  text NOT NULL,
    request_hash     text NOT NULL,
    status           text NOT NULL CHECK (status IN ('PENDING', 'PAID', 'DECLINED')),
    -- the user error a declined checkout answers with, replayed on retries
    decline_code     text,
    decline_message  text,
    amount           bigint NOT NULL DEFAULT 0,
    currency_code    char(3),
    payment_ref      text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (buyer_id, idempotency_key)
);
CREATE INDEX checkouts_pending_idx ON checkouts (updated_at) WHERE status = 'PENDING';

CREATE SEQUENCE order_number_seq START 100001;

CREATE TABLE orders (
    id                  bigserial PRIMARY KEY,
    number              bigint NOT NULL DEFAULT nextval('order_number_seq') UNIQUE,
    checkout_id         bigint NOT NULL REFERENCES checkouts (id),
    buyer_id            bigint NOT NULL REFERENCES users (id),
    shop_id             bigint NOT NULL REFERENCES shops (id),
    -- PENDING holds reserved stock while the payment runs; buyers never see it.
    status              text NOT NULL CHECK (status IN ('PENDING', 'PAID', 'FULFILLED', 'DELIVERED', 'CANCELLED', 'REFUNDED')),
    currency_code       char(3) NOT NULL,
    subtotal_amount     bigint NOT NULL CHECK (subtotal_amount >= 0),
    total_amount        bigint NOT NULL CHECK (total_amount >= 0),
    units               integer NOT NULL CHECK (units > 0),
    -- the platform campaign the buyer came through, if any
    campaign            text,
    source_content_id   bigint REFERENCES contents (id),
    creator_id          bigint REFERENCES users (id),
    commission_rate_bps integer NOT NULL DEFAULT 0,
    commission_amount   bigint NOT NULL DEFAULT 0,
    shipping_address    jsonb NOT NULL,
    carrier             text,
    tracking_number     text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    paid_at             timestamptz,
    fulfilled_at        timestamptz,
    delivered_at        timestamptz,
    cancelled_at        timestamptz
);
CREATE INDEX orders_buyer_idx ON orders (buyer_id, id);
CREATE INDEX orders_shop_idx ON orders (shop_id, id);
CREATE INDEX orders_checkout_idx ON orders (checkout_id);
CREATE INDEX orders_source_content_idx ON orders (source_content_id) WHERE source_content_id IS NOT NULL;

CREATE TABLE order_lines (
    id                bigserial PRIMARY KEY,
    order_id          bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    variant_id        bigint NOT NULL REFERENCES product_variants (id),
    product_id        bigint NOT NULL REFERENCES products (id),
    title             text NOT NULL,
    variant_title     text NOT NULL,
    sku               text NOT NULL,
    quantity          integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    unit_price_amount bigint NOT NULL CHECK (unit_price_amount >= 0),
    total_amount      bigint NOT NULL CHECK (total_amount >= 0),
    position          integer NOT NULL DEFAULT 0
);
CREATE INDEX order_lines_order_idx ON order_lines (order_id, position);

CREATE TABLE payments (
    id            bigserial PRIMARY KEY,
    checkout_id   bigint NOT NULL REFERENCES checkouts (id),
    provider_ref  text NOT NULL UNIQUE,
    amount        bigint NOT NULL,
    currency_code char(3) NOT NULL,
    refunded      bigint NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= amount),
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- A buyer's cart is their set of cart lines; the cart's identity is the buyer.
CREATE TABLE cart_lines (
    id                bigserial PRIMARY KEY,
    buyer_id          bigint NOT NULL REFERENCES users (id),
    variant_id        bigint NOT NULL REFERENCES product_variants (id),
    quantity          integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    source_content_id bigint REFERENCES contents (id),
    -- the price the buyer saw when adding, so checkout can refuse a silent change
    seen_price_amount bigint NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (buyer_id, variant_id)
);
