-- Socket sources (Asterisk AMI, FreeSWITCH ESL): ringhook connects to them.
ALTER TABLE sources DROP CONSTRAINT sources_kind_check;
ALTER TABLE sources ADD CONSTRAINT sources_kind_check
    CHECK (kind IN ('kazoo', 'zoom', 'zorio', 'asterisk', 'freeswitch'));

-- Where ringhook connects (tcp://host:port), the login name (AMI only; the password is the
-- source's secret), and which serve process holds the connection until when (Unix ms).
CREATE TABLE pbx_sockets (
    source_id      TEXT PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
    url            TEXT NOT NULL,
    username       TEXT,
    holder         TEXT,
    lease_until_ms BIGINT NOT NULL DEFAULT 0
);
