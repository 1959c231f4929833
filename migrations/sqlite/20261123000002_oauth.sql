-- OAuth2 authorization server state. Codes and tokens are stored only as SHA-256 digests.

-- Keys ringhook signs with. One row per (purpose, generation): every instance inserts
-- generation 1 of each purpose if absent (ON CONFLICT DO NOTHING), so instances sharing a
-- database agree on the keys. The newest generation of a purpose is the one in use.
CREATE TABLE oauth_keys (
    id         TEXT PRIMARY KEY,
    purpose    TEXT NOT NULL CHECK (purpose IN ('access_token', 'refresh_successor', 'browser_session')),
    generation INTEGER NOT NULL,
    secret     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (purpose, generation)
);

-- A user's consent to one client, with the scopes granted. Revoking it ends every token
-- issued under it.
CREATE TABLE oauth_grants (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX oauth_grants_by_user ON oauth_grants (user_id);

-- Authorization codes (RFC 6749 §4.1.2): short-lived, single use. A used code is kept until
-- pruned so that a replay can be detected and the grant issued from it revoked.
CREATE TABLE oauth_codes (
    code_hash          TEXT PRIMARY KEY,
    client_id          TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id          TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    redirect_uri       TEXT NOT NULL,
    redirect_uri_given BOOLEAN NOT NULL,
    scope              TEXT NOT NULL,
    code_challenge     TEXT,
    expires_at         TEXT NOT NULL,
    used_at            TEXT,
    grant_id           TEXT REFERENCES oauth_grants (id) ON DELETE CASCADE
);
CREATE INDEX oauth_codes_by_expiry ON oauth_codes (expires_at);

-- Refresh tokens of a grant. Rotation retires the presented token and adds its successor.
CREATE TABLE oauth_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id   TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    retired_at TEXT
);
CREATE INDEX oauth_refresh_tokens_by_grant ON oauth_refresh_tokens (grant_id);

-- Access tokens revoked one by one (RFC 7009), until they would have expired anyway.
CREATE TABLE oauth_revoked_access_tokens (
    jti        TEXT PRIMARY KEY,
    grant_id   TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL
);
CREATE INDEX oauth_revoked_access_tokens_by_grant ON oauth_revoked_access_tokens (grant_id);
CREATE INDEX oauth_revoked_access_tokens_by_expiry ON oauth_revoked_access_tokens (expires_at);
