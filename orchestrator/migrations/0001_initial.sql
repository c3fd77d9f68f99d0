-- Installed functions and their invocation records.
CREATE TABLE IF NOT EXISTS functions (
    dxn TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    record_cid TEXT NOT NULL,
    record_block BLOB NOT NULL,
    state TEXT NOT NULL,
    granted TEXT NOT NULL,
    root INTEGER NOT NULL,
    installed_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS invocations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    dxn TEXT NOT NULL REFERENCES functions (dxn) ON DELETE CASCADE,
    function TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    logs TEXT NOT NULL,
    fuel_used INTEGER,
    peak_memory INTEGER,
    duration_ms REAL,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX IF NOT EXISTS invocations_by_function ON invocations (dxn, seq);
CREATE INDEX IF NOT EXISTS invocations_by_status ON invocations (status, dxn, seq);
