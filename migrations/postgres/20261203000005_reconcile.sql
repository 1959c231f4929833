-- Reconciliation: where each source's history sweep got to, and which serve process sweeps it.

-- Events recovered from a PBX's call history say so ('reconciled'); the rest are 'live'.
ALTER TABLE call_events ADD COLUMN origin TEXT NOT NULL DEFAULT 'live';

-- The end of the last history window swept for a source (Unix ms), and the lease that lets
-- exactly one process sweep it at a time when several share a database.
CREATE TABLE reconcile_watermarks (
    source_id      TEXT PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
    swept_to_ms    BIGINT,
    holder         TEXT,
    lease_until_ms BIGINT NOT NULL DEFAULT 0
);
