-- Webhooks, hardened: a retention for the delivery log, and the webhook
-- secret's rotation with an overlap (see the README's Webhooks section).

-- When a delivery reached its final state (DELIVERED or FAILED); NULL while
-- PENDING. The retention sweep deletes deliveries settled longer ago than
-- WEBHOOK_RETENTION, never a pending one.
ALTER TABLE webhook_deliveries ADD COLUMN settled_at timestamptz;
UPDATE webhook_deliveries SET settled_at = coalesce(delivered_at, last_attempt_at, created_at) WHERE status <> 'PENDING';
CREATE INDEX webhook_deliveries_settled_idx ON webhook_deliveries (settled_at) WHERE status <> 'PENDING';
-- An event goes when its last delivery has gone: found through this index.
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);
CREATE INDEX webhook_events_created_idx ON webhook_events (created_at);

-- webhook_secret (and webhook_secret_previous) hold the secret sealed with
-- AES-256-GCM under a key of WEBHOOK_SECRET_KEYS ("gcm1:<key id>:<base64url
-- of nonce and ciphertext>", the app's id as associated data), or as is
-- when the server has no key (development). After webhookSecretRotate the
-- secret it replaced still signs deliveries, next to the new one, until
-- webhook_secret_previous_until.
ALTER TABLE apps ADD COLUMN webhook_secret_previous text,
    ADD COLUMN webhook_secret_previous_until timestamptz;
