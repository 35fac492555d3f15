-- Search over videos, live sessions, products, creators and shops, and the
-- per-viewer product views that "related products" learn from.
--
-- Text is matched after folding (search_fold): Unicode compatibility forms
-- unified (NFKD), accents removed (combining marks U+0300–U+036F, plus the
-- few Latin letters that do not decompose), then lower-cased by ICU, so
-- "CRÈME", "Crème" and "creme" are one word. PostgreSQL's unaccent extension
-- is not needed. Chinese and Japanese write words without spaces: each run
-- of CJK characters is indexed as its single characters and its overlapping
-- pairs (search_cjk_grams), so a two-character query finds any caption that
-- contains those two characters in a row, and a longer one every pair of it.
-- The rest is PostgreSQL's English parser and stemmer (Indonesian words pass
-- through it unchanged). Queries go through the same two functions
-- (search_query), so documents and queries always agree.

CREATE FUNCTION search_fold(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT translate(lower(normalize(regexp_replace(normalize(t, NFKD), '[\u0300-\u036f]', '', 'g'), NFC) COLLATE "und-x-icu"),
        'øđłħıŧ', 'odlhit')
$$;

CREATE FUNCTION search_cjk_grams(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT regexp_replace(t, '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+', ' ', 'g')
        || coalesce(' ' || (
            SELECT string_agg(g, ' ')
            FROM regexp_matches(t, '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+', 'g') AS m(r),
                 LATERAL (
                    SELECT substr(m.r[1], i, 1) FROM generate_series(1, char_length(m.r[1])) AS i
                    UNION ALL
                    SELECT substr(m.r[1], i, 2) FROM generate_series(1, char_length(m.r[1]) - 1) AS i
                 ) AS x(g)
        ), '')
$$;

-- search_vector is the tsvector of one field of a document, at one weight
-- (A: titles and names, B: tags and handles, C: descriptions).
CREATE FUNCTION search_vector(t text, w "char") RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('english'::regconfig, search_cjk_grams(search_fold(coalesce(t, '')))), w)
$$;

-- search_query turns what a person typed into a tsquery: folded, CJK split
-- as documents are, then read as a web search (words ANDed, "quoted
-- phrases", -excluded, or).
CREATE FUNCTION search_query(q text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT websearch_to_tsquery('english'::regconfig, search_cjk_grams(search_fold(coalesce(q, ''))))
$$;

-- Product search (ProductFilter.search and search) uses the same document
-- functions: the stored column is rebuilt from them.
CREATE OR REPLACE FUNCTION product_search_document(title text, tags text[], description text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT search_vector(title, 'A') || search_vector(array_to_string(tags, ' '), 'B') || search_vector(description, 'C')
$$;
DROP INDEX products_search_idx;
ALTER TABLE products DROP COLUMN search;
ALTER TABLE products ADD COLUMN search tsvector GENERATED ALWAYS AS (product_search_document(title, tags, description)) STORED;
CREATE INDEX products_search_idx ON products USING gin (search);

-- Videos (caption) and live sessions (title), with their hashtags.
CREATE FUNCTION content_search_document(caption text, title text, tags text[])
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT search_vector(coalesce(caption, title), 'A') || search_vector(array_to_string(tags, ' '), 'B')
$$;
ALTER TABLE contents ADD COLUMN search tsvector GENERATED ALWAYS AS (content_search_document(caption, title, tags)) STORED;
CREATE INDEX contents_search_idx ON contents USING gin (search);

-- Creators by display name and handle; only creators are searched.
ALTER TABLE users ADD COLUMN search tsvector GENERATED ALWAYS AS
    (search_vector(display_name, 'A') || search_vector(handle, 'B')) STORED;
CREATE INDEX users_search_idx ON users USING gin (search) WHERE is_creator;

-- Shops by name, handle and description.
ALTER TABLE shops ADD COLUMN search tsvector GENERATED ALWAYS AS
    (search_vector(name, 'A') || search_vector(handle, 'B') || search_vector(description, 'C')) STORED;
CREATE INDEX shops_search_idx ON shops USING gin (search);

-- Which products each viewer (a signed-in person, or a device) opened, from
-- PRODUCT_CLICK engagement events as they are counted (once per viewer per
-- product per half hour): the co-viewing that RELATED recommendations and
-- a person's own recommendations learn from. viewer_key is a 64-bit hash of
-- the viewer ("user:42", "device:…"); user_id is set for people. Rows not
-- touched for 90 days are deleted by the event flush.
CREATE TABLE product_views (
    viewer_key bigint NOT NULL,
    user_id    bigint,
    product_id bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    views      integer NOT NULL DEFAULT 1,
    last_at    timestamptz NOT NULL,
    PRIMARY KEY (viewer_key, product_id)
);
CREATE INDEX product_views_product_idx ON product_views (product_id, last_at DESC);
CREATE INDEX product_views_viewer_idx ON product_views (viewer_key, last_at DESC);
CREATE INDEX product_views_user_idx ON product_views (user_id, last_at DESC) WHERE user_id IS NOT NULL;
CREATE INDEX product_views_time_idx ON product_views (last_at);
