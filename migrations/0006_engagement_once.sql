-- Each kind of engagement event counts once per viewer per content (and
-- product, for product events) per 30-minute window: a row here is one
-- (window, key) already counted, where key is a 64-bit hash of the kind, the
-- content, the product and the viewer (user or device), kept narrow because
-- every new viewer's event inserts one. The flush inserts with ON CONFLICT DO
-- NOTHING and counts only the rows it inserted, in the transaction that adds
-- to the counters, so the rule holds across replicas and restarts. Rows of
-- windows more than one window old are deleted by the flush.
CREATE TABLE engagement_once (
    window_start timestamptz NOT NULL,
    key          bigint NOT NULL,
    PRIMARY KEY (window_start, key)
);
