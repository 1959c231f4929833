-- The console's second day: verification failures per source, the raw events of each call as
-- received, re-enabled hooks, and the indexes the paginated calls list reads through.

-- Ingest requests refused for a bad signature, token or timestamp: one counter row per source
-- and hour, upserted per refusal (never the secret that was tried). Pruned with delivery history.
CREATE TABLE ingest_refusals (
    source_id       TEXT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    hour_start      TIMESTAMPTZ NOT NULL,
    refused         BIGINT NOT NULL,
    last_refused_at TIMESTAMPTZ NOT NULL,
    last_reason     TEXT NOT NULL,
    PRIMARY KEY (source_id, hour_start)
);
CREATE INDEX ingest_refusals_by_age ON ingest_refusals (hour_start);

-- Each raw event applied to a call, with the request body (or socket event) it came in, so an
-- admin can see why a call produced what it did. Written in the ingest transaction; pruned
-- with delivery history.
CREATE TABLE raw_events (
    id           BIGSERIAL PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    call_id      TEXT NOT NULL,
    source_id    TEXT NOT NULL,
    source_event TEXT NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    content_type TEXT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX raw_events_by_call ON raw_events (tenant_id, call_id, id);
CREATE INDEX raw_events_by_age ON raw_events (received_at);

-- When an admin last re-enabled a disabled hook: its failing streak counts from then.
ALTER TABLE hooks ADD COLUMN reenabled_at TIMESTAMPTZ;

-- The calls list: a tenant's events newest first by insertion (of one type, when filtered), and
-- a call's newer events (of that type) or its call.ended, each one index probe.
CREATE INDEX call_events_by_tenant_seq ON call_events (tenant_id, seq);
CREATE INDEX call_events_by_tenant_type_seq ON call_events (tenant_id, event_type, seq);
CREATE INDEX call_events_by_call ON call_events (tenant_id, call_id, event_type, seq);
