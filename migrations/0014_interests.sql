-- Interests learned from behaviour. A profile is a person ("user:42") or a
-- signed-out device ("device:d-81f2"), named as engagement events name their
-- viewer; logging in with a deviceId merges the device's rows into the
-- person's. Each row is one affinity: a weight and the moment it was last
-- written. Weights decay with a half-life (store.InterestWeights.HalfLife):
-- the weight now is weight * 2^(-(now - updated_at) / half-life), applied on
-- read and before every update, so rows need no background rewriting.
-- kind: TAG (a content hashtag), CREATOR (a user id), SHOP (a shop id),
-- CATEGORY (a carded product's category: its first tag).
CREATE TABLE interests (
    profile    text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('TAG', 'CREATOR', 'SHOP', 'CATEGORY')),
    key        text NOT NULL,
    weight     double precision NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (profile, kind, key)
);

-- What a profile did with each content: the positive engagement it showed
-- (co-engagement: people who engaged with what you engaged with), whether it
-- watched it to the end and whether it marked it "not interested" (both
-- keep it out of that profile's For You feed).
CREATE TABLE profile_contents (
    profile    text NOT NULL,
    content_id bigint NOT NULL REFERENCES contents (id) ON DELETE CASCADE,
    weight     double precision NOT NULL DEFAULT 0,
    completed  boolean NOT NULL DEFAULT false,
    dismissed  boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (profile, content_id)
);
CREATE INDEX profile_contents_content_idx ON profile_contents (content_id, weight DESC) WHERE weight > 0;

-- Candidate sources of the For You feed: contents with a tag, by author
-- (contents_author_idx exists) and converting now.
CREATE INDEX contents_tags_idx ON contents USING gin (tags);
CREATE INDEX content_scores_gpm_idx ON content_scores (gpm_7d DESC, content_id DESC) WHERE gpm_7d > 0;
