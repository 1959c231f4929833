-- Click-to-call on socket sources (Asterisk AMI, FreeSWITCH ESL). The API process that takes
-- `POST /v1/calls` may not be the one holding the source's connection, so it hands the dial
-- over through this table: the lease holder claims it (waiting -> sent), sends the Originate
-- and records the PBX's answer (accepted / refused); the API process, having waited in vain,
-- takes back a dial nobody claimed (waiting -> abandoned) so that it is never sent late.
ALTER TABLE pbx_sockets ADD COLUMN originate_context TEXT;

CREATE TABLE socket_dials (
    request_id    TEXT PRIMARY KEY REFERENCES call_requests (id) ON DELETE CASCADE,
    tenant_id     TEXT NOT NULL,
    source_id     TEXT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    endpoint      TEXT NOT NULL,
    to_number     TEXT NOT NULL,
    caller_id     TEXT,
    caller_name   TEXT NOT NULL,
    ring_seconds  BIGINT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('waiting', 'sent', 'accepted', 'refused', 'abandoned')),
    created_ms    BIGINT NOT NULL
);
CREATE INDEX socket_dials_waiting ON socket_dials (source_id, state, created_ms);
