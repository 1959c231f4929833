-- Ingest: raw-event dedupe, per-call normalizer state, emitted call events and who takes part.

-- A source's deliveries already applied, so a retried request changes nothing.
CREATE TABLE raw_event_receipts (
    source_id   TEXT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    dedupe_key  TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source_id, dedupe_key)
);
CREATE INDEX raw_event_receipts_by_age ON raw_event_receipts (received_at);

-- One row per logical call: the normalizer's state as JSON, and when it next needs a look.
CREATE TABLE calls (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    source_id  TEXT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    due_at     TIMESTAMPTZ,
    ended      BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX calls_due ON calls (due_at) WHERE due_at IS NOT NULL;

-- Every key a source may name a call by (interaction id, leg ids, park slot).
CREATE TABLE call_keys (
    source_id TEXT NOT NULL,
    key       TEXT NOT NULL,
    call_id   TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    PRIMARY KEY (source_id, key)
);
CREATE INDEX call_keys_by_call ON call_keys (call_id);

-- What subscribers receive, as JSON; `seq` orders insertion.
CREATE TABLE call_events (
    seq         BIGSERIAL PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    call_id     TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    payload     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX call_events_by_tenant ON call_events (tenant_id, occurred_at DESC, seq DESC);
CREATE INDEX call_events_by_tenant_type ON call_events (tenant_id, event_type, occurred_at DESC);

-- The users taking part in the call an event belongs to (their hooks receive it).
CREATE TABLE event_participants (
    event_seq BIGINT NOT NULL REFERENCES call_events (seq) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    PRIMARY KEY (event_seq, user_id)
);
CREATE INDEX event_participants_by_user ON event_participants (user_id, event_seq);
