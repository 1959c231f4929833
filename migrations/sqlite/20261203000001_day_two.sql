-- Day two: users and sources can be disabled, a source's secret rotated with a grace period,
-- and every admin action is recorded.

-- A disabled user cannot sign in and their grants were revoked when they were disabled.
ALTER TABLE users ADD COLUMN disabled_at TEXT;

-- A disabled source's requests are refused. After a rotation the previous secret still
-- verifies until previous_secret_until, so the PBX can be switched without losing events.
ALTER TABLE sources ADD COLUMN disabled_at TEXT;
ALTER TABLE sources ADD COLUMN previous_secret TEXT;
ALTER TABLE sources ADD COLUMN previous_secret_until TEXT;

-- Who did what, when. No foreign key to tenants: the record of a tenant's deletion outlives it.
-- Written in the transaction of the action it records; pruned with delivery history.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    details    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, id DESC);
CREATE INDEX audit_log_by_age ON audit_log (created_at);
