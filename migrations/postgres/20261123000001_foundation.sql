-- Tenants, their users and sources, and OAuth clients.
CREATE TABLE tenants (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    default_country TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    extension     TEXT,
    number        TEXT,
    is_admin      BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, email),
    UNIQUE (tenant_id, extension)
);
CREATE INDEX users_by_email ON users (email);

CREATE TABLE sources (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('kazoo', 'zoom', 'zorio')),
    secret     TEXT NOT NULL,
    account_id TEXT,
    api_url    TEXT,
    api_key    TEXT,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sources_by_tenant ON sources (tenant_id);

-- How a source names a user: one external id names one user per source.
CREATE TABLE user_links (
    source_id   TEXT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (source_id, external_id)
);
CREATE INDEX user_links_by_user ON user_links (user_id);

CREATE TABLE oauth_clients (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    secret_hash   TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
