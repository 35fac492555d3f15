-- Refresh tokens are opaque; only their SHA-256 is kept. Each use rotates the
-- token within its family; presenting a used one again revokes the family,
-- since only a thief would still hold it.
CREATE TABLE refresh_tokens (
    id          bigserial PRIMARY KEY,
    family_id   bigint NOT NULL,
    user_id     bigint NOT NULL REFERENCES users (id),
    token_hash  text NOT NULL UNIQUE,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE SEQUENCE refresh_token_family_seq;

-- Third-party apps get tokens with the OAuth client-credentials grant. A shop
-- app acts for one shop; a platform app (made by an admin) for the platform.
CREATE TABLE apps (
    id          bigserial PRIMARY KEY,
    client_id   text NOT NULL UNIQUE,
    secret_hash text NOT NULL,
    name        text NOT NULL,
    scopes      text[] NOT NULL,
    shop_id     bigint REFERENCES shops (id),
    created_by  bigint NOT NULL REFERENCES users (id),
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX apps_shop_idx ON apps (shop_id);
