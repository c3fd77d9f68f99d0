"""The embedded store: one SQLite file (WAL mode) through aiosqlite.

Tables: ``blocks`` (CID → bytes), ``entries`` (every accepted log entry in acceptance order), and the derived
state: ``namespaces`` + ``namespace_keys`` (log heads and permissions), ``dxn_logs`` + ``versions`` (log heads and
the name → version → record index). :meth:`SQLiteStore.commit` writes a whole :class:`Commit` inside one
``BEGIN IMMEDIATE`` transaction and rolls back on any error, so a failed publish leaves the file unchanged. The
``UNIQUE (log, seq)`` constraint turns a race between two writers on the same log into a
:class:`ConflictError` instead of a fork.

Search: ``module_text`` (FTS5, one row per released version: name, descriptions, function names) and
``module_apis`` (the APIs each version provides or requires) are written by the same commit as the release.

Transparency log: ``tlog_hashes`` holds the hash of every complete subtree of the Merkle tree over the entries
(level 0 = leaf hashes; C2SP tiles are runs of this table), written by the same commit as the entries, whose
``position`` is their leaf index plus one. A commit first checks that the file still holds the ``tree_size``
entries the registry built on, so two processes writing one file cannot interleave their trees.

The schema is the numbered SQL files in ``migrations/``, applied on open by :mod:`dmg.db.migrations`, each in
one transaction: 1 the tables above, 2 search (its step indexes the records already stored), 3 the transparency log
(its step hashes every stored entry into the tree and gives namespaces their threshold).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, TypeVar

import aiosqlite

from dmg.api.results import EntryKind, StoredEntry, StoreStats, VersionInfo
from dmg.core.cid import CID
from dmg.core.dxn import DXN
from dmg.core.errors import ConflictError, StoreError, WriteRaceError
from dmg.core.keys import PublicKey
from dmg.core.namelog import DXNLogState, LogHead, NamespaceState
from dmg.core.semver import Version
from dmg.core.tlog import MAX_ENTRY_SIZE, Frontier, NodeId, leaf_hash
from dmg.db.migrations import load_migrations, migrate
from dmg.db.sqlite import open_database
from dmg.store.base import Commit, ModulePage, ModuleQuery, SearchDocument

DATABASE_NAME: Final = "registry.sqlite3"
SEARCH_MIGRATION: Final = 2
TRANSPARENCY_MIGRATION: Final = 3
_SEARCH_WEIGHTS: Final = "10.0, 2.0, 4.0"
"""bm25 weights of name, description and functions: a word in the name counts most."""

_NODES_PER_QUERY: Final = 400
"""Tree nodes looked up per statement (two parameters each, well under SQLite's parameter limit)."""

_KEYS_PER_QUERY: Final = 500
"""Keys (CIDs, log names) looked up per statement, well under SQLite's parameter limit."""

KeyT = TypeVar("KeyT")


def _chunks(keys: list[KeyT]) -> Iterator[list[KeyT]]:
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        yield keys[start : start + _KEYS_PER_QUERY]


def _match_expression(words: list[str]) -> str | None:
    """The FTS5 expression for a query's words: every word quoted as a prefix term; None when it has none."""
    return " ".join(f'"{word}"*' for word in words) if words else None


def _head_cid(log: DXNLogState) -> bytes:
    assert log.head.cid is not None, f"{log.dxn}: a stored log has a head"
    return log.head.cid.bytes


class SQLiteStore:
    """A :class:`~dmg.store.base.Store` in ``<data_dir>/registry.sqlite3``."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    async def open(cls, data_dir: str | os.PathLike[str]) -> SQLiteStore:
        async def prepared(connection: aiosqlite.Connection, path: Path) -> SQLiteStore:
            store = cls(connection, path)
            await store._prepare()
            return store

        return await open_database(data_dir, DATABASE_NAME, prepared)

    async def _prepare(self) -> None:
        """Create the tables of a new file, migrate an older one (:mod:`dmg.db.migrations`)."""
        await migrate(
            self._db,
            self.path,
            load_migrations("dmg.store.sqlite"),
            {SEARCH_MIGRATION: self._index_released, TRANSPARENCY_MIGRATION: self._hash_entries},
        )

    async def _index_released(self, db: aiosqlite.Connection) -> None:
        """Migration 2's step: index every version released before search existed."""
        sql = "SELECT v.dxn, v.version, b.data FROM versions v JOIN blocks b ON b.cid = v.record"
        async with db.execute(sql) as cursor:
            rows = [(str(dxn), str(version), bytes(data)) async for dxn, version, data in cursor]
        await self._index([(dxn, version, SearchDocument.from_record_block(data)) for dxn, version, data in rows])

    async def _hash_entries(self, db: aiosqlite.Connection) -> None:
        """Migration 3's step: namespaces get a threshold (1, as before), and every stored entry becomes a leaf of
        the transparency log in acceptance order."""
        columns = [row[1] for row in await db.execute_fetchall("PRAGMA table_info(namespaces)")]
        if "threshold" not in columns:
            await db.execute("ALTER TABLE namespaces ADD COLUMN threshold INTEGER NOT NULL DEFAULT 1")
        await db.execute("DELETE FROM tlog_hashes")
        frontier = Frontier()
        nodes: list[tuple[NodeId, bytes]] = []
        sql = "SELECT e.position, b.data FROM entries e LEFT JOIN blocks b ON b.cid = e.cid ORDER BY e.position"
        async with db.execute(sql) as cursor:
            async for position, data in cursor:
                if position != frontier.size + 1:
                    raise StoreError(f"entry positions jump from {frontier.size} to {position}; run dmg fsck")
                if data is None or len(data) > MAX_ENTRY_SIZE:
                    raise StoreError(f"entry #{position} has no block of at most {MAX_ENTRY_SIZE} bytes")
                nodes.extend(frontier.append(leaf_hash(bytes(data))))
        await db.executemany("INSERT INTO tlog_hashes VALUES (?, ?, ?)", [(lv, ix, h) for (lv, ix), h in nodes])

    async def close(self) -> None:
        await self._db.close()

    # --- blocks -----------------------------------------------------------------------------------------------

    async def get_block(self, cid: CID) -> bytes | None:
        # execute_fetchall is one round trip to aiosqlite's thread, where execute + fetch + close are three;
        # on the serving path those hand-offs cost more than the query.
        rows = await self._db.execute_fetchall("SELECT data FROM blocks WHERE cid = ?", (cid.bytes,))
        return next((bytes(row[0]) for row in rows), None)

    async def has_blocks(self, cids: Iterable[CID]) -> set[CID]:
        wanted = {cid.bytes: cid for cid in cids}
        found: set[CID] = set()
        for chunk in _chunks(list(wanted)):
            marks = ",".join("?" * len(chunk))
            rows = await self._db.execute_fetchall(f"SELECT cid FROM blocks WHERE cid IN ({marks})", chunk)
            found.update(wanted[bytes(row[0])] for row in rows)
        return found

    async def has_entries(self, cids: Iterable[CID]) -> set[CID]:
        wanted = {cid.bytes: cid for cid in cids}
        found: set[CID] = set()
        for chunk in _chunks(list(wanted)):
            marks = ",".join("?" * len(chunk))
            rows = await self._db.execute_fetchall(f"SELECT cid FROM entries WHERE cid IN ({marks})", chunk)
            found.update(wanted[bytes(row[0])] for row in rows)
        return found

    async def iter_blocks(self) -> AsyncIterator[tuple[CID, bytes]]:
        async with self._db.execute("SELECT cid, data FROM blocks") as cursor:
            async for cid, data in cursor:
                yield CID(bytes(cid)), bytes(data)

    # --- entries ----------------------------------------------------------------------------------------------

    @staticmethod
    def _entry(row: Sequence[Any]) -> StoredEntry:
        position, cid, log, kind, seq, time = row
        return StoredEntry(int(position), CID(bytes(cid)), str(log), EntryKind(kind), int(seq), int(time))

    async def iter_entries(self) -> AsyncIterator[StoredEntry]:
        sql = "SELECT position, cid, log, kind, seq, time FROM entries ORDER BY position"
        async with self._db.execute(sql) as cursor:
            async for row in cursor:
                yield self._entry(row)

    async def entries_since(self, position: int, limit: int) -> list[tuple[StoredEntry, bytes]]:
        sql = (
            "SELECT e.position, e.cid, e.log, e.kind, e.seq, e.time, b.data FROM entries e "
            "JOIN blocks b ON b.cid = e.cid WHERE e.position > ? ORDER BY e.position LIMIT ?"
        )
        rows = await self._db.execute_fetchall(sql, (position, limit))
        return [(self._entry(row[:6]), bytes(row[6])) for row in rows]

    async def log_entries(self, log: str) -> list[StoredEntry]:
        sql = "SELECT position, cid, log, kind, seq, time FROM entries WHERE log = ? ORDER BY seq"
        async with self._db.execute(sql, (log,)) as cursor:
            return [self._entry(row) async for row in cursor]

    async def entry_blocks(self, first: int, count: int) -> list[bytes]:
        sql = (
            "SELECT e.position, b.data FROM entries e LEFT JOIN blocks b ON b.cid = e.cid "
            "WHERE e.position BETWEEN ? AND ? ORDER BY e.position"
        )
        rows = await self._db.execute_fetchall(sql, (first + 1, first + count))
        blocks = [bytes(data) for _, data in rows if data is not None]
        if len(blocks) != count:
            raise StoreError(f"entries {first} to {first + count - 1} are not all stored with their blocks")
        return blocks

    # --- transparency log -------------------------------------------------------------------------------------

    async def tree_size(self) -> int:
        rows = await self._db.execute_fetchall("SELECT coalesce(max(position), 0) FROM entries")
        return int(next(iter(rows))[0])

    async def tree_hashes(self, nodes: Sequence[NodeId]) -> list[bytes]:
        found: dict[NodeId, bytes] = {}
        for start in range(0, len(nodes), _NODES_PER_QUERY):
            chunk = nodes[start : start + _NODES_PER_QUERY]
            values = ",".join("(?, ?)" for _ in chunk)
            sql = (
                f"WITH wanted (level, idx) AS (VALUES {values}) "
                "SELECT t.level, t.idx, t.hash FROM wanted w JOIN tlog_hashes t ON t.level = w.level AND t.idx = w.idx"
            )
            rows = await self._db.execute_fetchall(sql, [number for node in chunk for number in node])
            found.update(((int(level), int(idx)), bytes(value)) for level, idx, value in rows)
        missing = next((node for node in nodes if node not in found), None)
        if missing is not None:
            raise StoreError(f"the transparency log has no hash at level {missing[0]}, index {missing[1]}")
        return [found[node] for node in nodes]

    # --- state ------------------------------------------------------------------------------------------------

    async def load_namespace(self, namespace: str) -> NamespaceState:
        return (await self.load_namespaces([namespace]))[namespace]

    async def load_namespaces(self, namespaces: Iterable[str]) -> dict[str, NamespaceState]:
        names = list(dict.fromkeys(namespaces))
        states = {name: NamespaceState(name) for name in names}
        heads: dict[str, tuple[LogHead, int]] = {}
        permissions: dict[str, dict[PublicKey, frozenset[str]]] = {}
        revoked: dict[str, set[PublicKey]] = {}
        for chunk in _chunks(names):
            # One round trip per chunk: the heads with their keys joined on (a claimed namespace has at least one).
            sql = (
                "SELECT n.namespace, n.head, n.seq, n.time, n.threshold, k.key, k.permissions, k.revoked "
                "FROM namespaces n LEFT JOIN namespace_keys k ON k.namespace = n.namespace "
                f"WHERE n.namespace IN ({','.join('?' * len(chunk))})"
            )
            for name, head, seq, time, threshold, key, granted, is_revoked in await self._db.execute_fetchall(
                sql, chunk
            ):
                if name not in heads:
                    heads[name] = LogHead(CID(bytes(head)), int(seq), int(time)), int(threshold)
                    permissions[name], revoked[name] = {}, set()
                if key is None:
                    continue
                public = PublicKey(bytes(key))
                if is_revoked:
                    revoked[name].add(public)
                else:
                    permissions[name][public] = frozenset(json.loads(granted))
        for name, (head, threshold) in heads.items():
            states[name] = NamespaceState(
                name, head, MappingProxyType(permissions[name]), frozenset(revoked[name]), threshold
            )
        return states

    async def load_dxn_log(self, dxn: DXN) -> DXNLogState:
        return (await self.load_dxn_logs([dxn]))[str(dxn)]

    async def load_dxn_logs(self, dxns: Iterable[DXN]) -> dict[str, DXNLogState]:
        wanted = {str(dxn): dxn for dxn in dxns}
        states = {name: DXNLogState(dxn) for name, dxn in wanted.items()}
        heads: dict[str, LogHead] = {}
        released: dict[str, dict[Version, CID]] = {}
        yanked: dict[str, dict[Version, str]] = {}
        for chunk in _chunks(list(wanted)):
            sql = (
                "SELECT l.dxn, l.head, l.seq, l.time, v.version, v.record, v.yanked, v.yank_reason "
                "FROM dxn_logs l LEFT JOIN versions v ON v.dxn = l.dxn "
                f"WHERE l.dxn IN ({','.join('?' * len(chunk))})"
            )
            for name, head, seq, time, version, record, is_yanked, reason in await self._db.execute_fetchall(
                sql, chunk
            ):
                if name not in heads:
                    heads[name] = LogHead(CID(bytes(head)), int(seq), int(time))
                    released[name], yanked[name] = {}, {}
                if version is None:
                    continue
                parsed = Version.parse(version)
                released[name][parsed] = CID(bytes(record))
                if is_yanked:
                    yanked[name][parsed] = reason
        for name, head in heads.items():
            states[name] = DXNLogState(
                wanted[name], head, MappingProxyType(released[name]), MappingProxyType(yanked[name])
            )
        return states

    @staticmethod
    def _version(row: Sequence[Any]) -> VersionInfo:
        dxn, version, record, entry, yanked, reason, published_at, publisher = row
        return VersionInfo(
            DXN.parse(str(dxn)),
            str(version),
            CID(bytes(record)),
            CID(bytes(entry)),
            bool(yanked),
            str(reason),
            int(published_at),
            str(publisher),
        )

    _VERSION_COLUMNS: Final = "dxn, version, record, entry, yanked, yank_reason, published_at, publisher"

    async def versions(self, dxn: DXN) -> list[VersionInfo]:
        sql = f"SELECT {self._VERSION_COLUMNS} FROM versions WHERE dxn = ?"
        rows = [self._version(row) for row in await self._db.execute_fetchall(sql, (str(dxn.base),))]
        return sorted(rows, key=lambda info: Version.parse(info.version))

    async def version(self, dxn: DXN, version: str) -> VersionInfo | None:
        sql = f"SELECT {self._VERSION_COLUMNS} FROM versions WHERE dxn = ? AND version = ?"
        rows = await self._db.execute_fetchall(sql, (str(dxn.base), version))
        return next((self._version(row) for row in rows), None)

    async def releases(self) -> list[VersionInfo]:
        sql = f"SELECT {self._VERSION_COLUMNS} FROM versions"
        rows = [self._version(row) for row in await self._db.execute_fetchall(sql)]
        return sorted(rows, key=lambda info: (str(info.dxn), info.parsed_version))

    async def namespaces(self) -> list[str]:
        rows = await self._db.execute_fetchall("SELECT namespace FROM namespaces ORDER BY namespace")
        return [str(row[0]) for row in rows]

    async def dxns(self, namespace: str | None = None) -> list[DXN]:
        if namespace is None:
            cursor = await self._db.execute("SELECT dxn FROM dxn_logs ORDER BY dxn")
        else:
            cursor = await self._db.execute("SELECT dxn FROM dxn_logs WHERE namespace = ? ORDER BY dxn", (namespace,))
        async with cursor:
            return [DXN.parse(row[0]) async for row in cursor]

    # --- search -----------------------------------------------------------------------------------------------

    @staticmethod
    def _filters(query: ModuleQuery) -> tuple[str, list[object]]:
        """SQL conditions on a ``dxn`` column for the exact filters of ``query``, and their parameters."""
        conditions: list[str] = []
        parameters: list[object] = []
        if query.namespace is not None:
            conditions.append("substr(dxn, 1, length(?) + 1) = ? || '/'")
            parameters += [query.namespace, query.namespace]
        if query.kind is not None:
            # The kind is the path segment right after the authority: compare "<kind>/" there.
            conditions.append("substr(dxn, instr(dxn, '/') + 1, length(?) + 1) = ? || '/'")
            parameters += [query.kind, query.kind]
        if query.api is not None:
            conditions.append("dxn IN (SELECT dxn FROM module_apis WHERE api = ?)")
            parameters.append(query.api)
        return " AND ".join(conditions) or "1", parameters

    async def search_modules(self, query: ModuleQuery) -> ModulePage:
        where, parameters = self._filters(query)
        expression = _match_expression(query.words)
        if expression is None:
            listing = f"SELECT dxn FROM dxn_logs WHERE {where}"
            page_sql = f"{listing} ORDER BY dxn LIMIT ? OFFSET ?"
            count_sql = f"SELECT count(*) FROM ({listing})"
            parameters_all = parameters
        else:
            # bm25() may not appear inside an aggregate, so the hits are materialised first, then grouped by module.
            hits = (
                f"WITH hits AS MATERIALIZED (SELECT dxn, bm25(module_text, {_SEARCH_WEIGHTS}) AS rank "
                "FROM module_text WHERE module_text MATCH ?) "
            )
            grouped = f"SELECT dxn FROM hits WHERE {where} GROUP BY dxn ORDER BY min(rank), dxn"
            page_sql = f"{hits}{grouped} LIMIT ? OFFSET ?"
            count_sql = f"{hits} SELECT count(DISTINCT dxn) FROM hits WHERE {where}"
            parameters_all = [expression, *parameters]
        async with self._db.execute(page_sql, [*parameters_all, query.limit, query.offset]) as cursor:
            dxns = [DXN.parse(row[0]) async for row in cursor]
        async with self._db.execute(count_sql, parameters_all) as cursor:
            row = await cursor.fetchone()
        return ModulePage(dxns, int(row[0]) if row else 0)

    async def _index(self, documents: list[tuple[str, str, SearchDocument]]) -> None:
        """Add released versions ``(dxn, version, document)`` to the full-text and API indexes."""
        await self._db.executemany(
            "INSERT INTO module_text (name, description, functions, dxn, version) VALUES (?, ?, ?, ?, ?)",
            [(doc.name, doc.description, doc.functions, dxn, version) for dxn, version, doc in documents],
        )
        await self._db.executemany(
            "INSERT OR IGNORE INTO module_apis VALUES (?, ?, ?)",
            [(dxn, version, api) for dxn, version, doc in documents for api in doc.apis],
        )

    # --- writing ----------------------------------------------------------------------------------------------

    async def _write_state(self, commit: Commit) -> None:
        db = self._db
        for state in commit.namespaces.values():
            assert state.head.cid is not None
            await db.execute(
                "INSERT OR REPLACE INTO namespaces (namespace, head, seq, time, threshold) VALUES (?, ?, ?, ?, ?)",
                (state.namespace, state.head.cid.bytes, state.head.seq, state.head.time, state.threshold),
            )
            await db.execute("DELETE FROM namespace_keys WHERE namespace = ?", (state.namespace,))
            rows = [
                (state.namespace, key.raw, json.dumps(sorted(granted)), 0) for key, granted in state.permissions.items()
            ] + [(state.namespace, key.raw, "[]", 1) for key in state.revoked]
            await db.executemany("INSERT INTO namespace_keys VALUES (?, ?, ?, ?)", rows)
        await db.executemany(
            "INSERT INTO versions (dxn, version, record, entry, published_at, publisher) VALUES (?, ?, ?, ?, ?, ?)",
            [(r.dxn, r.version, r.record.bytes, r.entry.bytes, r.time, r.publisher) for r in commit.releases],
        )
        logs = list(commit.dxn_logs.items())
        await db.executemany(
            "INSERT OR REPLACE INTO dxn_logs VALUES (?, ?, ?, ?, ?)",
            [(name, log.dxn.authority, _head_cid(log), log.head.seq, log.head.time) for name, log in logs],
        )
        await db.executemany(
            "UPDATE versions SET yanked = 0, yank_reason = '' WHERE dxn = ? AND yanked = 1", [(n,) for n, _ in logs]
        )
        await db.executemany(
            "UPDATE versions SET yanked = 1, yank_reason = ? WHERE dxn = ? AND version = ?",
            [(reason, name, str(version)) for name, log in logs for version, reason in log.yanked.items()],
        )

    async def commit(self, commit: Commit) -> int:
        db = self._db
        await db.execute("BEGIN IMMEDIATE")
        try:
            if commit.entries and await self.tree_size() != commit.tree_size:
                raise WriteRaceError("another writer appended to the log first; retry")
            inserted = await db.executemany(
                "INSERT OR IGNORE INTO blocks VALUES (?, ?)", [(c.bytes, d) for c, d in commit.blocks]
            )
            # executemany sums the rows each statement changed, and an ignored insert changes none.
            blocks_added = max(inserted.rowcount, 0)
            await db.executemany(
                "INSERT INTO entries (position, cid, log, kind, seq, time) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (commit.tree_size + offset + 1, entry.cid.bytes, entry.log, entry.kind, entry.seq, entry.time)
                    for offset, entry in enumerate(commit.entries)
                ],
            )
            await db.executemany(
                "INSERT INTO tlog_hashes VALUES (?, ?, ?)",
                [(level, index, value) for (level, index), value in commit.tree_nodes],
            )
            await self._write_state(commit)
            await self._index([(release.dxn, release.version, release.document) for release in commit.releases])
        except sqlite3.IntegrityError as exc:
            await db.execute("ROLLBACK")
            raise ConflictError(f"another writer extended the same log first ({exc}); retry") from exc
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")
        return blocks_added

    async def stats(self) -> StoreStats:
        async def scalar(sql: str) -> int:
            async with self._db.execute(sql) as cursor:
                row = await cursor.fetchone()
            return int(row[0] or 0) if row else 0

        return StoreStats(
            blocks=await scalar("SELECT count(*) FROM blocks"),
            block_bytes=await scalar("SELECT sum(length(data)) FROM blocks"),
            entries=await scalar("SELECT count(*) FROM entries"),
            namespaces=await scalar("SELECT count(*) FROM namespaces"),
            modules=await scalar("SELECT count(*) FROM dxn_logs"),
            versions=await scalar("SELECT count(*) FROM versions"),
        )
