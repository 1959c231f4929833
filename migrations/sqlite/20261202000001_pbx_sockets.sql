-- Socket sources (Asterisk AMI, FreeSWITCH ESL): ringhook connects to them.
--
-- SQLite cannot change a CHECK constraint in place, so `sources` is rebuilt with the wider
-- kind list (the documented 12-step procedure). The store runs migrations with foreign keys
-- off, so dropping the old table cascades to nothing; the tables that reference `sources` by
-- name then reference the new one.
CREATE TABLE sources_new (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('kazoo', 'zoom', 'zorio', 'asterisk', 'freeswitch')),
    secret     TEXT NOT NULL,
    account_id TEXT,
    api_url    TEXT,
    api_key    TEXT,
    created_at TEXT NOT NULL
);
INSERT INTO sources_new (id, tenant_id, kind, secret, account_id, api_url, api_key, created_at)
    SELECT id, tenant_id, kind, secret, account_id, api_url, api_key, created_at FROM sources;
DROP TABLE sources;
ALTER TABLE sources_new RENAME TO sources;
CREATE INDEX sources_by_tenant ON sources (tenant_id);

-- Where ringhook connects (tcp://host:port), the login name (AMI only; the password is the
-- source's secret), and which serve process holds the connection until when (Unix ms).
CREATE TABLE pbx_sockets (
    source_id      TEXT PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
    url            TEXT NOT NULL,
    username       TEXT,
    holder         TEXT,
    lease_until_ms BIGINT NOT NULL DEFAULT 0
);
