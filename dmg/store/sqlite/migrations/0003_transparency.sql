-- The transparency log: the hash of every complete subtree of the Merkle tree over the entries (level 0 = leaf
-- hashes). Its step hashes the entries already stored and gives namespaces their signing threshold (1, as before).
CREATE TABLE IF NOT EXISTS tlog_hashes (
    level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)
) WITHOUT ROWID;
