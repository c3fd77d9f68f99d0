-- Blocks, the accepted log entries in acceptance order, and the state they produce.
CREATE TABLE IF NOT EXISTS blocks (cid BLOB PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (
    position INTEGER PRIMARY KEY,
    cid BLOB NOT NULL UNIQUE,
    log TEXT NOT NULL,
    kind TEXT NOT NULL,
    seq INTEGER NOT NULL,
    time INTEGER NOT NULL,
    UNIQUE (log, seq)
);
CREATE TABLE IF NOT EXISTS namespaces (
    namespace TEXT PRIMARY KEY, head BLOB NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS namespace_keys (
    namespace TEXT NOT NULL, key BLOB NOT NULL, permissions TEXT NOT NULL, revoked INTEGER NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dxn_logs (
    dxn TEXT PRIMARY KEY, namespace TEXT NOT NULL, head BLOB NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS versions (
    dxn TEXT NOT NULL, version TEXT NOT NULL, record BLOB NOT NULL, entry BLOB NOT NULL,
    yanked INTEGER NOT NULL DEFAULT 0, yank_reason TEXT NOT NULL DEFAULT '',
    published_at INTEGER NOT NULL, publisher TEXT NOT NULL,
    PRIMARY KEY (dxn, version)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dxn_logs_by_namespace ON dxn_logs (namespace);
