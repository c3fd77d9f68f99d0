-- Peers this registry federates with, and their sync state.
CREATE TABLE IF NOT EXISTS peers (
    name TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    patterns TEXT NOT NULL,
    mode TEXT NOT NULL,
    registry_key TEXT NOT NULL DEFAULT '',
    token TEXT NOT NULL DEFAULT '',
    homes TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'new',
    last_error TEXT NOT NULL DEFAULT '',
    failures INTEGER NOT NULL DEFAULT 0,
    last_sync INTEGER NOT NULL DEFAULT 0,
    entries_taken INTEGER NOT NULL DEFAULT 0,
    entries_refused INTEGER NOT NULL DEFAULT 0,
    added_at INTEGER NOT NULL
) WITHOUT ROWID;
-- The home logs mirrored: the newest checkpoint whose whole tree is known here (note), the checkpoint a sync in
-- progress verifies against (pending), how far the tree is known (size, with every complete subtree hash as
-- dmg.core.tlog numbers them), and the leaf of every entry taken from it.
CREATE TABLE IF NOT EXISTS home_logs (
    origin TEXT PRIMARY KEY,
    verifier_key TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    note_size INTEGER NOT NULL DEFAULT 0,
    pending TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS home_nodes (
    origin TEXT NOT NULL, level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
    PRIMARY KEY (origin, level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS home_entries (
    origin TEXT NOT NULL, leaf INTEGER NOT NULL, cid BLOB NOT NULL, namespace TEXT NOT NULL,
    PRIMARY KEY (origin, leaf)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS home_entries_by_cid ON home_entries (cid);
CREATE TABLE IF NOT EXISTS mirrored_namespaces (
    namespace TEXT PRIMARY KEY, origin TEXT NOT NULL
) WITHOUT ROWID;
-- Two signed checkpoints of one log that cannot both be true: why a peer is quarantined.
CREATE TABLE IF NOT EXISTS evidence (
    id INTEGER PRIMARY KEY,
    peer TEXT NOT NULL,
    origin TEXT NOT NULL,
    kind TEXT NOT NULL,
    first TEXT NOT NULL,
    second TEXT NOT NULL,
    detail TEXT NOT NULL,
    time INTEGER NOT NULL
);
