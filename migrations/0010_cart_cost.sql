-- Cart cost: shipping rates and tax rates per shop by destination country,
-- the cart's destination and delivery choices, saved addresses, and what an
-- order records of its shipping and tax. Amounts are integer minor units of
-- the shop's currency.

-- A shop ships to a country at a flat price, free from a subtotal on when
-- free_over_amount is set. country_code NULL is the rest of the world: it
-- applies to every country the shop has no rate of its own for. A shop with
-- no rates at all ships everywhere, free (as before rates existed).
CREATE TABLE shipping_rates (
    id               bigserial PRIMARY KEY,
    shop_id          bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    country_code     char(2) CHECK (country_code ~ '^[A-Z]{2}$'),
    name             text NOT NULL,
    price_amount     bigint NOT NULL CHECK (price_amount >= 0),
    free_over_amount bigint CHECK (free_over_amount >= 0),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX shipping_rates_name_key ON shipping_rates (shop_id, coalesce(country_code, '*'), lower(name));

-- A shop's tax rate for a destination country, in basis points; NULL
-- country is the rest of the world. No rate: no tax.
CREATE TABLE tax_rates (
    id           bigserial PRIMARY KEY,
    shop_id      bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    country_code char(2) CHECK (country_code ~ '^[A-Z]{2}$'),
    title        text NOT NULL DEFAULT 'Tax',
    rate_bps     integer NOT NULL CHECK (rate_bps BETWEEN 0 AND 10000),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tax_rates_country_key ON tax_rates (shop_id, coalesce(country_code, '*'));

-- Whether the shop's prices include tax (VAT style) or tax is added on top.
ALTER TABLE shops ADD COLUMN taxes_included boolean NOT NULL DEFAULT false;

-- A signed-in buyer's saved addresses; at most one is the default.
CREATE TABLE customer_addresses (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        text NOT NULL,
    line1       text NOT NULL,
    line2       text NOT NULL DEFAULT '',
    city        text NOT NULL,
    region      text NOT NULL DEFAULT '',
    postal_code text NOT NULL,
    country_code char(2) NOT NULL CHECK (country_code ~ '^[A-Z]{2}$'),
    phone       text NOT NULL DEFAULT '',
    is_default  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_addresses_user_idx ON customer_addresses (user_id, id);
CREATE UNIQUE INDEX customer_addresses_one_default ON customer_addresses (user_id) WHERE is_default;

-- Where a buyer's cart ships to (a country, or a saved address), and the
-- delivery option chosen per shop.
CREATE TABLE cart_destinations (
    buyer_id     bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    country_code char(2) CHECK (country_code ~ '^[A-Z]{2}$'),
    address_id   bigint REFERENCES customer_addresses (id) ON DELETE SET NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE cart_delivery_options (
    buyer_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    shop_id          bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    shipping_rate_id bigint NOT NULL REFERENCES shipping_rates (id) ON DELETE CASCADE,
    PRIMARY KEY (buyer_id, shop_id)
);

-- What an order charged for shipping and tax. total_amount = subtotal +
-- shipping + (tax unless taxes_included): what the provider charged for it.
ALTER TABLE orders
    ADD COLUMN shipping_title  text,
    ADD COLUMN shipping_amount bigint NOT NULL DEFAULT 0 CHECK (shipping_amount >= 0),
    ADD COLUMN tax_title       text,
    ADD COLUMN tax_rate_bps    integer NOT NULL DEFAULT 0,
    ADD COLUMN tax_amount      bigint NOT NULL DEFAULT 0 CHECK (tax_amount >= 0),
    ADD COLUMN taxes_included  boolean NOT NULL DEFAULT false;
ALTER TABLE order_lines ADD COLUMN tax_amount bigint NOT NULL DEFAULT 0 CHECK (tax_amount >= 0);
