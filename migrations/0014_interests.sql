-- Interests learned from behaviour. A profile is a person ("user:42") or a
-- signed-out device ("device:d-81f2"), named as engagement events name their
-- viewer; logging in with a deviceId merges the device's row into the
-- person's. One row per profile, so that a flush writes one row per viewer
-- however many features a content has: weights maps "KIND:key" to a weight
-- as of updated_at, where KIND is TAG (a content hashtag), CREATOR (a user
-- id), SHOP (a shop id) or CATEGORY (a carded product's category: its first
-- tag). Weights decay with a half-life (store.ForYouSettings.HalfLifeHours):
-- the weight now is weight * 2^(-(now - updated_at) / half-life). Decay is
-- the same for every key, so one moment per profile suffices; it is applied
-- on read and before every update, and nothing rewrites rows in the
-- background. A profile keeps its 200 strongest keys.
CREATE TABLE interests (
    profile    text PRIMARY KEY,
    weights    jsonb NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL
);

-- What a profile did with each content that matters: engagement worth at
-- least a like (co-engagement: people who engaged with what you engaged
-- with), watching it to the end and marking it "not interested" (both keep
-- it out of that profile's For You feed). Passing views are not kept here.
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
