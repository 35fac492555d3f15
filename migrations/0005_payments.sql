-- Reservations in flight when this runs have no payment record: release
-- them (a retry with their key answers CHECKOUT_EXPIRED).
UPDATE product_variants v SET stock = v.stock + x.q
FROM (SELECT l.variant_id, sum(l.quantity) AS q FROM order_lines l JOIN orders o ON o.id = l.order_id
      WHERE o.status = 'PENDING' GROUP BY l.variant_id) x
WHERE v.id = x.variant_id;
DELETE FROM orders WHERE status = 'PENDING';

-- Payments you can trust: a payment record is written with the reservation,
-- before the provider is called, keyed by the checkout (one buyer and one
-- idempotency key), with a provider key that never changes across retries,
-- restarts and replicas. Checkouts are never deleted: a reservation that is
-- not paid ends EXPIRED, its stock given back.
ALTER TABLE checkouts DROP CONSTRAINT checkouts_status_check;
ALTER TABLE checkouts ADD CONSTRAINT checkouts_status_check CHECK (status IN ('PENDING', 'PAID', 'DECLINED', 'EXPIRED'));
UPDATE checkouts SET status = 'EXPIRED', updated_at = now() WHERE status = 'PENDING';

ALTER TABLE payments ALTER COLUMN provider_ref DROP NOT NULL;
ALTER TABLE payments
    -- which provider took it ("test", "stripe")
    ADD COLUMN provider      text NOT NULL DEFAULT 'test',
    -- the idempotency key the provider is called with, derived from the
    -- buyer and the buyer's idempotency key: the same on every attempt
    ADD COLUMN provider_key  text,
    -- PENDING: the provider may or may not have charged (an attempt is due or
    -- running); CAPTURED: charged, provider_ref set; FAILED: nothing charged
    ADD COLUMN status        text NOT NULL DEFAULT 'CAPTURED' CHECK (status IN ('PENDING', 'CAPTURED', 'FAILED')),
    -- a process calling the provider holds the lease until then; another
    -- takes over only after it passed
    ADD COLUMN lease_until   timestamptz,
    ADD COLUMN attempts      integer NOT NULL DEFAULT 0,
    ADD COLUMN updated_at    timestamptz NOT NULL DEFAULT now();
UPDATE payments SET provider_key = 'checkout-' || checkout_id;
ALTER TABLE payments ALTER COLUMN provider_key SET NOT NULL;
ALTER TABLE payments ALTER COLUMN status SET DEFAULT 'PENDING';
ALTER TABLE payments ADD CONSTRAINT payments_provider_key_key UNIQUE (provider_key);
ALTER TABLE payments ADD CONSTRAINT payments_checkout_id_key UNIQUE (checkout_id);
ALTER TABLE payments ADD CONSTRAINT payments_captured_has_ref CHECK (status <> 'CAPTURED' OR provider_ref IS NOT NULL);
CREATE INDEX payments_pending_idx ON payments (updated_at) WHERE status = 'PENDING';

-- A refund owed for a cancelled order: written in the cancelling
-- transaction, sent to the provider afterwards, retried by the reconciler.
CREATE TABLE refunds (
    id            bigserial PRIMARY KEY,
    order_id      bigint NOT NULL UNIQUE REFERENCES orders (id),
    payment_id    bigint NOT NULL REFERENCES payments (id),
    amount        bigint NOT NULL CHECK (amount > 0),
    provider_key  text NOT NULL UNIQUE,
    status        text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DONE')),
    attempts      integer NOT NULL DEFAULT 0,
    lease_until   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_pending_idx ON refunds (updated_at) WHERE status = 'PENDING';

-- Attribution per line: a line is attributed to the content it was bought
-- from only when its product is a card on that content. The creator earns
-- the shop's affiliate rate on the line's total, rounded down to the minor
-- unit; a buyer who made the content (a self-purchase) earns nothing and the
-- line does not count toward the content's conversion figures.
ALTER TABLE order_lines
    ADD COLUMN source_content_id   bigint REFERENCES contents (id),
    ADD COLUMN creator_id          bigint REFERENCES users (id),
    ADD COLUMN commission_rate_bps integer NOT NULL DEFAULT 0,
    ADD COLUMN commission_amount   bigint NOT NULL DEFAULT 0 CHECK (commission_amount >= 0),
    ADD COLUMN self_purchase       boolean NOT NULL DEFAULT false;
UPDATE order_lines l SET source_content_id = o.source_content_id, creator_id = o.creator_id,
    commission_rate_bps = o.commission_rate_bps, commission_amount = l.total_amount * o.commission_rate_bps / 10000
FROM orders o WHERE o.id = l.order_id AND o.source_content_id IS NOT NULL;
CREATE INDEX order_lines_source_content_idx ON order_lines (source_content_id) WHERE source_content_id IS NOT NULL AND NOT self_purchase;

-- A cart line being bought is claimed by its checkout, so that a second
-- checkout of the same cart (another tab, another key) cannot buy it again.
ALTER TABLE cart_lines ADD COLUMN checkout_id bigint REFERENCES checkouts (id);

-- This database's random id: provider idempotency keys carry it, so two
-- databases sharing one provider account (staging and production, or a
-- database re-created) never ask for each other's payments.
CREATE TABLE installation (id text PRIMARY KEY DEFAULT gen_random_uuid()::text);
INSERT INTO installation DEFAULT VALUES;

-- The built-in test provider keeps its state here, where every replica sees
-- it, as an external provider would.
CREATE SEQUENCE test_provider_ref_seq;
CREATE TABLE test_provider_charges (
    idempotency_key text PRIMARY KEY,
    ref             text NOT NULL UNIQUE DEFAULT 'pay_test_' || nextval('test_provider_ref_seq'),
    amount          bigint NOT NULL,
    currency_code   char(3) NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE test_provider_refunds (
    idempotency_key text PRIMARY KEY,
    ref             text NOT NULL REFERENCES test_provider_charges (ref),
    amount          bigint NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
