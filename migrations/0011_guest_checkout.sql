-- Guest checkout (issue 17). An anonymous buyer's cart is a guest: a users
-- row that never signs in (is_guest; its email and handle are placeholders
-- no sign-up can take, its password hash matches no password), so carts,
-- checkouts, idempotency keys and orders work for guests as for people.
-- The guest's cart key is a 256-bit secret carried in the cart's ID; only
-- its SHA-256 is stored.
ALTER TABLE users ADD COLUMN is_guest boolean NOT NULL DEFAULT false;

CREATE TABLE guest_carts (
    user_id    bigint PRIMARY KEY REFERENCES users (id),
    -- hex SHA-256 of the cart key
    key_hash   text NOT NULL,
    -- the account that adopted the cart; the key then opens nothing
    adopted_by bigint REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A guest checkout that was paid: the email it was made with and the hash of
-- its order token (HMAC of the cart key and the checkout's id, so a retry
-- with the same idempotency key gets the same token).
CREATE TABLE guest_checkouts (
    checkout_id bigint PRIMARY KEY REFERENCES checkouts (id),
    email       text NOT NULL,
    token_hash  text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
