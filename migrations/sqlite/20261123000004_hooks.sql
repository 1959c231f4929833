-- REST Hook subscriptions and the delivery queue (the delivery row is the queue).

CREATE TABLE hooks (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The OAuth grant the hook was created under: revoking the grant disables its hooks.
    grant_id        TEXT,
    scope           TEXT NOT NULL CHECK (scope IN ('user', 'tenant')),
    event_type      TEXT NOT NULL,
    target_url      TEXT NOT NULL,
    secret          TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    disabled_reason TEXT,
    failing_since   TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX hooks_for_fanout ON hooks (tenant_id, status, event_type);
CREATE INDEX hooks_by_user ON hooks (user_id);
CREATE INDEX hooks_by_grant ON hooks (grant_id) WHERE grant_id IS NOT NULL;

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    -- No foreign key: a hook deleted (410 Gone, unsubscribe) while an ingest transaction fans
    -- out to it must not fail that ingest. Deleting a hook deletes its deliveries; a straggler
    -- is never claimed (claims join hooks) and is pruned.
    hook_id          TEXT NOT NULL,
    event_seq        INTEGER NOT NULL REFERENCES call_events (seq) ON DELETE CASCADE,
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    lease_token      TEXT,
    last_status_code INTEGER,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_hook ON deliveries (hook_id, created_at DESC);
CREATE INDEX deliveries_by_lease ON deliveries (lease_token) WHERE lease_token IS NOT NULL;

CREATE TABLE delivery_attempts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id   TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempted_at  TEXT NOT NULL,
    status_code   INTEGER,
    duration_ms   INTEGER NOT NULL,
    error         TEXT,
    response_body TEXT
);
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id, id);
CREATE INDEX delivery_attempts_by_age ON delivery_attempts (attempted_at);
