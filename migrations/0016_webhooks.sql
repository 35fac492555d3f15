-- Webhooks: apps subscribe to topics; each change writes its events (and one
-- delivery per subscription that may receive it) in the transaction that
-- makes the change (an outbox); a worker on every replica sends them.

-- The secret an app's webhooks are signed with (HMAC-SHA256). It must be
-- readable to sign, so unlike the client secret it is not stored hashed.
-- NULL until the app's first subscription (or webhookSecretRotate) makes one.
ALTER TABLE apps ADD COLUMN webhook_secret text;

CREATE TABLE webhook_subscriptions (
    id          bigserial PRIMARY KEY,
    app_id      bigint NOT NULL REFERENCES apps (id),
    topic       text NOT NULL,
    url         text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (app_id, topic, url)
);
CREATE INDEX webhook_subscriptions_topic_idx ON webhook_subscriptions (topic, app_id);

-- One row per change reported; its id is the event id receivers deduplicate on.
CREATE TABLE webhook_events (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    topic       text NOT NULL,
    shop_id     bigint,
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per (event, subscription): the delivery log. A delivery is sent by
-- the replica holding its lease (lease_until), one attempt at a time.
-- window_start is when the current series of attempts began (creation, or a
-- redelivery); attempts stop after the maximum age from it.
CREATE TABLE webhook_deliveries (
    id                  bigserial PRIMARY KEY,
    event_id            uuid NOT NULL REFERENCES webhook_events (id),
    subscription_id     bigint REFERENCES webhook_subscriptions (id) ON DELETE SET NULL,
    app_id              bigint NOT NULL REFERENCES apps (id),
    status              text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
    attempts            int NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    lease_until         timestamptz,
    window_start        timestamptz NOT NULL DEFAULT now(),
    last_attempt_at     timestamptz,
    last_response_code  int,
    last_response_body  text,
    last_error          text,
    delivered_at        timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX webhook_deliveries_app_idx ON webhook_deliveries (app_id, id);
-- Deleting a subscription fails its pending deliveries and unlinks them all.
CREATE INDEX webhook_deliveries_subscription_idx ON webhook_deliveries (subscription_id);

-- webhook_gid spells a global ID as the API does: base64url("Type:id"),
-- unpadded, so an event's payload names objects as GraphQL does.
CREATE FUNCTION webhook_gid(kind text, id bigint) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT rtrim(translate(encode(convert_to(kind || ':' || id::text, 'UTF8'), 'base64'), E'+/\n', '-_'), '=') $$;
