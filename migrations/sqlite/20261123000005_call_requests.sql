-- Click-to-call: one row per `POST /v1/calls`. Its status follows the dial result and then the
-- call events whose `call.correlation.request_id` (or source call id) names it.
CREATE TABLE call_requests (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    source_id   TEXT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    to_number   TEXT NOT NULL,
    caller_id   TEXT,
    status      TEXT NOT NULL CHECK (status IN ('requested', 'ringing', 'answered', 'ended', 'failed')),
    reason      TEXT,
    pbx_call_id TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX call_requests_by_tenant ON call_requests (tenant_id, created_at DESC);
CREATE INDEX call_requests_by_pbx_call ON call_requests (source_id, pbx_call_id)
    WHERE pbx_call_id IS NOT NULL;
