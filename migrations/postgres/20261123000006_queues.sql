-- Readable queue names. A source names a queue by its own id (Kazoo queue id, Asterisk queue
-- name); an admin gives it the name queue triggers show, e.g. "Support".
CREATE TABLE queues (
    source_id   TEXT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source_id, external_id)
);
